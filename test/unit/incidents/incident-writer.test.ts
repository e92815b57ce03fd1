// The batch writer: what waited goes in one batch every batchMs, one batch at a time; the queue
// (waiting + in flight) is bounded and what does not fit is dropped and counted; a failed batch
// is counted, never retried into a growing queue; flush() and close() send everything queued.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { IncidentWriter, type IncidentSink } from '../../../src/incidents/incident-writer.js';

/** A sink that records each batch and resolves it when told (or at once). */
function sink(options: { hold?: boolean; fail?: boolean } = {}) {
  const batches: number[][] = [];
  const release: Array<() => void> = [];
  const s: IncidentSink<number> & { batches: number[][]; release: Array<() => void> } = {
    batches,
    release,
    write(records) {
      batches.push([...records]);
      if (options.fail) return Promise.reject(new Error('disk full'));
      if (!options.hold) return Promise.resolve();
      return new Promise<void>((resolve) => release.push(resolve));
    },
  };
  return s;
}

describe('IncidentWriter', () => {
  it('writes what arrived within batchMs as one batch, and nothing before batchMs', async () => {
    const s = sink();
    const w = new IncidentWriter(s, { queueSize: 100, batchMs: 80 });
    for (let i = 0; i < 10; i++) w.enqueue(i);
    await sleep(30);
    expect(s.batches).toEqual([]);
    await sleep(120);
    expect(s.batches).toEqual([[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]]);
    expect(w.stats()).toEqual({ queued: 0, sent: 10, dropped: { queue_full: 0, write_failed: 0, closed: 0 } });
  });

  it('bounds waiting plus in flight by queueSize: a slow sink drops and counts, never grows the heap', async () => {
    const s = sink({ hold: true });
    const w = new IncidentWriter(s, { queueSize: 5, batchMs: 1 });
    for (let i = 0; i < 3; i++) expect(w.enqueue(i)).toBe(true);
    await sleep(20);
    // three in flight, held by the sink: two more fit, the rest is dropped
    expect(s.batches).toEqual([[0, 1, 2]]);
    const taken = Array.from({ length: 10 }, (_, i) => w.enqueue(10 + i));
    expect(taken.filter(Boolean)).toHaveLength(2);
    expect(w.stats()).toMatchObject({ queued: 5, sent: 0, dropped: { queue_full: 8 } });
    // one batch at a time: nothing else is written while the first is in flight
    await sleep(20);
    expect(s.batches).toHaveLength(1);
    s.release.shift()!();
    await sleep(20);
    expect(s.batches).toEqual([[0, 1, 2], [10, 11]]);
    s.release.shift()!();
    await w.flush();
    expect(w.stats()).toMatchObject({ queued: 0, sent: 5, dropped: { queue_full: 8 } });
  });

  it('counts a failed batch as dropped (write_failed), tells onWriteError, and goes on with the next', async () => {
    const errors: Array<[unknown, number]> = [];
    const s = sink({ fail: true });
    const w = new IncidentWriter(s, { queueSize: 100, batchMs: 1, onWriteError: (err, n) => errors.push([err, n]) });
    w.enqueue(1);
    w.enqueue(2);
    await w.flush();
    w.enqueue(3);
    await w.flush();
    expect(s.batches).toEqual([[1, 2], [3]]);
    expect(w.stats().dropped.write_failed).toBe(3);
    expect(errors.map(([, n]) => n)).toEqual([2, 1]);
  });

  it('close() writes everything queued before it resolves, then refuses (counted as closed)', async () => {
    const s = sink();
    const w = new IncidentWriter(s, { queueSize: 1000, batchMs: 60_000 });
    for (let i = 0; i < 500; i++) w.enqueue(i);
    await w.close();
    expect(s.batches.flat()).toEqual(Array.from({ length: 500 }, (_, i) => i));
    expect(w.enqueue(1)).toBe(false);
    expect(w.stats()).toMatchObject({ queued: 0, sent: 500, dropped: { closed: 1 } });
  });

  it('flush() during a batch in flight waits for it, then writes what came after', async () => {
    const s = sink({ hold: true });
    const w = new IncidentWriter(s, { queueSize: 100, batchMs: 1 });
    w.enqueue(1);
    await sleep(10);
    w.enqueue(2);
    const flushed = w.flush();
    let done = false;
    void flushed.then(() => (done = true));
    await sleep(10);
    expect(done).toBe(false);
    s.release.shift()!();
    await sleep(10);
    s.release.shift()?.();
    await flushed;
    expect(s.batches).toEqual([[1], [2]]);
  });

  it('enqueue is cheap: 100,000 records in well under a second, with no write on the caller turn', async () => {
    const s = sink();
    const w = new IncidentWriter(s, { queueSize: 100_000, batchMs: 10 });
    const t = performance.now();
    for (let i = 0; i < 100_000; i++) w.enqueue(i);
    const elapsed = performance.now() - t;
    expect(s.batches).toEqual([]);
    expect(elapsed).toBeLessThan(500);
    await w.close();
    expect(s.batches.flat()).toHaveLength(100_000);
  });
});
