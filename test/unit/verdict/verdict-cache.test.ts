import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { Verdict } from '../../../src/core/types.js';
import { MemoryVerdictStore, VerdictCache, verdictKey, type VerdictStore } from '../../../src/verdict/index.js';

const key = verdictKey({ sha256: 'ab'.repeat(32), direction: 'upload', service: 'dlp', istag: '"CI0001-abc"', policyVersion: 'cd'.repeat(32) });
const icapPass: Verdict = { action: 'pass', violations: [], source: 'icap' };
const icapBlock: Verdict = { action: 'block', reason: 'DLP match', violations: ['TOP-SECRET'], source: 'icap' };
const newCache = () => new VerdictCache(new MemoryVerdictStore({ maxBytes: 1 << 20, ttlMs: 60_000 }));

describe('verdictKey', () => {
  it('joins the five parts, encoding the ones that may contain a colon', () => {
    expect(verdictKey({ sha256: 'h', direction: 'download', service: 'av', istag: '"a:b"', policyVersion: 'p' })).toBe('h:download:av:%22a%3Ab%22:p');
  });
  it('differs when any part differs (an ISTag change means a rescan)', () => {
    const base = { sha256: 'h', direction: 'upload' as const, service: 'dlp', istag: '"1"', policyVersion: 'p' };
    const variants = [{ sha256: 'i' }, { direction: 'download' as const }, { service: 'av' }, { istag: '"2"' }, { policyVersion: 'q' }];
    const keys = new Set([verdictKey(base), ...variants.map((v) => verdictKey({ ...base, ...v }))]);
    expect(keys.size).toBe(6);
  });
});

describe('VerdictCache', () => {
  it('scans on a miss, answers the next lookup from the store', async () => {
    const cache = newCache();
    let scans = 0;
    const scan = async () => (scans++, icapBlock);
    expect(await cache.getOrScan(key, scan)).toEqual({ verdict: icapBlock, from: 'scan' });
    expect(await cache.getOrScan(key, scan)).toEqual({ verdict: { ...icapBlock, source: 'cache' }, from: 'cache' });
    expect(scans).toBe(1);
    expect(await cache.stats()).toMatchObject({ hits: 1, misses: 1, joins: 0, entries: 1, inflight: 0 });
  });

  it('100 concurrent identical keys make one scan; the others join', async () => {
    const cache = newCache();
    let scans = 0;
    const scan = async () => {
      scans++;
      await sleep(20);
      return icapPass;
    };
    const outcomes = await Promise.all(Array.from({ length: 100 }, () => cache.getOrScan(key, scan)));
    expect(scans).toBe(1);
    expect(outcomes.filter((o) => o.from === 'scan')).toHaveLength(1);
    expect(outcomes.filter((o) => o.from === 'joined')).toHaveLength(99);
    expect(outcomes.every((o) => o.verdict.action === 'pass')).toBe(true);
    expect(await cache.stats()).toMatchObject({ misses: 1, joins: 99, entries: 1 });
  });

  it('shares a failure with the joiners and does not cache it', async () => {
    const cache = newCache();
    let scans = 0;
    const failing = async () => {
      scans++;
      await sleep(10);
      throw new Error('ICAP down');
    };
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => cache.getOrScan(key, failing)));
    expect(scans).toBe(1);
    expect(results.every((r) => r.status === 'rejected' && (r.reason as Error).message === 'ICAP down')).toBe(true);
    expect(await cache.getOrScan(key, async () => icapPass)).toEqual({ verdict: icapPass, from: 'scan' });
  });

  it.each<[string, Verdict]>([
    ['replace', { action: 'replace', violations: [], source: 'icap' }],
    ['fail-open pass', { action: 'pass', violations: [], source: 'fail-open' }],
    ['fail-closed block', { action: 'block', violations: [], source: 'fail-closed' }],
    ['policy block', { action: 'block', violations: [], source: 'policy' }],
  ])('never caches a %s verdict', async (_name, verdict) => {
    const cache = newCache();
    await cache.getOrScan(key, async () => verdict);
    expect(await cache.getOrScan(key, async () => icapPass)).toEqual({ verdict: icapPass, from: 'scan' });
    expect((await cache.stats()).entries).toBe(1);
  });

  it('a joiner whose leader got a replace scans for itself (the adapted body is the leader\'s)', async () => {
    const cache = newCache();
    let scans = 0;
    const replace = async (): Promise<Verdict> => {
      scans++;
      await sleep(10);
      return { action: 'replace', violations: [], source: 'icap' };
    };
    const outcomes = await Promise.all([cache.getOrScan(key, replace), cache.getOrScan(key, replace)]);
    expect(scans).toBe(2);
    expect(outcomes.map((o) => o.from)).toEqual(['scan', 'scan']);
  });

  it('a failing store degrades to scanning and is counted, never failing the exchange', async () => {
    const broken: VerdictStore = {
      get: async () => Promise.reject(new Error('redis down')),
      set: async () => Promise.reject(new Error('redis down')),
      delete: async () => false,
      stats: async () => ({ entries: 0, bytes: 0, evictions: 0 }),
      close: async () => undefined,
    };
    const cache = new VerdictCache(broken);
    expect(await cache.getOrScan(key, async () => icapBlock)).toEqual({ verdict: icapBlock, from: 'scan' });
    expect(await cache.stats()).toMatchObject({ storeErrors: 2, misses: 1 });
  });

  it('different keys scan independently', async () => {
    const cache = newCache();
    let scans = 0;
    const scan = async () => (scans++, icapPass);
    await Promise.all([cache.getOrScan('a', scan), cache.getOrScan('b', scan)]);
    expect(scans).toBe(2);
  });

  it('remember() stores a verdict obtained outside getOrScan, and only a cacheable one', async () => {
    const cache = newCache();
    await cache.remember('streamed', icapBlock);
    await cache.remember('failed-open', { action: 'pass', violations: [], source: 'fail-open' });
    expect(await cache.getOrScan('streamed', async () => icapPass)).toEqual({ verdict: { ...icapBlock, source: 'cache' }, from: 'cache' });
    expect((await cache.getOrScan('failed-open', async () => icapPass)).from).toBe('scan');
  });

  it('passes its ttl to the store', async () => {
    const cache = new VerdictCache(new MemoryVerdictStore({ maxBytes: 1 << 20, ttlMs: 60_000 }), 30);
    await cache.getOrScan(key, async () => icapPass);
    await sleep(80);
    expect((await cache.getOrScan(key, async () => icapBlock)).from).toBe('scan');
  });
});
