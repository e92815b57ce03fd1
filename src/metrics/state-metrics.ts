// Metrics read from the modules' own stats() at scrape time (prom-client `collect`): verdict cache,
// ICAP pools and OPTIONS, certificate cache, spool, open sockets, alert queues. Counters that a
// module keeps itself (cache hits, certificate cache misses) are exported as counters holding the
// module's running total, so rate() works on them as on any other counter. In cluster mode the
// primary sums every worker's series; the gauges for which a sum would mislead name their own
// aggregator.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { StoreState } from './event-metrics.js';
import { registerIncidentMetrics, type IncidentMetricSource } from './incident-metrics.js';

/** What the metrics read; every source is optional so a partial app (or a test) can be measured. */
export interface MetricSources {
  cache?: { stats(): Promise<{ hits: number; misses: number; joins: number; inflight: number; storeErrors: number; entries: number; bytes: number; evictions: number }> };
  services?: ReadonlyMap<string, { icap: { stats(): Array<{ server: string; connected: number; idle: number; busy: number; queued: number }>; options(): Promise<{ fetchedAt: number }>; serverStates?(): Array<{ server: string; state: 'up' | 'suspended' }> } }>;
  ca?: { stats(): { hits: number; misses: number; issued: number; size: number } };
  spool?: () => { spools: number; memoryBytes: number; diskBytes: number; files: number };
  front?: { stats(): { openSockets: number; clientConnections: number } };
  alerts?: { stats(): Array<{ name: string; queued: number }> };
  /** the incident recorder (written, dropped, deleted, queue, store size) */
  incidents?: IncidentMetricSource;
  /** how long a scrape waits for an ICAP service's OPTIONS (fetched only when missing or expired) */
  optionsTimeoutMs?: number;
  /** the shared verdict store's last state before the metrics subscribed (later changes arrive as events) */
  verdictStore?: () => StoreState | undefined;
}

/**
 * One call per scrape however many metrics read it: prom-client calls every collect() in the same
 * synchronous pass, so the value is shared until the next turn of the event loop.
 */
function perScrape<T>(fn: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    if (!pending) {
      pending = fn();
      setImmediate(() => {
        pending = undefined;
      });
    }
    return pending;
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  return Promise.race([promise.catch(() => undefined), timeout]).finally(() => clearTimeout(timer));
}

export function registerStateMetrics(registry: Registry, sources: MetricSources): void {
  const registers = [registry];
  const { cache, services, ca, spool, front, alerts, incidents } = sources;
  if (incidents) registerIncidentMetrics(registry, incidents);

  if (cache) {
    const stats = perScrape(() => cache.stats());
    const total = (name: string, help: string, pick: (s: Awaited<ReturnType<typeof stats>>) => number) =>
      new Counter({
        name,
        help,
        registers,
        async collect() {
          this.reset();
          this.inc(pick(await stats()));
        },
      });
    const gauge = (name: string, help: string, pick: (s: Awaited<ReturnType<typeof stats>>) => number) =>
      new Gauge({
        name,
        help,
        registers,
        async collect() {
          this.set(pick(await stats()));
        },
      });
    total('dlp_proxy_verdict_cache_hits_total', 'Bodies whose verdict came from the cache (no ICAP transaction)', (s) => s.hits);
    total('dlp_proxy_verdict_cache_misses_total', 'Cache lookups that found nothing and led to an ICAP transaction', (s) => s.misses);
    total('dlp_proxy_verdict_cache_joins_total', 'Identical bodies that joined an ICAP transaction already in flight (single-flight)', (s) => s.joins);
    total('dlp_proxy_verdict_cache_evictions_total', 'Verdicts evicted to stay under cache.maxBytes', (s) => s.evictions);
    total('dlp_proxy_verdict_cache_store_errors_total', 'Verdict store failures (the body was scanned instead)', (s) => s.storeErrors);
    gauge('dlp_proxy_verdict_cache_entries', 'Verdicts held in the cache', (s) => s.entries);
    gauge('dlp_proxy_verdict_cache_bytes', 'Bytes the cached verdicts account for', (s) => s.bytes);
    gauge('dlp_proxy_verdict_cache_inflight', 'ICAP transactions other identical bodies may join', (s) => s.inflight);
  }

  if (services && services.size > 0) {
    const pools = () => [...services].flatMap(([service, s]) => s.icap.stats().map((p) => ({ service, ...p })));
    for (const field of ['connected', 'idle', 'busy', 'queued'] as const) {
      new Gauge({
        name: `dlp_proxy_icap_pool_${field}`,
        help: field === 'queued' ? 'Transactions waiting for an ICAP connection, per server' : `ICAP connections ${field === 'connected' ? 'open (idle + busy)' : field}, per server`,
        labelNames: ['service', 'server'],
        registers,
        collect() {
          this.reset();
          for (const p of pools()) this.set({ service: p.service, server: p.server }, p[field]);
        },
      });
    }
    const timeoutMs = sources.optionsTimeoutMs ?? 1000;
    // Served from each service's cached OPTIONS; fetched only when missing or past Options-TTL.
    const options = perScrape(() => Promise.all([...services].map(async ([service, s]) => ({ service, options: await withTimeout(s.icap.options(), timeoutMs) }))));
    new Gauge({
      name: 'dlp_proxy_icap_options_age_seconds',
      help: 'Age of the OPTIONS answer in use per service (RFC 3507 §4.10; refreshed at Options-TTL)',
      labelNames: ['service'],
      registers,
      // several workers: the stalest answer is the one an operator must see
      aggregator: 'max',
      async collect() {
        this.reset();
        const now = Date.now();
        for (const { service, options: o } of await options()) if (o) this.set({ service }, Math.max(0, (now - o.fetchedAt) / 1000));
      },
    });
    new Gauge({
      name: 'dlp_proxy_icap_server_up',
      help: 'ICAP server health per configured server: 1 up, 0 suspended after repeated failures',
      labelNames: ['service', 'server'],
      registers,
      // several workers track health each: 0 as soon as one of them has suspended the server
      aggregator: 'min',
      collect() {
        this.reset();
        for (const [service, s] of services) for (const state of s.icap.serverStates?.() ?? []) this.set({ service, server: state.server }, state.state === 'up' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'dlp_proxy_icap_service_up',
      help: 'Whether the service answered OPTIONS (1) or not within the scrape timeout (0)',
      labelNames: ['service'],
      registers,
      aggregator: 'min',
      async collect() {
        this.reset();
        for (const { service, options: o } of await options()) this.set({ service }, o ? 1 : 0);
      },
    });
  }

  if (ca) {
    new Counter({ name: 'dlp_proxy_ca_cert_cache_hits_total', help: 'Intercepted connections served a cached leaf certificate', registers, collect() { this.reset(); this.inc(ca.stats().hits); } });
    new Counter({ name: 'dlp_proxy_ca_cert_cache_misses_total', help: 'Intercepted connections that needed a new leaf certificate', registers, collect() { this.reset(); this.inc(ca.stats().misses); } });
    new Counter({ name: 'dlp_proxy_ca_certificates_issued_total', help: 'Leaf certificates issued', registers, collect() { this.reset(); this.inc(ca.stats().issued); } });
    new Gauge({ name: 'dlp_proxy_ca_cert_cache_entries', help: 'TLS contexts held in the certificate cache', registers, collect() { this.set(ca.stats().size); } });
  }

  if (spool) {
    new Gauge({ name: 'dlp_proxy_spool_memory_bytes', help: 'Body bytes held in RAM by unreleased spools', registers, collect() { this.set(spool().memoryBytes); } });
    new Gauge({ name: 'dlp_proxy_spool_disk_bytes', help: 'Body bytes in spool temp files', registers, collect() { this.set(spool().diskBytes); } });
    new Gauge({ name: 'dlp_proxy_spools', help: 'Spools not yet released', registers, collect() { this.set(spool().spools); } });
    new Gauge({ name: 'dlp_proxy_spool_files', help: 'Spool temp files open', registers, collect() { this.set(spool().files); } });
  }

  if (front) {
    new Gauge({ name: 'dlp_proxy_client_connections', help: 'Client TCP connections open on the proxy listener', registers, collect() { this.set(front.stats().clientConnections); } });
    new Gauge({ name: 'dlp_proxy_connect_sockets_open', help: 'Open sockets of CONNECT tunnels and intercepted TLS connections (client and origin side)', registers, collect() { this.set(front.stats().openSockets); } });
  }

  if (alerts) {
    new Gauge({
      name: 'dlp_proxy_alert_queue_length',
      help: 'Violation alerts waiting per webhook',
      labelNames: ['webhook'],
      registers,
      collect() {
        this.reset();
        for (const a of alerts.stats()) this.set({ webhook: a.name }, a.queued);
      },
    });
  }
}
