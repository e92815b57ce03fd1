// Cache-first scanning with single-flight: concurrent exchanges carrying the same body (same key)
// make one store lookup and at most one scan; the others join it. Only a pass or block that came
// from ICAP is stored: a replace carries a body the cache does not keep, and a failure (or a
// fail-open/fail-closed verdict) must be retried by the next exchange, never remembered. A joiner
// shares the leader's failure, which is not cached either; a joiner whose leader got a replace
// scans for itself, since the adapted body belongs to the leader's exchange. With a store shared by
// several processes (the cluster primary's, over IPC) the lookup also claims the key host-wide, so
// identical bodies on two workers make one scan too; a claim that ends without a cacheable
// verdict is released, and the next process waiting for the key scans it.
import type { Verdict } from '../core/types.js';
import type { CachedVerdict, ClaimResult, VerdictStore } from './verdict-store.js';

export interface VerdictCacheStats {
  hits: number;
  misses: number;
  joins: number;
  /** scans running now */
  inflight: number;
  /** store get/set failures (a failing store degrades to scanning, it never fails the exchange) */
  storeErrors: number;
  entries: number;
  bytes: number;
  evictions: number;
}

export interface CacheOutcome {
  verdict: Verdict;
  from: 'cache' | 'scan' | 'joined';
}

export class VerdictCache {
  private readonly inflight = new Map<string, Promise<Verdict>>();
  private hits = 0;
  private misses = 0;
  private joins = 0;
  private storeErrors = 0;

  constructor(
    private readonly store: VerdictStore,
    private readonly ttlMs?: number,
  ) {}

  /**
   * The verdict for `key`: from the store, from a scan already running for the same key, or from
   * `scan()`. Every caller gets the verdict object of the first: treat it as read-only.
   */
  async getOrScan(key: string, scan: () => Promise<Verdict>): Promise<CacheOutcome> {
    const running = this.inflight.get(key);
    if (running) {
      this.joins++;
      const shared = await running;
      // Only a completed scan is shared (a pass the leader's server gave for its name or type, a
      // fail-open, is the leader's alone); a replace comes with the leader's adapted body.
      if (isCacheable(shared) || (shared.source === 'cache' && shared.action !== 'replace')) return { verdict: shared, from: 'joined' };
      return { verdict: await scan(), from: 'scan' };
    }
    let from: CacheOutcome['from'] = 'scan';
    const leader = (async (): Promise<Verdict> => {
      const found = await this.lookup(key);
      if (found.value) {
        // another process's scan of the same body that this one waited for is a join, not a hit
        if (found.waited) this.joins++;
        else this.hits++;
        from = found.waited ? 'joined' : 'cache';
        const cached = found.value;
        return { action: cached.action, ...(cached.reason === undefined ? {} : { reason: cached.reason }), violations: cached.violations, source: 'cache' };
      }
      this.misses++;
      let verdict: Verdict;
      try {
        verdict = await scan();
      } catch (err) {
        if (found.claimed) this.store.release?.(key);
        throw err;
      }
      // remember() of a cacheable verdict ends the claim with it; anything else hands it on
      if (isCacheable(verdict)) await this.remember(key, verdict);
      else if (found.claimed) this.store.release?.(key);
      return verdict;
    })();
    this.inflight.set(key, leader);
    try {
      const verdict = await leader;
      return { verdict, from };
    } finally {
      this.inflight.delete(key);
    }
  }

  async stats(): Promise<VerdictCacheStats> {
    const store = this.store.processStats ? this.store.processStats() : await this.store.stats();
    const { storeErrors = 0, ...sizes } = store;
    return { hits: this.hits, misses: this.misses, joins: this.joins, inflight: this.inflight.size, storeErrors: this.storeErrors + storeErrors, ...sizes };
  }

  /** The store's answer, claiming the key on a miss when the store is shared by several processes. */
  private async lookup(key: string): Promise<ClaimResult> {
    try {
      if (this.store.claim) return await this.store.claim(key);
      // one shape for every answer (value undefined on a miss): the reads after stay monomorphic
      return { value: await this.store.get(key), claimed: false, waited: false };
    } catch {
      this.storeErrors++;
      return { value: undefined, claimed: false, waited: false };
    }
  }

  /**
   * Remember a verdict reached outside getOrScan (a body streamed to ICAP before its hash was
   * known); only cacheable verdicts are kept.
   */
  async remember(key: string, verdict: Verdict): Promise<void> {
    if (!isCacheable(verdict)) return;
    const value: CachedVerdict = { action: verdict.action as CachedVerdict['action'], violations: [...verdict.violations] };
    if (verdict.reason !== undefined) value.reason = verdict.reason;
    try {
      await this.store.set(key, value, this.ttlMs);
    } catch {
      this.storeErrors++;
    }
  }
}

/** A verdict the cache may keep: a pass or block that an ICAP server gave. */
export function isCacheable(verdict: Verdict): boolean {
  return verdict.source === 'icap' && (verdict.action === 'pass' || verdict.action === 'block');
}
