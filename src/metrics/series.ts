// Series handles for the per-exchange metrics. prom-client validates and hashes the labels on every
// inc() and observe() (about 5 µs an exchange for the nine updates of a scanned upload, measured
// in a loop); a handle does that once per label combination, through prom-client itself, and then
// adds to prom-client's own entry for that series. What /metrics, getMetricsAsJSON and the cluster
// aggregation read is therefore exactly what prom-client would hold. A handle whose entry is no
// longer in the metric's table (reset(), remove()) goes through prom-client again.
import type { Counter, Histogram, LabelValues } from 'prom-client';

interface CounterEntry {
  value: number;
  labels: object;
}
interface HistogramEntry {
  sum: number;
  count: number;
  bucketValues: Record<number, number>;
  labels: object;
}
/** prom-client's storage of a labelled metric: series by label hash (lib/counter.js, lib/histogram.js) */
interface Stored<E> {
  hashMap: Record<string, E>;
  upperBounds?: readonly number[];
}

/** The key under which prom-client stored the series for `labels` (the object it was given). */
function keyOf(map: Record<string, { labels: object }>, labels: object): string | undefined {
  for (const key in map) if (map[key]!.labels === labels) return key;
  return undefined;
}

/** A series' entry in prom-client's table, found once prom-client itself has made it. */
abstract class Series<E extends { labels: object }> {
  readonly #stored: Stored<E>;
  protected readonly labels: LabelValues<string>;
  #key: string | undefined;
  #entry: E | undefined;

  constructor(metric: Counter<string> | Histogram<string>, labels: LabelValues<string>) {
    this.#stored = metric as unknown as Stored<E>;
    this.labels = labels;
  }

  /** The entry, while the metric's table still holds it (reset() and remove() replace it). */
  protected entry(): E | undefined {
    const entry = this.#entry;
    return entry !== undefined && this.#stored.hashMap[this.#key!] === entry ? entry : undefined;
  }

  /** After prom-client took an update itself: its entry for these labels, for the next ones. */
  protected found(): void {
    const map = this.#stored.hashMap;
    this.#key = keyOf(map, this.labels);
    this.#entry = this.#key === undefined ? undefined : map[this.#key];
  }
}

export class CounterSeries extends Series<CounterEntry> {
  readonly #metric: Counter<string>;

  constructor(metric: Counter<string>, labels: LabelValues<string>) {
    super(metric, labels);
    this.#metric = metric;
  }

  inc(value = 1): void {
    const entry = this.entry();
    if (entry !== undefined && Number.isFinite(value) && value >= 0) {
      entry.value += value;
      return;
    }
    this.#metric.inc(this.labels, value);
    this.found();
  }
}

export class HistogramSeries extends Series<HistogramEntry> {
  readonly #metric: Histogram<string>;
  readonly #bounds: readonly number[];

  constructor(metric: Histogram<string>, labels: LabelValues<string>) {
    super(metric, labels);
    this.#metric = metric;
    this.#bounds = (metric as unknown as Stored<HistogramEntry>).upperBounds!;
  }

  observe(value: number): void {
    const entry = this.entry();
    if (entry !== undefined && Number.isFinite(value)) {
      // as prom-client's observe(): the first bound at or above the value; above them all, +Inf only
      const bounds = this.#bounds;
      for (let i = 0; i < bounds.length; i++) {
        if (value <= bounds[i]!) {
          entry.bucketValues[bounds[i]!]! += 1;
          break;
        }
      }
      entry.sum += value;
      entry.count += 1;
      return;
    }
    this.#metric.observe(this.labels, value);
    this.found();
  }
}

/**
 * Handles by label values, made on first use: each label value comes from a fixed set (directions,
 * actions, configured names, status classes), so the table stays small. Up to four labels, looked
 * up level by level (no key string built per update).
 */
export class SeriesTable<S> {
  readonly #root = new Map<string, unknown>();
  readonly #make: (values: string[]) => S;
  readonly #depth: number;

  constructor(depth: 1 | 2 | 3 | 4, make: (values: string[]) => S) {
    this.#depth = depth;
    this.#make = make;
  }

  get(a: string, b = '', c = '', d = ''): S {
    let level = this.#root;
    const depth = this.#depth;
    for (let i = 0; i < depth - 1; i++) {
      const value = i === 0 ? a : i === 1 ? b : c;
      let next = level.get(value) as Map<string, unknown> | undefined;
      if (next === undefined) {
        next = new Map();
        level.set(value, next);
      }
      level = next;
    }
    const last = depth === 1 ? a : depth === 2 ? b : depth === 3 ? c : d;
    let series = level.get(last) as S | undefined;
    if (series === undefined) {
      series = this.#make([a, b, c, d].slice(0, depth));
      level.set(last, series);
    }
    return series;
  }
}
