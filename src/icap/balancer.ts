// Picks the server for a transaction: smooth weighted round-robin (nginx's algorithm) over the
// servers not marked down, and a short penalty after a failure. The seam for the full balancer
// (health probes, suspension, least-busy) to replace: pick() and report() are all callers use.

export interface BalancerEntry<T> {
  item: T;
  weight: number;
}

export class WeightedBalancer<T> {
  private readonly entries: Array<{ item: T; weight: number; current: number; downUntil: number }>;
  private readonly downMs: number;

  constructor(entries: Array<BalancerEntry<T>>, options: { downMs?: number } = {}) {
    this.entries = entries.map((e) => ({ item: e.item, weight: Math.max(1, e.weight), current: 0, downUntil: 0 }));
    this.downMs = options.downMs ?? 2000;
  }

  get size(): number {
    return this.entries.length;
  }

  /** Next server, skipping `exclude` (already tried); down servers only when nothing else is left. */
  pick(exclude: ReadonlySet<T> = new Set(), now = Date.now()): T | undefined {
    const open = this.entries.filter((e) => !exclude.has(e.item));
    if (open.length === 0) return undefined;
    const up = open.filter((e) => e.downUntil <= now);
    if (up.length === 0) return open.reduce((a, b) => (a.downUntil <= b.downUntil ? a : b)).item;
    let total = 0;
    let best = up[0]!;
    for (const e of up) {
      e.current += e.weight;
      total += e.weight;
      if (e.current > best.current) best = e;
    }
    best.current -= total;
    return best.item;
  }

  report(item: T, ok: boolean, now = Date.now()): void {
    const e = this.entries.find((x) => x.item === item);
    if (e) e.downUntil = ok ? 0 : now + this.downMs;
  }
}
