// The primary's view of a cluster's metrics, from real per-worker registries (createMetrics, fed
// by events and stats as in a worker): counters and histograms sum, gauges use their aggregator
// (OPTIONS age max, up gauges min, the rest sum), the primary's own process metrics join the same
// exposition, and counters never go backwards when a worker misses a scrape, is replaced or dies.
// Also the verdict store state gauge, fed by the channel verdict/ publishes on.
import { describe, expect, it } from 'vitest';
import { ClusterMetrics, createMetrics, monotonicSnapshot, type Metrics, type MetricSources } from '../../../src/metrics/index.js';
import { storeStateChannel } from '../../../src/verdict/index.js';
import { samples, type Labels } from '../../support/prometheus-text.js';

/** The value of one series in Prometheus text (undefined when absent). */
const series = (text: string, name: string, labels: Labels = {}): number | undefined => samples(text, name, labels)[0];

/** A worker's registry whose pool, OPTIONS and health stats are given. */
function worker(opts: { optionsAgeMs: number; serverUp: boolean; busy: number; cacheHits: number }): Metrics {
  const sources: MetricSources = {
    cache: { stats: async () => ({ hits: opts.cacheHits, misses: 1, joins: 0, inflight: 0, storeErrors: 0, entries: 5, bytes: 500, evictions: 0 }) },
    services: new Map([
      [
        'dlp',
        {
          icap: {
            stats: () => [{ server: 'a:1344', connected: opts.busy + 1, idle: 1, busy: opts.busy, queued: 0 }],
            options: async () => ({ fetchedAt: Date.now() - opts.optionsAgeMs }),
            serverStates: () => [{ server: 'a:1344', state: opts.serverUp ? ('up' as const) : ('suspended' as const) }],
          },
        },
      ],
    ]),
  };
  return createMetrics(sources);
}

describe('ClusterMetrics', () => {
  it('sums counters and histograms, aggregates gauges by their aggregator, and adds the primary process metrics', async () => {
    const w1 = worker({ optionsAgeMs: 10_000, serverUp: true, busy: 2, cacheHits: 7 });
    const w2 = worker({ optionsAgeMs: 90_000, serverUp: false, busy: 3, cacheHits: 5 });
    const cluster = new ClusterMetrics();
    try {
      const text = await cluster.text([
        { worker: 1, metrics: await w1.registry.getMetricsAsJSON() },
        { worker: 2, metrics: await w2.registry.getMetricsAsJSON() },
      ]);
      expect(series(text, 'dlp_proxy_verdict_cache_hits_total')).toBe(12);
      expect(series(text, 'dlp_proxy_verdict_cache_entries')).toBe(10);
      expect(series(text, 'dlp_proxy_icap_pool_busy', { service: 'dlp', server: 'a:1344' })).toBe(5);
      expect(series(text, 'dlp_proxy_icap_server_up', { service: 'dlp', server: 'a:1344' })).toBe(0); // min: one worker suspended it
      expect(series(text, 'dlp_proxy_icap_service_up', { service: 'dlp' })).toBe(1);
      expect(series(text, 'dlp_proxy_icap_options_age_seconds', { service: 'dlp' })).toBeGreaterThanOrEqual(90); // max: the stalest
      expect(series(text, 'dlp_proxy_icap_options_age_seconds', { service: 'dlp' })).toBeLessThan(100);
      expect(series(text, 'dlp_proxy_cluster_workers')).toBe(2);
      expect(series(text, 'dlp_proxy_cluster_workers_scraped')).toBe(2);
      // process metrics: two workers and the primary in one sum, each metric once
      const rss = series(text, 'dlp_proxy_process_resident_memory_bytes');
      expect(rss).toBeGreaterThan(3 * 10_000_000);
      expect(text.match(/^# TYPE dlp_proxy_process_resident_memory_bytes /gm)).toHaveLength(1);
      expect(text.match(/^dlp_proxy_nodejs_version_info\{/gm)).toHaveLength(1); // 'first', not a sum
    } finally {
      w1.close();
      w2.close();
    }
  });

  it('keeps counters from going backwards when a worker is silent, retires, or dies', async () => {
    const cluster = new ClusterMetrics();
    const w1 = worker({ optionsAgeMs: 0, serverUp: true, busy: 4, cacheHits: 10 });
    const w2 = worker({ optionsAgeMs: 0, serverUp: true, busy: 1, cacheHits: 20 });
    try {
      const snapshot = (m: Metrics) => m.registry.getMetricsAsJSON();
      let text = await cluster.text([
        { worker: 1, metrics: await snapshot(w1) },
        { worker: 2, metrics: await snapshot(w2) },
      ]);
      expect(series(text, 'dlp_proxy_verdict_cache_hits_total')).toBe(30);

      // worker 2 does not answer this scrape: its last counters stand in, its gauges are left out
      text = await cluster.text([
        { worker: 1, metrics: await snapshot(w1) },
        { worker: 2, metrics: undefined },
      ]);
      expect(series(text, 'dlp_proxy_verdict_cache_hits_total')).toBe(30);
      expect(series(text, 'dlp_proxy_icap_pool_busy', { service: 'dlp', server: 'a:1344' })).toBe(4);
      expect(series(text, 'dlp_proxy_cluster_workers_scraped')).toBe(1);

      // worker 1 drains and sends its final totals (counters only), then goes; worker 3 replaces it
      const final = worker({ optionsAgeMs: 0, serverUp: true, busy: 0, cacheHits: 15 });
      cluster.lastWords(1, await monotonicSnapshot(final.registry));
      final.close();
      cluster.workerGone(1);
      // worker 2 dies without a word: its last answer is what it counted
      cluster.workerGone(2);
      const w3 = worker({ optionsAgeMs: 0, serverUp: true, busy: 0, cacheHits: 1 });
      // a late answer of worker 1 (sent before it drained, read after it left) is not counted twice
      text = await cluster.text([
        { worker: 3, metrics: await snapshot(w3) },
        { worker: 1, metrics: await snapshot(w1) },
      ]);
      w3.close();
      expect(series(text, 'dlp_proxy_verdict_cache_hits_total')).toBe(15 + 20 + 1);
      expect(series(text, 'dlp_proxy_icap_pool_busy', { service: 'dlp', server: 'a:1344' })).toBe(0); // gauges of the gone are not carried
      expect(series(text, 'dlp_proxy_cluster_workers')).toBe(1);
      expect(series(text, 'dlp_proxy_cluster_workers_scraped')).toBe(1);
    } finally {
      w1.close();
      w2.close();
    }
  });

  it('reads only counters and histograms for a worker that has closed its parts', async () => {
    let optionsCalls = 0;
    const m = createMetrics({ services: new Map([['dlp', { icap: { stats: () => [], options: async () => (optionsCalls++, { fetchedAt: Date.now() }) } }]]) });
    try {
      const names = (await monotonicSnapshot(m.registry)).map((x) => String(x.type));
      expect(names.length).toBeGreaterThan(10);
      expect(new Set(names)).toEqual(new Set(['counter', 'histogram']));
      expect(optionsCalls).toBe(0);
    } finally {
      m.close();
    }
  });
});

describe('dlp_proxy_verdict_store_up', () => {
  it('starts from the state before the metrics existed and follows the store-state channel', async () => {
    const m = createMetrics({ verdictStore: () => ({ store: 'redis', state: 'up' }) });
    try {
      const up = async () => (await m.registry.getSingleMetric('dlp_proxy_verdict_store_up')!.get()).values.find((v) => v.labels.store === 'redis')?.value;
      expect(await up()).toBe(1);
      storeStateChannel.publish({ store: 'redis', state: 'down', url: 'redis://127.0.0.1:6379', error: 'ECONNREFUSED' });
      expect(await up()).toBe(0);
      storeStateChannel.publish({ store: 'redis', state: 'up', url: 'redis://127.0.0.1:6379' });
      expect(await up()).toBe(1);
    } finally {
      m.close();
    }
  });

  it('has no series without a shared store', async () => {
    const m = createMetrics();
    try {
      expect((await m.registry.getSingleMetric('dlp_proxy_verdict_store_up')!.get()).values).toEqual([]);
    } finally {
      m.close();
    }
  });
});
