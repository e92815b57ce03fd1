// Cluster mode: one /metrics for the machine, served by the primary. Each worker's registry arrives
// as prom-client JSON (Registry#getMetricsAsJSON over the cluster IPC channel) and is merged with
// the primary's own process metrics by prom-client's AggregatorRegistry.aggregate, each metric by
// its `aggregator` (counters and histograms sum; gauges sum unless they say otherwise: OPTIONS age
// max, "up" gauges min). Counters must never go backwards for Prometheus' rate(), so a worker that
// is replaced (reload), dies, or misses a scrape still contributes its counters and histograms:
// departed workers' last totals are folded into a carried-over sum, and a silent worker's last
// answer stands in for it.
import { AggregatorRegistry, collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { subscribeEmailMetrics } from './event-metrics.js';

/** A registry's metrics as prom-client JSON: what travels over IPC. */
export type MetricsSnapshot = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;
type SnapshotMetric = MetricsSnapshot[number];

const MONOTONIC = new Set(['counter', 'histogram']);

/** The counters and histograms of a snapshot (what stays true of a worker once it is gone). */
export function monotonicPart(snapshot: MetricsSnapshot): MetricsSnapshot {
  return snapshot.filter((m) => MONOTONIC.has(String(m.type)));
}

/**
 * The counters and histograms of a registry, read without running any gauge's collect(): a worker
 * calls this after its app closed, when reading a gauge could reopen what was closed (an ICAP
 * service's OPTIONS fetch restarts its probes).
 */
export async function monotonicSnapshot(registry: Registry): Promise<MetricsSnapshot> {
  const metrics = registry.getMetricsAsArray().filter((m) => m instanceof Counter || m instanceof Histogram);
  return (await Promise.all(metrics.map((m) => m.get()))) as MetricsSnapshot;
}

/** One worker's answer to a scrape, or undefined when it did not answer in time. */
export interface WorkerAnswer {
  worker: number;
  metrics: MetricsSnapshot | undefined;
}

export class ClusterMetrics {
  /** the primary's own metrics: Node and process metrics, and the cluster gauges */
  readonly registry = new Registry();
  readonly contentType = this.registry.contentType;
  /** each current worker's last answer */
  readonly #last = new Map<number, MetricsSnapshot>();
  /** counters and histograms of workers that are gone, summed per series */
  readonly #carried = new Map<string, SnapshotMetric>();
  /** ids of workers already folded into #carried (node:cluster never reuses an id) */
  readonly #departed = new Set<number>();
  readonly #workers: Gauge;
  readonly #answered: Gauge;
  readonly #unsubscribe: () => void;

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'dlp_proxy_' });
    const registers = [this.registry];
    this.#workers = new Gauge({ name: 'dlp_proxy_cluster_workers', help: 'Worker processes serving the proxy port or draining (cluster mode)', registers });
    this.#answered = new Gauge({ name: 'dlp_proxy_cluster_workers_scraped', help: 'Workers that answered this scrape in time (the others count with their last answer)', registers });
    // the alert mails go out from the primary: their counters are its own
    this.#unsubscribe = subscribeEmailMetrics(this.registry);
  }

  /** Stop counting the primary's own events (the registry keeps its last values). */
  close(): void {
    this.#unsubscribe();
  }

  /**
   * The Prometheus text for the whole machine. `answers` are the current workers' replies to this
   * scrape; a worker that did not answer contributes the counters of its previous answer.
   */
  async text(answers: readonly WorkerAnswer[]): Promise<string> {
    const current = answers.filter((a) => !this.#departed.has(a.worker));
    this.#workers.set(current.length);
    this.#answered.set(current.filter((a) => a.metrics).length);
    // Everything after this await runs in one synchronous pass: a worker cannot be folded into
    // the carried totals meanwhile and be counted a second time by its live answer.
    const own = await this.registry.getMetricsAsJSON();
    const parts: MetricsSnapshot[] = [own, [...this.#carried.values()]];
    for (const { worker, metrics } of answers) {
      if (this.#departed.has(worker)) continue;
      if (metrics) this.#last.set(worker, metrics);
      const last = metrics ?? this.#last.get(worker);
      if (last) parts.push(metrics ? last : monotonicPart(last));
    }
    return AggregatorRegistry.aggregate(parts).metrics();
  }

  /** A worker's final totals, sent as it exits after draining (replaces its last answer). */
  lastWords(worker: number, metrics: MetricsSnapshot): void {
    if (!this.#departed.has(worker)) this.#last.set(worker, metrics);
  }

  /** The worker exited: keep its counters and histograms in the carried-over sum. */
  workerGone(worker: number): void {
    const last = this.#last.get(worker);
    this.#last.delete(worker);
    this.#departed.add(worker);
    if (last) this.#carry(monotonicPart(last));
  }

  #carry(snapshot: MetricsSnapshot): void {
    for (const metric of snapshot) {
      const held = this.#carried.get(metric.name);
      if (!held) {
        this.#carried.set(metric.name, { ...metric, values: metric.values.map((v) => ({ ...v })) });
        continue;
      }
      const byKey = new Map(held.values.map((v) => [seriesKey(v), v]));
      for (const v of metric.values) {
        const same = byKey.get(seriesKey(v));
        if (same) same.value += v.value;
        else held.values.push({ ...v });
      }
    }
  }
}

function seriesKey(v: { labels: Record<string, unknown>; metricName?: string }): string {
  const labels = Object.keys(v.labels)
    .sort()
    .map((k) => `${k}=${String(v.labels[k])}`)
    .join(',');
  return `${v.metricName ?? ''}{${labels}}`;
}
