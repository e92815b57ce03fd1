// Picks the server for a transaction among a service's servers, after undici's balanced-pool.js:
// each server's configured weight is scaled by a score that every error lowers by `errorPenalty`
// and every success raises again (never below 1, never above `maxScore`), so a flaky server gets
// less traffic before health suspends it. The order is nginx's smooth weighted round-robin (no
// bursts to one server). Among the usable servers, one with a free connection is preferred to one
// whose pool is full (undici's kNeedDrain); when every pool is full, the full ones are picked too
// and the transaction queues there.

export interface BalancerEntry<T> {
  item: T;
  weight: number;
}

export interface BalancerOptions {
  /** score lost per error and regained per success (undici: 15) */
  errorPenalty?: number;
  /** score of a healthy server (undici: 100) */
  maxScore?: number;
}

interface Slot<T> {
  item: T;
  weight: number;
  score: number;
  current: number;
}

export class Balancer<T> {
  private readonly slots: Array<Slot<T>>;
  private readonly errorPenalty: number;
  private readonly maxScore: number;

  constructor(entries: Array<BalancerEntry<T>>, options: BalancerOptions = {}) {
    this.errorPenalty = options.errorPenalty ?? 15;
    this.maxScore = options.maxScore ?? 100;
    this.slots = entries.map((e) => ({ item: e.item, weight: Math.max(1, e.weight), score: this.maxScore, current: 0 }));
  }

  get size(): number {
    return this.slots.length;
  }

  /**
   * The next server among those `usable` says may take work (up, not yet tried); those `busy`
   * says have no free connection only when every usable one is busy. undefined: none usable.
   */
  pick(usable: (item: T) => boolean = () => true, busy: (item: T) => boolean = () => false): T | undefined {
    const open = this.slots.filter((s) => usable(s.item));
    if (open.length === 0) return undefined;
    const free = open.filter((s) => !busy(s.item));
    const candidates = free.length > 0 ? free : open;
    let total = 0;
    let best = candidates[0]!;
    for (const s of candidates) {
      const effective = s.weight * s.score;
      s.current += effective;
      total += effective;
      if (s.current > best.current) best = s;
    }
    best.current -= total;
    return best.item;
  }

  /** The outcome of a transaction on `item`: an error costs score, a success earns it back. */
  report(item: T, ok: boolean): void {
    const s = this.slots.find((x) => x.item === item);
    if (!s) return;
    s.score = ok ? Math.min(this.maxScore, s.score + this.errorPenalty) : Math.max(1, s.score - this.errorPenalty);
  }

  /** Current score of `item` (maxScore when healthy), for stats. */
  score(item: T): number {
    return this.slots.find((x) => x.item === item)?.score ?? 0;
  }
}
