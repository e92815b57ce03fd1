// The store the `cache` config slice asks for: memory alone, or Redis with a local LRU in front;
// in a cluster worker with store: memory, the primary's store over IPC (createSharedVerdictStore).
// The Redis store (and ioredis, 15 MiB of heap and code) is loaded only when the config asks for it.
import { IpcVerdictStore, type IpcVerdictStoreOptions } from './ipc-verdict-store.js';
import { MemoryVerdictStore } from './memory-verdict-store.js';
import { TieredVerdictStore } from './tiered-verdict-store.js';
import type { VerdictStore } from './verdict-store.js';

/** The shape of config.cache (kept here so verdict/ does not import config/). */
export interface VerdictStoreConfig {
  store: 'memory' | 'redis';
  maxBytes: number;
  ttlMs: number;
  redisUrl?: string | undefined;
  keyPrefix: string;
  redis: { connectTimeoutMs: number; commandTimeoutMs: number; maxReconnectDelayMs: number };
  shared: { localMaxBytes: number; ipcTimeoutMs: number; claimTimeoutMs: number };
}

/**
 * With Redis, resolves once the first connection attempt settled (up or down), so the first
 * exchanges see the shared tier when it is there; a Redis that is down never fails the start.
 */
export async function createVerdictStore(config: VerdictStoreConfig): Promise<VerdictStore> {
  const local = new MemoryVerdictStore({ maxBytes: config.maxBytes, ttlMs: config.ttlMs });
  if (config.store === 'memory' || config.redisUrl === undefined) return local;
  const { RedisVerdictStore } = await import('./redis-verdict-store.js');
  const shared = new RedisVerdictStore({ url: config.redisUrl, keyPrefix: config.keyPrefix, ttlMs: config.ttlMs, ...config.redis });
  await shared.connected();
  return new TieredVerdictStore(local, shared);
}

/**
 * A cluster worker's store when the host keeps one (store: memory, and a cache at all): the
 * primary's, reached through `send`; undefined with Redis, which every worker reaches itself.
 */
export function createSharedVerdictStore(config: VerdictStoreConfig, send: IpcVerdictStoreOptions['send']): IpcVerdictStore | undefined {
  if (config.store !== 'memory' || config.maxBytes <= 0) return undefined;
  const { localMaxBytes, ipcTimeoutMs, claimTimeoutMs } = config.shared;
  return new IpcVerdictStore({ send, localMaxBytes, ttlMs: config.ttlMs, ipcTimeoutMs, claimTimeoutMs });
}
