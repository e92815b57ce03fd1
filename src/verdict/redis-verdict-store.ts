// The shared verdict store on Redis (ioredis), for several proxy processes or machines. Every key
// lives under `keyPrefix` and expires by PX, so the store is bounded by TTL (and by Redis'
// own maxmemory policy). A sorted set of key → expiry time lets stats() count entries in O(log N)
// instead of SCANning the keyspace at every metrics scrape.
//
// Failure behaviour is the point of the options: no offline queue (a command while Redis is down
// fails at once instead of piling up), no per-request retries, a timeout on every command, and a
// reconnect loop with a bounded backoff. Up/down changes go to storeStateChannel.
//
//   connecting ──ready──► up ──close──► down ──ready──► up …
//        └────close─────────────────────►┘
import { Redis } from 'ioredis';
import { entrySize } from './memory-verdict-store.js';
import { storeStateChannel, type StoreState } from './store-state.js';
import type { CachedVerdict, VerdictStore, VerdictStoreStats } from './verdict-store.js';

export interface RedisVerdictStoreOptions {
  url: string;
  keyPrefix: string;
  /** default PX; 0 = keys do not expire (Redis' maxmemory policy then bounds the store) */
  ttlMs: number;
  connectTimeoutMs: number;
  commandTimeoutMs: number;
  maxReconnectDelayMs: number;
}

/** A stored value and the time it has left (undefined when the key has no expiry). */
export interface RedisEntry {
  value: CachedVerdict;
  ttlMs: number | undefined;
}

/** Trim expired members from the index once every this many writes. */
const TRIM_EVERY_SETS = 64;
/** Members sampled for MEMORY USAGE when estimating bytes. */
const BYTE_SAMPLES = 8;

export class RedisVerdictStore implements VerdictStore {
  readonly #redis: Redis;
  readonly #options: RedisVerdictStoreOptions;
  readonly #indexKey: string;
  readonly #url: string;
  #state: StoreState | 'connecting' = 'connecting';
  #lastError: string | undefined;
  #sets = 0;
  #ready: Promise<void>;

  constructor(options: RedisVerdictStoreOptions) {
    this.#options = options;
    this.#indexKey = `${options.keyPrefix}index`;
    this.#url = redactUrl(options.url);
    this.#redis = new Redis(options.url, {
      connectTimeout: options.connectTimeoutMs,
      commandTimeout: options.commandTimeoutMs,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 10), options.maxReconnectDelayMs),
      lazyConnect: false,
    });
    let settle: () => void = () => undefined;
    this.#ready = new Promise<void>((resolve) => (settle = resolve));
    // 'error' fires on every failed reconnect; the state change is what is reported.
    this.#redis.on('error', (err: NodeJS.ErrnoException) => (this.#lastError = err.code ?? err.message));
    this.#redis.on('ready', () => {
      this.#change('up');
      settle();
    });
    this.#redis.on('close', () => {
      if (this.#state !== 'down') this.#change('down');
      settle();
    });
  }

  /** up once connected; down while unreachable (then every command fails at once). */
  get state(): StoreState | 'connecting' {
    return this.#state;
  }

  /** Resolves after the first connection attempt succeeded or failed. */
  connected(): Promise<void> {
    return this.#ready;
  }

  async get(key: string): Promise<CachedVerdict | undefined> {
    return (await this.getEntry(key))?.value;
  }

  /** The value with its remaining TTL, so a local tier can expire it no later than Redis does. */
  async getEntry(key: string): Promise<RedisEntry | undefined> {
    const results = await this.#redis.multi().get(this.#dataKey(key)).pttl(this.#dataKey(key)).exec();
    const [[getErr, raw], [ttlErr, pttl]] = checked(results, 2) as [Reply, Reply];
    if (getErr) throw getErr;
    if (ttlErr) throw ttlErr;
    const value = typeof raw === 'string' ? decode(raw) : undefined;
    if (!value) return undefined;
    return { value, ttlMs: typeof pttl === 'number' && pttl > 0 ? pttl : undefined };
  }

  async set(key: string, value: CachedVerdict, ttlMs?: number): Promise<void> {
    const ttl = ttlMs || this.#options.ttlMs;
    const dataKey = this.#dataKey(key);
    const tx = this.#redis.multi();
    if (ttl > 0) tx.set(dataKey, encode(value), 'PX', ttl);
    else tx.set(dataKey, encode(value));
    tx.zadd(this.#indexKey, ttl > 0 ? Date.now() + ttl : '+inf', key);
    if (++this.#sets % TRIM_EVERY_SETS === 0) tx.zremrangebyscore(this.#indexKey, '-inf', Date.now());
    for (const [err] of checked(await tx.exec(), 2)) if (err) throw err;
  }

  async delete(key: string): Promise<boolean> {
    const [[err, removed]] = checked(await this.#redis.multi().del(this.#dataKey(key)).zrem(this.#indexKey, key).exec(), 2) as [Reply, Reply];
    if (err) throw err;
    return removed === 1;
  }

  /**
   * entries: live members of the index (every instance's, the store is shared); bytes: entries ×
   * the mean MEMORY USAGE of a few sampled keys plus their index member; evictions: Redis'
   * server-wide evicted_keys (maxmemory), the only size-driven drop a Redis store has.
   */
  async stats(): Promise<VerdictStoreStats> {
    const results = await this.#redis
      .multi()
      .zremrangebyscore(this.#indexKey, '-inf', Date.now())
      .zcard(this.#indexKey)
      .zrandmember(this.#indexKey, BYTE_SAMPLES)
      .info('stats')
      .exec();
    const [, [cardErr, card], [sampleErr, sample], [infoErr, info]] = checked(results, 4) as [Reply, Reply, Reply, Reply];
    if (cardErr || sampleErr || infoErr) throw cardErr ?? sampleErr ?? infoErr;
    const entries = Number(card);
    const members = Array.isArray(sample) ? (sample as string[]) : [];
    let bytes = 0;
    if (entries > 0 && members.length > 0) {
      const usage = this.#redis.multi();
      for (const m of members) usage.call('MEMORY', 'USAGE', this.#dataKey(m));
      const sizes = checked(await usage.exec(), members.length).map(([err, n], i) =>
        // A key may expire between the two calls, and MEMORY may be renamed away: estimate then.
        !err && typeof n === 'number' ? n : entrySize(this.#dataKey(members[i]!), { action: 'pass', violations: [] }),
      );
      const perEntry = sizes.reduce((a, b) => a + b, 0) / sizes.length + members.reduce((a, m) => a + m.length + 16, 0) / members.length;
      bytes = Math.round(entries * perEntry);
    }
    const evicted = /^evicted_keys:(\d+)/m.exec(String(info));
    return { entries, bytes, evictions: evicted ? Number(evicted[1]) : 0 };
  }

  async close(): Promise<void> {
    this.#redis.removeAllListeners('ready');
    this.#redis.removeAllListeners('close');
    if (this.#state === 'up') {
      try {
        await this.#redis.quit();
        return;
      } catch {
        /* down meanwhile: disconnect below */
      }
    }
    this.#redis.disconnect();
  }

  #dataKey(key: string): string {
    return `${this.#options.keyPrefix}v:${key}`;
  }

  #change(state: StoreState): void {
    this.#state = state;
    storeStateChannel.publish({ store: 'redis', state, url: this.#url, ...(state === 'down' ? { error: this.#lastError ?? 'connection closed' } : {}) });
    if (state === 'up') this.#lastError = undefined;
  }
}

type Reply = [Error | null, unknown];

/** exec() answers null when the transaction was discarded; treat that as a failure of every command. */
function checked(results: Array<[Error | null, unknown]> | null, count: number): Reply[] {
  if (results && results.length === count) return results;
  const err = new Error('Redis transaction discarded');
  return Array.from({ length: count }, (): Reply => [err, null]);
}

function encode(value: CachedVerdict): string {
  return JSON.stringify(value.reason === undefined ? { action: value.action, violations: value.violations } : value);
}

/** Anything else found under our prefix (another version's format, a stray key) is a miss. */
function decode(raw: string): CachedVerdict | undefined {
  try {
    const v = JSON.parse(raw) as Partial<CachedVerdict>;
    if ((v.action !== 'pass' && v.action !== 'block') || !Array.isArray(v.violations) || !v.violations.every((x) => typeof x === 'string')) return undefined;
    if (v.reason !== undefined && typeof v.reason !== 'string') return undefined;
    return v.reason === undefined ? { action: v.action, violations: v.violations } : { action: v.action, reason: v.reason, violations: v.violations };
  } catch {
    return undefined;
  }
}

/** redis://user:secret@host:6379/0 → redis://user@host:6379/0 (logs never carry a secret). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    return u.toString();
  } catch {
    return 'redis://(invalid url)';
  }
}
