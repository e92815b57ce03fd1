// The behaviour every VerdictStore must have, as one suite run against each implementation
// (hono's common.case.test.ts pattern): memory now, Redis later. The factory must return a fresh,
// empty store each time; the suite closes it.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { CachedVerdict, VerdictStore } from '../../src/verdict/index.js';

export interface ContractOptions {
  /** default TTL the factory configured, in ms (the suite needs one short enough to wait out) */
  defaultTtlMs: number;
}

export function verdictStoreContract(name: string, factory: () => Promise<VerdictStore> | VerdictStore, options: ContractOptions): void {
  describe(`VerdictStore contract: ${name}`, () => {
    let store: VerdictStore | undefined;
    const open = async () => (store = await factory());
    afterEach(async () => {
      await store?.close();
      store = undefined;
    });

    const pass: CachedVerdict = { action: 'pass', violations: [] };
    const block: CachedVerdict = { action: 'block', reason: 'virus found', violations: ['Eicar-Signature', 'Win.Test.EICAR_HDB-1'] };

    it('misses an unknown key', async () => {
      const s = await open();
      expect(await s.get('nope')).toBeUndefined();
    });

    it('returns what was set, field for field', async () => {
      const s = await open();
      await s.set('k-pass', pass);
      await s.set('k-block', block);
      expect(await s.get('k-pass')).toEqual(pass);
      expect(await s.get('k-block')).toEqual(block);
    });

    it('overwrites a key', async () => {
      const s = await open();
      await s.set('k', pass);
      await s.set('k', block);
      expect(await s.get('k')).toEqual(block);
    });

    it('deletes, saying whether the key was there', async () => {
      const s = await open();
      await s.set('k', pass);
      expect(await s.delete('k')).toBe(true);
      expect(await s.get('k')).toBeUndefined();
      expect(await s.delete('k')).toBe(false);
    });

    it('keeps keys with any characters apart (ISTags are quoted strings)', async () => {
      const s = await open();
      const keys = ['a:b', 'a%3Ab', '"CI0001-1"', 'ü-ñ', 'x'.repeat(300)];
      for (const [i, k] of keys.entries()) await s.set(k, { action: 'block', violations: [`v${i}`] });
      for (const [i, k] of keys.entries()) expect(await s.get(k)).toEqual({ action: 'block', violations: [`v${i}`] });
    });

    it('expires an entry after its own ttl', async () => {
      const s = await open();
      await s.set('short', pass, 40);
      await s.set('long', pass, 60_000);
      expect(await s.get('short')).toEqual(pass);
      await sleep(120);
      expect(await s.get('short')).toBeUndefined();
      expect(await s.get('long')).toEqual(pass);
    });

    it('expires an entry after the default ttl', async () => {
      const s = await open();
      await s.set('k', pass);
      await sleep(options.defaultTtlMs + 80);
      expect(await s.get('k')).toBeUndefined();
    });

    it('counts entries and bytes', async () => {
      const s = await open();
      expect(await s.stats()).toMatchObject({ entries: 0 });
      await s.set('a', pass);
      await s.set('b', block);
      const stats = await s.stats();
      expect(stats.entries).toBe(2);
      expect(stats.bytes).toBeGreaterThan(0);
      await s.delete('a');
      expect((await s.stats()).entries).toBe(1);
    });
  });
}
