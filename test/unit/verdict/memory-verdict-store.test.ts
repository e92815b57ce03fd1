import { describe, expect, it } from 'vitest';
import { MemoryVerdictStore } from '../../../src/verdict/index.js';
import { entrySize } from '../../../src/verdict/memory-verdict-store.js';
import { verdictStoreContract } from '../../support/verdict-store-contract.js';

verdictStoreContract('memory', () => new MemoryVerdictStore({ maxBytes: 1024 * 1024, ttlMs: 150 }), { defaultTtlMs: 150 });

describe('MemoryVerdictStore bounds', () => {
  const key = (i: number) => `${'a'.repeat(64)}:upload:dlp:%22tag%22:${String(i).padStart(3, '0')}`;
  const value = { action: 'pass' as const, violations: [] };

  it('stays within maxBytes by evicting the least recently used entries, and counts evictions', async () => {
    const size = entrySize(key(0), value);
    const store = new MemoryVerdictStore({ maxBytes: size * 10, ttlMs: 0 });
    for (let i = 0; i < 10; i++) await store.set(key(i), value);
    await store.get(key(0)); // 0 becomes most recently used
    for (let i = 10; i < 15; i++) await store.set(key(i), value);
    const stats = await store.stats();
    expect(stats.entries).toBe(10);
    expect(stats.bytes).toBeLessThanOrEqual(size * 10);
    expect(stats.evictions).toBe(5);
    expect(await store.get(key(0))).toEqual(value);
    expect(await store.get(key(1))).toBeUndefined();
  });

  it('maxBytes 0 keeps nothing', async () => {
    const store = new MemoryVerdictStore({ maxBytes: 0, ttlMs: 1000 });
    await store.set(key(1), value);
    expect(await store.get(key(1))).toBeUndefined();
    expect(await store.stats()).toEqual({ entries: 0, bytes: 0, evictions: 0 });
  });

  it('sizes entries by their text, so long violation lists cost more', () => {
    expect(entrySize('k', { action: 'block', violations: ['x'.repeat(100)] })).toBeGreaterThan(entrySize('k', { action: 'block', violations: [] }) + 200);
  });
});
