// The Redis verdict store against a real redis-server: the same contract suite as the memory
// store, namespacing and PX, and what happens while Redis is down (commands fail at once, no
// queue builds up, up/down changes are published, it comes back by itself).
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeStateChannel, type StoreStateEvent } from '../../src/verdict/index.js';
import { RedisVerdictStore } from '../../src/verdict/redis-verdict-store.js';
import { startRedis, type RedisPeer } from '../support/peers/redis.js';
import { verdictStoreContract } from '../support/verdict-store-contract.js';

let redis: RedisPeer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

const options = (keyPrefix: string) => ({ url: redis.url, keyPrefix, ttlMs: 150, connectTimeoutMs: 1000, commandTimeoutMs: 500, maxReconnectDelayMs: 200 });

async function open(keyPrefix = `t${crypto.randomUUID()}:`): Promise<RedisVerdictStore> {
  const store = new RedisVerdictStore(options(keyPrefix));
  await store.connected();
  return store;
}

// A fresh prefix per store: each is empty, as the suite requires, on one server.
verdictStoreContract('redis', () => open(), { defaultTtlMs: 150 });

describe('RedisVerdictStore on a real redis-server', () => {
  const pass = { action: 'pass' as const, violations: [] };

  it('keeps keys under its prefix, with a PX no longer than the TTL', async () => {
    const a = await open('site-a:');
    const b = await open('site-b:');
    try {
      await a.set('k', { action: 'block', violations: ['x'] }, 60_000);
      expect(await b.get('k')).toBeUndefined();
      expect(redis.cli('--raw', 'KEYS', 'site-a:*').split('\n').sort()).toEqual(['site-a:index', 'site-a:v:k']);
      const pttl = Number(redis.cli('PTTL', 'site-a:v:k'));
      expect(pttl).toBeGreaterThan(50_000);
      expect(pttl).toBeLessThanOrEqual(60_000);
      expect((await a.getEntry('k'))?.ttlMs).toBeLessThanOrEqual(60_000);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('treats a foreign value under its prefix as a miss', async () => {
    const s = await open('foreign:');
    try {
      redis.cli('SET', 'foreign:v:k', '{"action":"maybe"}');
      expect(await s.get('k')).toBeUndefined();
    } finally {
      await s.close();
    }
  });

  it('fails fast while Redis is down, publishes down and up, and reconnects by itself', async () => {
    const states: StoreStateEvent[] = [];
    const unsubscribe = storeStateChannel.subscribe((e) => states.push(e));
    // a 10 s command timeout: a command queued while down would wait that long, far past the bound below
    const s = new RedisVerdictStore({ ...options('outage:'), commandTimeoutMs: 10_000 });
    await s.connected();
    try {
      expect(s.state).toBe('up');
      await s.set('before', pass, 60_000);
      await redis.kill();
      await expect.poll(() => s.state).toBe('down');
      // 200 commands while down: each rejected at once, none queued for later.
      const started = performance.now();
      const results = await Promise.allSettled(Array.from({ length: 200 }, (_, i) => s.set(`down-${i}`, pass)));
      expect(results.every((r) => r.status === 'rejected')).toBe(true);
      // loose against the wait it rules out (the 10 s command timeout), not a latency target
      expect(performance.now() - started).toBeLessThan(5_000);
      await redis.restart();
      await expect.poll(() => s.state).toBe('up');
      // Restarted empty (nothing persisted), and nothing written while down arrived late.
      expect(redis.cli('DBSIZE')).toBe('0');
      await s.set('after', pass, 60_000);
      expect(await s.get('after')).toEqual(pass);
      expect(states.filter((e) => e.url.includes(String(redis.port))).map((e) => e.state)).toEqual(['up', 'down', 'up']);
      expect(states.find((e) => e.state === 'down')?.error).toBeTruthy();
    } finally {
      unsubscribe();
      await s.close();
    }
  });

  it('says down when Redis is not there at start, without throwing', async () => {
    const s = new RedisVerdictStore({ ...options('absent:'), url: 'redis://127.0.0.1:1' });
    await s.connected();
    expect(s.state).toBe('down');
    await expect(s.get('k')).rejects.toThrow();
    await s.close();
  });
});
