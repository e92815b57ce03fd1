// Verdict cache: the key (body hash · direction · service · ISTag · policy version), the store
// interface with its in-memory lru-cache implementation (bounded in bytes, with TTL), and the
// single-flight VerdictCache the pipeline calls: cache first, one scan per key at a time, only
// ICAP pass/block verdicts remembered.
export { verdictKey, type VerdictKeyParts } from './verdict-key.js';
export type { CachedVerdict, VerdictStore, VerdictStoreStats } from './verdict-store.js';
export { MemoryVerdictStore, type MemoryVerdictStoreOptions } from './memory-verdict-store.js';
export { VerdictCache, isCacheable, type CacheOutcome, type VerdictCacheStats } from './verdict-cache.js';
