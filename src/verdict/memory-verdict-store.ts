// In-process verdict store on lru-cache, bounded by an approximate byte size (sizeCalculation)
// rather than an entry count, so the operator's `cache.maxBytes` means memory.
import { LRUCache } from 'lru-cache';
import type { CachedVerdict, VerdictStore, VerdictStoreStats } from './verdict-store.js';

export interface MemoryVerdictStoreOptions {
  /** 0 disables the store (nothing is kept) */
  maxBytes: number;
  /** default time to live; 0 = entries never expire, only LRU eviction removes them */
  ttlMs: number;
}

// JS strings are UTF-16 (2 bytes a code unit); ~100 bytes covers the entry's object headers
// and lru-cache's per-entry bookkeeping. An estimate, but a stable one: the bound holds.
const ENTRY_OVERHEAD_BYTES = 100;

export function entrySize(key: string, value: CachedVerdict): number {
  let chars = key.length + (value.reason?.length ?? 0);
  for (const v of value.violations) chars += v.length + 8;
  return ENTRY_OVERHEAD_BYTES + 2 * chars;
}

export class MemoryVerdictStore implements VerdictStore {
  private readonly lru: LRUCache<string, CachedVerdict> | undefined;
  private evictions = 0;

  constructor(options: MemoryVerdictStoreOptions) {
    if (options.maxBytes <= 0) return;
    this.lru = new LRUCache<string, CachedVerdict>({
      maxSize: options.maxBytes,
      sizeCalculation: (value, key) => entrySize(key, value),
      ...(options.ttlMs > 0 ? { ttl: options.ttlMs } : {}),
      dispose: (_value, _key, reason) => {
        if (reason === 'evict') this.evictions++;
      },
    });
  }

  async get(key: string): Promise<CachedVerdict | undefined> {
    return this.lru?.get(key);
  }

  /**
   * The entry with what remains of its time to live (0 = none), read synchronously: the cluster
   * primary answers a lookup and takes a claim in one turn, with no await between them.
   */
  entry(key: string): { value: CachedVerdict; ttlMs: number } | undefined {
    const value = this.lru?.get(key);
    if (!value) return undefined;
    const remaining = this.lru!.getRemainingTTL(key);
    return { value, ttlMs: Number.isFinite(remaining) ? Math.max(1, Math.ceil(remaining)) : 0 };
  }

  async set(key: string, value: CachedVerdict, ttlMs?: number): Promise<void> {
    this.write(key, value, ttlMs);
  }

  /** set(), synchronously */
  write(key: string, value: CachedVerdict, ttlMs?: number): void {
    this.lru?.set(key, value, ttlMs ? { ttl: ttlMs } : undefined);
  }

  async delete(key: string): Promise<boolean> {
    return this.remove(key);
  }

  /** delete(), synchronously */
  remove(key: string): boolean {
    return this.lru?.delete(key) ?? false;
  }

  async stats(): Promise<VerdictStoreStats> {
    return this.statsNow();
  }

  /** stats(), synchronously */
  statsNow(): VerdictStoreStats {
    if (!this.lru) return { entries: 0, bytes: 0, evictions: 0 };
    this.lru.purgeStale();
    return { entries: this.lru.size, bytes: this.lru.calculatedSize, evictions: this.evictions };
  }

  async close(): Promise<void> {
    this.lru?.clear();
  }
}
