// Verdict cache: the key (body hash · direction · service · ISTag · policy version), the store
// interface with its in-memory lru-cache implementation (bounded in bytes, with TTL), the shared
// Redis store with a local LRU in front (TieredVerdictStore), and the single-flight VerdictCache
// the pipeline calls: cache first, one scan per key at a time, only ICAP pass/block remembered.
// In cluster mode the primary holds the host's one store and single-flight (VerdictHub) and each
// worker reaches it over IPC through a small local LRU (IpcVerdictStore).
export { verdictKey, type VerdictKeyParts } from './verdict-key.js';
export type { CachedVerdict, ClaimResult, VerdictStore, VerdictStoreStats } from './verdict-store.js';
export { MemoryVerdictStore, type MemoryVerdictStoreOptions } from './memory-verdict-store.js';
// RedisVerdictStore itself is imported from its file, or made by createVerdictStore: not from here, so
// that importing verdict/ does not load ioredis
export type { RedisVerdictStoreOptions, RedisEntry } from './redis-verdict-store.js';
export { TieredVerdictStore, type SharedVerdictStore, type TieredVerdictStoreStats } from './tiered-verdict-store.js';
export { createSharedVerdictStore, createVerdictStore, type VerdictStoreConfig } from './create-verdict-store.js';
export { storeStateChannel, type StoreState, type StoreStateEvent } from './store-state.js';
export { VerdictCache, isCacheable, type CacheOutcome, type VerdictCacheStats } from './verdict-cache.js';
export { VerdictHub, type VerdictHubOptions, type VerdictHubStats } from './verdict-hub.js';
export { IpcVerdictStore, type IpcVerdictStoreOptions } from './ipc-verdict-store.js';
export type { VerdictAnswersMessage, VerdictOpsMessage } from './verdict-ipc-protocol.js';
