// Series handles write into prom-client's own entries: for any sequence of updates, a registry fed
// through handles reads (text and JSON) exactly as one fed by prom-client's inc() and observe(),
// including after reset(), for values above every bucket, and for increments of zero; a value
// prom-client refuses is refused the same way.
import fc from 'fast-check';
import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { CounterSeries, HistogramSeries, SeriesTable } from '../../../src/metrics/series.js';

const BUCKETS = [0.001, 0.01, 0.1, 1, 10];

function metrics() {
  const registry = new Registry();
  const counter = new Counter({ name: 't_total', help: 'h', labelNames: ['direction', 'action'], registers: [registry] });
  const histogram = new Histogram({ name: 't_seconds', help: 'h', labelNames: ['service', 'method'], buckets: BUCKETS, registers: [registry] });
  return { registry, counter, histogram };
}

type Step = { kind: 'inc'; direction: string; action: string; by: number } | { kind: 'observe'; service: string; method: string; value: number } | { kind: 'reset' };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('inc' as const), direction: fc.constantFrom('upload', 'download'), action: fc.constantFrom('pass', 'block', 'scan'), by: fc.oneof(fc.constant(1), fc.constant(0), fc.integer({ min: 1, max: 1 << 20 })) }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('observe' as const), service: fc.constantFrom('dlp', 'av'), method: fc.constantFrom('REQMOD', 'RESPMOD'), value: fc.oneof(fc.constantFrom(0, 0.001, 0.01, 10, 11, 1e6), fc.double({ min: 0, max: 20, noNaN: true })) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reset' as const }) },
);

describe('series handles', () => {
  it('read exactly as prom-client fed directly, for any sequence of updates', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 60 }), async (steps) => {
        const direct = metrics();
        const viaHandles = metrics();
        const counters = new SeriesTable(2, ([direction, action]) => new CounterSeries(viaHandles.counter, { direction, action }));
        const histograms = new SeriesTable(2, ([service, method]) => new HistogramSeries(viaHandles.histogram, { service, method }));
        for (const s of steps) {
          if (s.kind === 'inc') {
            direct.counter.inc({ direction: s.direction, action: s.action }, s.by);
            counters.get(s.direction, s.action).inc(s.by);
          } else if (s.kind === 'observe') {
            direct.histogram.observe({ service: s.service, method: s.method }, s.value);
            histograms.get(s.service, s.method).observe(s.value);
          } else {
            direct.registry.resetMetrics();
            viaHandles.registry.resetMetrics();
          }
        }
        expect(await viaHandles.registry.metrics()).toBe(await direct.registry.metrics());
        expect(await viaHandles.registry.getMetricsAsJSON()).toEqual(await direct.registry.getMetricsAsJSON());
      }),
      { numRuns: 200 },
    );
  });

  it('one handle per label combination, made on first use', () => {
    const { counter } = metrics();
    let made = 0;
    const table = new SeriesTable(2, ([direction, action]) => (made++, new CounterSeries(counter, { direction, action })));
    expect(table.get('upload', 'pass')).toBe(table.get('upload', 'pass'));
    expect(table.get('upload', 'block')).not.toBe(table.get('upload', 'pass'));
    expect(table.get('download', 'pass')).not.toBe(table.get('upload', 'pass'));
    expect(made).toBe(3);
  });

  it('refuses what prom-client refuses (a negative increment, a non-finite observation) and takes what it takes', async () => {
    const direct = metrics();
    const viaHandles = metrics();
    const c = new CounterSeries(viaHandles.counter, { direction: 'upload', action: 'pass' });
    const h = new HistogramSeries(viaHandles.histogram, { service: 'dlp', method: 'REQMOD' });
    for (const [counter, histogram] of [
      [(n?: number) => direct.counter.inc({ direction: 'upload', action: 'pass' }, n), (v: number) => direct.histogram.observe({ service: 'dlp', method: 'REQMOD' }, v)],
      [(n?: number) => c.inc(n), (v: number) => h.observe(v)],
    ] as const) {
      counter();
      histogram(0.5);
      expect(() => counter(-1)).toThrow();
      expect(() => histogram(Number.POSITIVE_INFINITY)).toThrow();
      expect(() => histogram(Number.NaN)).toThrow();
      counter(Number.NaN); // prom-client takes it (its check is `value && !isFinite`): so do handles
    }
    expect(await viaHandles.registry.metrics()).toBe(await direct.registry.metrics());
  });
});
