// A local LRU in front of the shared Redis store. Reads try the local tier first, then Redis
// (and keep what Redis had locally, no longer than Redis would); writes land locally at once and
// go to Redis without holding the exchange. While Redis is down the shared tier is skipped
// outright, so traffic runs on the local tier alone at local speed; a failing Redis command is
// counted (storeErrors), never thrown: the store degrades, it does not fail the exchange.
import type { RedisEntry } from './redis-verdict-store.js';
import type { CachedVerdict, VerdictStore, VerdictStoreStats } from './verdict-store.js';

/** What the tiered store needs of the shared tier (RedisVerdictStore, or a test double). */
export interface SharedVerdictStore {
  readonly state: 'up' | 'down' | 'connecting';
  getEntry(key: string): Promise<RedisEntry | undefined>;
  set(key: string, value: CachedVerdict, ttlMs?: number): Promise<void>;
  delete(key: string): Promise<boolean>;
  close(): Promise<void>;
}

export interface TieredVerdictStoreStats extends VerdictStoreStats {
  /** shared-tier commands that failed or timed out */
  storeErrors: number;
  /** local misses answered by the shared tier */
  sharedHits: number;
  shared: 'up' | 'down' | 'connecting';
}

export class TieredVerdictStore implements VerdictStore {
  readonly #local: VerdictStore;
  readonly #shared: SharedVerdictStore;
  /** writes to the shared tier still running; each is bounded by the command timeout */
  readonly #writes = new Set<Promise<void>>();
  #storeErrors = 0;
  #sharedHits = 0;

  constructor(local: VerdictStore, shared: SharedVerdictStore) {
    this.#local = local;
    this.#shared = shared;
  }

  async get(key: string): Promise<CachedVerdict | undefined> {
    const local = await this.#local.get(key);
    if (local || this.#shared.state !== 'up') return local;
    let entry: RedisEntry | undefined;
    try {
      entry = await this.#shared.getEntry(key);
    } catch {
      this.#storeErrors++;
      return undefined;
    }
    if (!entry) return undefined;
    this.#sharedHits++;
    await this.#local.set(key, entry.value, entry.ttlMs);
    return entry.value;
  }

  async set(key: string, value: CachedVerdict, ttlMs?: number): Promise<void> {
    await this.#local.set(key, value, ttlMs);
    if (this.#shared.state !== 'up') return;
    const write = this.#shared.set(key, value, ttlMs).then(
      () => undefined,
      () => void this.#storeErrors++,
    );
    this.#writes.add(write);
    void write.finally(() => this.#writes.delete(write));
  }

  async delete(key: string): Promise<boolean> {
    const local = await this.#local.delete(key);
    if (this.#shared.state !== 'up') return local;
    try {
      return (await this.#shared.delete(key)) || local;
    } catch {
      this.#storeErrors++;
      return local;
    }
  }

  /** The local tier's size (what this process holds) with the shared tier's health. */
  async stats(): Promise<TieredVerdictStoreStats> {
    return { ...(await this.#local.stats()), storeErrors: this.#storeErrors, sharedHits: this.#sharedHits, shared: this.#shared.state };
  }

  /** Let pending shared writes finish (each bounded by its timeout), then close both tiers. */
  async close(): Promise<void> {
    await Promise.all(this.#writes);
    await this.#shared.close();
    await this.#local.close();
  }
}
