// Verdict cache: the key (body hash · direction · service · ISTag · policy version), the store
// interface with its in-memory lru-cache implementation (bounded in bytes, with TTL), the shared
// Redis store with a local LRU in front (TieredVerdictStore), and the single-flight VerdictCache
// the pipeline calls: cache first, one scan per key at a time, only ICAP pass/block remembered.
export { verdictKey, type VerdictKeyParts } from './verdict-key.js';
export type { CachedVerdict, VerdictStore, VerdictStoreStats } from './verdict-store.js';
export { MemoryVerdictStore, type MemoryVerdictStoreOptions } from './memory-verdict-store.js';
export { RedisVerdictStore, type RedisVerdictStoreOptions, type RedisEntry } from './redis-verdict-store.js';
export { TieredVerdictStore, type SharedVerdictStore, type TieredVerdictStoreStats } from './tiered-verdict-store.js';
export { createVerdictStore, type VerdictStoreConfig } from './create-verdict-store.js';
export { storeStateChannel, type StoreState, type StoreStateEvent } from './store-state.js';
export { VerdictCache, isCacheable, type CacheOutcome, type VerdictCacheStats } from './verdict-cache.js';
