import { afterEach, describe, expect, it } from 'vitest';
import { MemoryVerdictStore, TieredVerdictStore, VerdictCache, type CachedVerdict, type RedisEntry, type SharedVerdictStore } from '../../../src/verdict/index.js';
import { verdictStoreContract } from '../../support/verdict-store-contract.js';

/** A shared tier in memory whose reachability the test switches. */
class FakeShared implements SharedVerdictStore {
  state: 'up' | 'down' | 'connecting' = 'up';
  readonly data = new Map<string, RedisEntry>();
  calls = 0;
  failing = false;
  readonly expiresAt = new Map<string, number>();
  async getEntry(key: string): Promise<RedisEntry | undefined> {
    this.#call();
    const at = this.expiresAt.get(key);
    if (at !== undefined && at <= Date.now()) this.data.delete(key);
    return this.data.get(key);
  }
  async set(key: string, value: CachedVerdict, ttlMs?: number): Promise<void> {
    this.#call();
    const ttl = ttlMs || 150;
    this.data.set(key, { value, ttlMs: ttl });
    this.expiresAt.set(key, Date.now() + ttl);
  }
  async delete(key: string): Promise<boolean> {
    this.#call();
    return this.data.delete(key);
  }
  async close(): Promise<void> {}
  #call(): void {
    this.calls++;
    if (this.failing) throw new Error('ETIMEDOUT');
  }
}

const local = () => new MemoryVerdictStore({ maxBytes: 1024 * 1024, ttlMs: 150 });
verdictStoreContract('tiered (local tier)', () => new TieredVerdictStore(local(), new FakeShared()), { defaultTtlMs: 150 });

describe('TieredVerdictStore', () => {
  const block: CachedVerdict = { action: 'block', reason: 'card', violations: ['payment-card'] };
  let stores: TieredVerdictStore[] = [];
  const make = (shared: FakeShared) => {
    const s = new TieredVerdictStore(local(), shared);
    stores.push(s);
    return s;
  };
  afterEach(async () => {
    for (const s of stores) await s.close();
    stores = [];
  });

  it('shares a verdict written through one instance with another, and keeps it locally after', async () => {
    const shared = new FakeShared();
    const a = make(shared);
    const b = make(shared);
    await a.set('k', block);
    await a.close(); // waits for the write to the shared tier
    expect(await b.get('k')).toEqual(block);
    const calls = shared.calls;
    expect(await b.get('k')).toEqual(block);
    expect(shared.calls).toBe(calls);
    expect((await b.stats()).sharedHits).toBe(1);
  });

  it('takes the remaining TTL from the shared tier', async () => {
    const shared = new FakeShared();
    shared.data.set('k', { value: block, ttlMs: 30 });
    const s = make(shared);
    expect(await s.get('k')).toEqual(block);
    shared.data.clear();
    await new Promise((r) => setTimeout(r, 80));
    expect(await s.get('k')).toBeUndefined();
  });

  it('skips the shared tier while it is down and works locally', async () => {
    const shared = new FakeShared();
    shared.state = 'down';
    const s = make(shared);
    await s.set('k', block);
    expect(await s.get('k')).toEqual(block);
    expect(await s.get('other')).toBeUndefined();
    expect(shared.calls).toBe(0);
    expect(await s.stats()).toMatchObject({ shared: 'down', storeErrors: 0 });
  });

  it('counts failing shared commands and never throws them; the cache sums them', async () => {
    const shared = new FakeShared();
    shared.failing = true;
    const s = make(shared);
    const cache = new VerdictCache(s, 1000);
    const first = await cache.getOrScan('k', async () => ({ action: 'pass', violations: [], source: 'icap' }));
    expect(first.from).toBe('scan');
    await new Promise((r) => setImmediate(r)); // the shared write runs behind the exchange
    expect((await s.stats()).storeErrors).toBe(2); // the get and the write behind it
    expect((await cache.stats()).storeErrors).toBe(2);
    expect((await cache.getOrScan('k', async () => ({ action: 'block', violations: [], source: 'icap' }))).from).toBe('cache');
  });
});
