// The cross-worker single-flight table alone: who scans, who waits, and what ends a wait.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ClaimTable, type ClaimOutcome } from '../../../src/verdict/claim-table.js';

const block = { action: 'block' as const, reason: 'DLP match', violations: ['TOP-SECRET'] };

describe('ClaimTable', () => {
  let table: ClaimTable;
  const open = (timeoutMs = 5_000, maxKeys = 100, maxWaiters = 100) => (table = new ClaimTable({ timeoutMs, maxKeys, maxWaiters }));
  afterEach(() => table.clear());

  it('the first miss claims, the others wait, a verdict answers them all', () => {
    open();
    const got: Array<[number, ClaimOutcome]> = [];
    expect(table.claim('k', 1, () => undefined)).toBe('claimed');
    expect(table.claim('k', 2, (o) => got.push([2, o]))).toBe('wait');
    expect(table.claim('k', 3, (o) => got.push([3, o]))).toBe('wait');
    expect(table.stats()).toMatchObject({ claims: 1, waiting: 2 });
    table.settle('k', block, 1000);
    expect(got).toEqual([
      [2, { kind: 'hit', value: block, ttlMs: 1000 }],
      [3, { kind: 'hit', value: block, ttlMs: 1000 }],
    ]);
    expect(table.stats()).toMatchObject({ claims: 0, waiting: 0 });
    // the key is free again
    expect(table.claim('k', 2, () => undefined)).toBe('claimed');
  });

  it('an owner asking again for its own claim keeps it (no self-wait)', () => {
    open();
    expect(table.claim('k', 1, () => undefined)).toBe('claimed');
    expect(table.claim('k', 1, () => undefined)).toBe('claimed');
    expect(table.stats()).toMatchObject({ claims: 1, waiting: 0 });
  });

  it('a release without verdict hands the claim to the first waiter; the others keep waiting', () => {
    open();
    const got: Array<[number, ClaimOutcome]> = [];
    table.claim('k', 1, () => undefined);
    table.claim('k', 2, (o) => got.push([2, o]));
    table.claim('k', 3, (o) => got.push([3, o]));
    table.release('k', 3); // not the owner: nothing happens
    expect(got).toEqual([]);
    table.release('k', 1);
    expect(got).toEqual([[2, { kind: 'claimed' }]]);
    table.settle('k', block, 0);
    expect(got).toEqual([
      [2, { kind: 'claimed' }],
      [3, { kind: 'hit', value: block, ttlMs: 0 }],
    ]);
    expect(table.stats().handovers).toBe(1);
  });

  it('an owner that is gone hands its claims on and drops its own waits', () => {
    open();
    const got: Array<[number, ClaimOutcome]> = [];
    table.claim('a', 1, () => undefined);
    table.claim('b', 2, () => undefined);
    table.claim('a', 2, (o) => got.push([2, o]));
    table.claim('b', 1, (o) => got.push([1, o]));
    table.ownerGone(1);
    expect(got).toEqual([[2, { kind: 'claimed' }]]);
    expect(table.stats()).toMatchObject({ claims: 2, waiting: 0 });
    table.ownerGone(2);
    expect(table.stats()).toMatchObject({ claims: 0, waiting: 0 });
  });

  it('a claim past the timeout passes to a waiter; a wait past its own timeout scans unclaimed', () => {
    // a fake clock: on a loaded machine a real sleep(30) can overrun 60 ms and reorder the timeouts
    vi.useFakeTimers();
    try {
      open(60);
      const got: Array<[number, ClaimOutcome, number]> = [];
      const t0 = Date.now();
      table.claim('k', 1, () => undefined);
      table.claim('k', 2, (o) => got.push([2, o, Date.now() - t0]));
      vi.advanceTimersByTime(30);
      table.claim('k', 3, (o) => got.push([3, o, Date.now() - t0]));
      vi.advanceTimersByTime(29);
      expect(got).toEqual([]);
      vi.advanceTimersByTime(150);
      // 2 was handed the claim when 1's ran out at 60 ms; 3 waited its own 60 ms (to 90 ms) and scans alone
      expect(got.map(([who, o, at]) => [who, o.kind, at])).toEqual([
        [2, 'claimed', 60],
        [3, 'scan', 90],
      ]);
      expect(table.stats().timeouts).toBeGreaterThanOrEqual(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('is bounded: past maxKeys a miss scans unclaimed, past maxWaiters a lookup does not wait', () => {
    open(5_000, 2, 1);
    expect(table.claim('a', 1, () => undefined)).toBe('claimed');
    expect(table.claim('b', 1, () => undefined)).toBe('claimed');
    expect(table.claim('c', 1, () => undefined)).toBe('scan');
    expect(table.claim('a', 2, () => undefined)).toBe('wait');
    expect(table.claim('b', 2, () => undefined)).toBe('scan');
  });

  it('clear() tells every waiter to scan', () => {
    open();
    const got: ClaimOutcome[] = [];
    table.claim('k', 1, () => undefined);
    table.claim('k', 2, (o) => got.push(o));
    table.clear();
    expect(got).toEqual([{ kind: 'scan' }]);
    expect(table.stats()).toMatchObject({ claims: 0, waiting: 0 });
  });
});
