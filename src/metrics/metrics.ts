// One prom-client registry per app (tests run several apps in one process): the event-fed
// counters, the stats read at scrape time, and Node's default metrics, all named dlp_proxy_*.
import { collectDefaultMetrics, Registry } from 'prom-client';
import { subscribeEventMetrics } from './event-metrics.js';
import { registerStateMetrics, type MetricSources } from './state-metrics.js';

export interface Metrics {
  registry: Registry;
  /** The Prometheus text exposition of every metric. */
  text(): Promise<string>;
  /** Stop listening to the events (the registry keeps its last values). */
  close(): void;
}

export function createMetrics(sources: MetricSources = {}): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'dlp_proxy_' });
  const unsubscribe = subscribeEventMetrics(registry, sources.verdictStore?.());
  registerStateMetrics(registry, sources);
  return { registry, text: () => registry.metrics(), close: unsubscribe };
}
