// Prometheus metrics (prom-client), every name dlp_proxy_*: counters and histograms fed by the
// pipeline's lifecycle events and the ICAP, CA, spool, alert and verdict-store channels, gauges
// read from the modules' stats() at scrape time, and Node's default metrics. Labels come only from
// fixed sets (directions, actions, codes, configured names), never from hosts or users. The admin
// listener (src/admin) serves the text on /metrics; in cluster mode ClusterMetrics, in the
// primary, aggregates every worker's registry into that one text.
export { createMetrics, type Metrics } from './metrics.js';
export type { MetricSources } from './state-metrics.js';
export { registerIncidentMetrics, type IncidentMetricSource } from './incident-metrics.js';
export { CHANNELS as METRIC_CHANNELS, type StoreState } from './event-metrics.js';
export { ClusterMetrics, monotonicSnapshot, type MetricsSnapshot, type WorkerAnswer } from './cluster-metrics.js';
