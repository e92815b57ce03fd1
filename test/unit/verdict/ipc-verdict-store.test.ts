// The host's one verdict store over IPC, with no sockets and no processes: IpcVerdictStore (a
// worker) and VerdictHub (the primary) joined by a fake channel that delivers JSON copies a turn
// later, the way node's IPC does. Workers are VerdictCaches over their own IpcVerdictStore.
import { afterEach, describe, expect, it } from 'vitest';
import type { Verdict } from '../../../src/core/types.js';
import { IpcVerdictStore, VerdictCache, VerdictHub, type VerdictOpsMessage } from '../../../src/verdict/index.js';
import { MAX_BATCH, MAX_KEY_CHARS } from '../../../src/verdict/verdict-ipc-protocol.js';
import { verdictStoreContract } from '../../support/verdict-store-contract.js';

const wire = <T>(m: T): T => JSON.parse(JSON.stringify(m)) as T;
/** Resolves once `ready()` holds (polled each turn), e.g. once the primary has seen a claim. */
const until = async (ready: () => boolean) => {
  while (!ready()) await new Promise((resolve) => setImmediate(resolve));
};
/** A few turns of the event loop: what was sent (batched at setImmediate) has arrived. */
const delivered = async () => {
  for (let i = 0; i < 4; i++) await new Promise((resolve) => setImmediate(resolve));
};

interface Host {
  hub: VerdictHub;
  worker(id: number, options?: Partial<{ localMaxBytes: number; ipcTimeoutMs: number; claimTimeoutMs: number; ttlMs: number }>): IpcVerdictStore;
  /** messages each worker sent */
  sent: Map<number, VerdictOpsMessage[]>;
  /** stop delivering to the primary (a primary that hangs) */
  silence(): void;
  close(): Promise<void>;
}

function host(options: { maxBytes?: number; ttlMs?: number; claimTimeoutMs?: number } = {}): Host {
  const stores = new Map<number, IpcVerdictStore>();
  const sent = new Map<number, VerdictOpsMessage[]>();
  let silent = false;
  const hub = new VerdictHub({
    maxBytes: options.maxBytes ?? 1 << 20,
    ttlMs: options.ttlMs ?? 60_000,
    claimTimeoutMs: options.claimTimeoutMs ?? 5_000,
    send: (id, message) => {
      const copy = wire(message);
      setImmediate(() => stores.get(id)?.receive(copy));
    },
  });
  return {
    hub,
    sent,
    silence: () => (silent = true),
    worker(id, o = {}) {
      const store = new IpcVerdictStore({
        send: (message) => {
          const copy = wire(message);
          sent.set(id, [...(sent.get(id) ?? []), copy]);
          if (!silent) setImmediate(() => hub.receive(id, copy));
          return true;
        },
        localMaxBytes: o.localMaxBytes ?? 64 * 1024,
        ttlMs: o.ttlMs ?? options.ttlMs ?? 60_000,
        ipcTimeoutMs: o.ipcTimeoutMs ?? 1_000,
        claimTimeoutMs: o.claimTimeoutMs ?? options.claimTimeoutMs ?? 5_000,
      });
      stores.set(id, store);
      return store;
    },
    async close() {
      for (const store of stores.values()) await store.close();
      hub.close();
    },
  };
}

const icapPass: Verdict = { action: 'pass', violations: [], source: 'icap' };
const icapBlock: Verdict = { action: 'block', reason: 'DLP match', violations: ['TOP-SECRET'], source: 'icap' };
const key = 'ab'.repeat(32) + ':upload:dlp:%22CI0001%22:v1';

// The contract: a worker's store behaves as any store, with and without its local tier.
for (const localMaxBytes of [64 * 1024, 0]) {
  let h: Host | undefined;
  verdictStoreContract(
    `IpcVerdictStore (local tier ${localMaxBytes} bytes)`,
    async () => {
      await h?.close();
      h = host({ ttlMs: 150 });
      return h.worker(1, { localMaxBytes });
    },
    { defaultTtlMs: 150 },
  );
}

describe('IpcVerdictStore with VerdictHub: one store, one single-flight for the host', () => {
  let h: Host;
  afterEach(async () => h?.close());

  it('a verdict one worker scanned is a hit on another; then that worker answers it locally, with no IPC', async () => {
    h = host();
    const a = new VerdictCache(h.worker(1), 60_000);
    const storeB = h.worker(2);
    const b = new VerdictCache(storeB, 60_000);
    let scans = 0;
    const scan = async () => (scans++, icapBlock);
    expect((await a.getOrScan(key, scan)).from).toBe('scan');
    expect(await b.getOrScan(key, scan)).toEqual({ verdict: { ...icapBlock, source: 'cache' }, from: 'cache' });
    const messagesBefore = h.sent.get(2)!.length;
    expect((await b.getOrScan(key, scan)).from).toBe('cache');
    expect(h.sent.get(2)!.length).toBe(messagesBefore);
    expect(scans).toBe(1);
    expect(h.hub.stats()).toMatchObject({ entries: 1 });
    // a worker's metrics leave the host store's size to the primary
    expect(await b.stats()).toMatchObject({ hits: 2, entries: 0, bytes: 0 });
  });

  it('identical bodies on two workers at once make one scan; the second joins across processes', async () => {
    h = host();
    const a = new VerdictCache(h.worker(1));
    const b = new VerdictCache(h.worker(2));
    let scans = 0;
    const scan = async () => {
      scans++;
      // the scan lasts until the other worker waits on it (a fixed sleep can end first under load)
      await until(() => h.hub.stats().waiting === 1);
      return icapPass;
    };
    const [ra, rb] = await Promise.all([a.getOrScan(key, scan), b.getOrScan(key, scan)]);
    expect(scans).toBe(1);
    expect([ra.from, rb.from].sort()).toEqual(['joined', 'scan']);
    await delivered();
    expect(h.hub.stats()).toMatchObject({ claims: 0, waiting: 0, entries: 1 });
  });

  it('an unscanned or fail-open pass is not shared: the waiter scans the body itself', async () => {
    h = host();
    const a = new VerdictCache(h.worker(1));
    const b = new VerdictCache(h.worker(2));
    for (const [name, verdict] of [
      ['unscanned', { action: 'pass', violations: [], source: 'unscanned' }],
      ['fail-open', { action: 'pass', violations: [], source: 'fail-open' }],
    ] as Array<[string, Verdict]>) {
      const k = `${key}:${name}`;
      let scans = 0;
      const leader = async () => {
        scans++;
        await until(() => h.hub.stats().waiting === 1);
        return verdict;
      };
      await until(() => h.hub.stats().claims === 0);
      const first = a.getOrScan(k, leader);
      await until(() => h.hub.stats().claims === 1);
      const [ra, rb] = await Promise.all([first, b.getOrScan(k, async () => (scans++, icapPass))]);
      expect(ra.verdict.source, name).toBe(name);
      expect(rb, name).toEqual({ verdict: icapPass, from: 'scan' });
      expect(scans, name).toBe(2);
    }
    // the waiter's own completed scan is the one the host keeps (its set arrives a turn later)
    await delivered();
    expect(h.hub.stats().entries).toBe(2);
  });

  it('a claimant whose scan fails hands the claim on: the waiter scans', async () => {
    h = host();
    const a = new VerdictCache(h.worker(1));
    const b = new VerdictCache(h.worker(2));
    // fails only once the other worker waits on it: then the claim is handed over, not just freed
    const failing = async (): Promise<Verdict> => {
      await until(() => h.hub.stats().waiting === 1);
      throw new Error('ICAP down');
    };
    const first = a.getOrScan(key, failing);
    await until(() => h.hub.stats().claims === 1);
    const [ra, rb] = await Promise.allSettled([first, b.getOrScan(key, async () => icapBlock)]);
    expect(ra.status).toBe('rejected');
    expect(rb).toMatchObject({ status: 'fulfilled', value: { verdict: icapBlock, from: 'scan' } });
    await delivered();
    expect(h.hub.stats()).toMatchObject({ handovers: 1, claims: 0, entries: 1 });
  });

  /** Two workers on one host; worker 1 claims `key` and never finishes its scan. The other one. */
  const afterHungClaimant = async (claimTimeoutMs: number) => {
    h = host({ claimTimeoutMs });
    void new VerdictCache(h.worker(1)).getOrScan(key, () => new Promise<Verdict>(() => undefined));
    await until(() => h.hub.stats().claims === 1);
    return new VerdictCache(h.worker(2));
  };

  it('a claimant that dies mid-scan: the waiter scans at once, not at the claim timeout', async () => {
    const b = await afterHungClaimant(5_000);
    const t0 = Date.now();
    const waiting = b.getOrScan(key, async () => icapPass);
    await until(() => h.hub.stats().waiting === 1);
    h.hub.ownerGone(1);
    expect(await waiting).toEqual({ verdict: icapPass, from: 'scan' });
    // loose against the wait it rules out (the 5 s claim timeout), not a latency target
    expect(Date.now() - t0).toBeLessThan(2_500);
  });

  it('a claimant that hangs: the waiter scans after cache.shared.claimTimeoutMs', async () => {
    const b = await afterHungClaimant(80);
    const t0 = Date.now();
    expect(await b.getOrScan(key, async () => icapPass)).toEqual({ verdict: icapPass, from: 'scan' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(60);
    expect(h.hub.stats().timeouts).toBeGreaterThanOrEqual(1);
  });

  it('a primary that does not answer: each lookup is a miss after ipcTimeoutMs, counted, and the body is scanned', async () => {
    h = host();
    const store = h.worker(1, { ipcTimeoutMs: 50 });
    const cache = new VerdictCache(store);
    h.silence();
    const t0 = Date.now();
    expect(await cache.getOrScan(key, async () => icapPass)).toEqual({ verdict: icapPass, from: 'scan' });
    // the 50 ms IPC timeout ended it, not the 5 s claim timeout (bound loose against that wait)
    expect(Date.now() - t0).toBeGreaterThanOrEqual(40);
    expect(Date.now() - t0).toBeLessThan(2_500);
    expect(store.processStats().storeErrors).toBe(1);
    expect(await store.stats()).toMatchObject({ entries: 0 });
  });

  it('no channel at all (send fails): a miss at once', async () => {
    const store = new IpcVerdictStore({ send: () => false, localMaxBytes: 0, ttlMs: 1000, ipcTimeoutMs: 5_000, claimTimeoutMs: 5_000 });
    const t0 = Date.now();
    expect(await store.claim(key)).toEqual({ claimed: false, waited: false });
    // no 5 s IPC or claim timeout was waited for (bound loose against that wait)
    expect(Date.now() - t0).toBeLessThan(2_500);
    await store.close();
  });

  it('batches the lookups of one turn into one message', async () => {
    h = host();
    const store = h.worker(1);
    await Promise.all(Array.from({ length: 100 }, (_, i) => store.get(`${key}:${i}`)));
    expect(h.sent.get(1)).toHaveLength(1);
    expect(h.sent.get(1)![0]!.ops).toHaveLength(100);
    await Promise.all(Array.from({ length: MAX_BATCH + 1 }, (_, i) => store.get(`${key}:${i}`)));
    expect(h.sent.get(1)!.slice(1).map((m) => m.ops.length)).toEqual([MAX_BATCH, 1]);
  });

  it('releases a claim the primary granted after its asker stopped waiting', async () => {
    const sent: VerdictOpsMessage[] = [];
    const store = new IpcVerdictStore({ send: (m) => (sent.push(wire(m)), true), localMaxBytes: 0, ttlMs: 1000, ipcTimeoutMs: 20, claimTimeoutMs: 1000 });
    expect(await store.claim(key)).toEqual({ claimed: false, waited: false });
    await delivered();
    const id = (sent[0]!.ops[0] as { id: number }).id;
    store.receive({ type: 'verdict-answers', answers: [{ id, kind: 'claimed' }] });
    await delivered();
    expect(sent.at(-1)!.ops).toEqual([{ op: 'release', key }]);
    await store.close();
  });

  it('keeps its local tier within localMaxBytes', async () => {
    h = host();
    const store = h.worker(1, { localMaxBytes: 4096 });
    for (let i = 0; i < 500; i++) await store.set(`${key}:${i}`, { action: 'pass', violations: [] });
    expect(store.localStats().bytes).toBeLessThanOrEqual(4096);
    expect(store.localStats().evictions).toBeGreaterThan(400);
    // the host keeps them all, and a local miss is answered there
    await delivered();
    expect(h.hub.stats().entries).toBe(500);
    expect(await store.get(`${key}:0`)).toEqual({ action: 'pass', violations: [] });
  });
});

describe('VerdictHub validation: what a worker sends is checked before it is kept', () => {
  let h: Host;
  afterEach(async () => h?.close());

  it('refuses huge or odd keys and verdicts, answers refused lookups at once, and keeps serving', async () => {
    h = host();
    const answers: unknown[] = [];
    const hub = new VerdictHub({ maxBytes: 1 << 20, ttlMs: 60_000, claimTimeoutMs: 1000, send: (_id, m) => answers.push(...m.answers) });
    const huge = 'k'.repeat(MAX_KEY_CHARS + 1);
    hub.receive(7, {
      type: 'verdict-ops',
      ops: [
        { op: 'get', id: 1, key: huge, claim: true },
        { op: 'set', key: huge, value: { action: 'pass', violations: [] }, ttlMs: 0 },
        { op: 'set', key: 'a', value: { action: 'replace', violations: [] }, ttlMs: 0 },
        { op: 'set', key: 'b', value: { action: 'block', violations: Array.from({ length: 1000 }, () => 'x') }, ttlMs: 0 },
        { op: 'set', key: 'c', value: { action: 'block', violations: ['x'.repeat(10_000)] }, ttlMs: 0 },
        { op: 'set', key: 'd', value: { action: 'pass', violations: [], extra: 'dropped' }, ttlMs: -5 },
        { op: 'get', id: 2, key: 42, claim: true },
        { op: 'get', id: -1, key: 'a', claim: true },
        { op: 'get', id: 3, key: 'e', claim: 'yes' },
        { op: 'stats', id: 1.5 },
        { op: '__proto__' },
        null,
        'garbage',
        { op: 'set', key: 'ok', value: { action: 'pass', violations: [], extra: 'dropped' }, ttlMs: 0 },
      ],
    });
    hub.receive(7, null);
    hub.receive(7, { type: 'verdict-ops', ops: Array.from({ length: MAX_BATCH + 1 }, (_, i) => ({ op: 'stats', id: i + 1 })) });
    await delivered();
    expect(hub.stats()).toMatchObject({ entries: 1, refused: 13 + 1 + MAX_BATCH + 1 });
    // ids that could be read are answered (a miss), so the asker does not wait out its deadline
    expect(answers).toEqual([
      { id: 1, kind: 'scan' },
      { id: 2, kind: 'scan' },
      { id: 3, kind: 'scan' },
    ]);
    hub.receive(7, { type: 'verdict-ops', ops: [{ op: 'get', id: 9, key: 'ok', claim: false }] });
    await delivered();
    expect(answers.at(-1)).toMatchObject({ id: 9, kind: 'hit', value: { action: 'pass', violations: [] } });
    expect(JSON.stringify(answers.at(-1))).not.toContain('extra');
    hub.close();
  });

  it('a worker never sends a key or verdict past the limits: it stays in its local tier', async () => {
    h = host();
    const store = h.worker(1);
    const huge = 'k'.repeat(MAX_KEY_CHARS + 1);
    await store.set(huge, { action: 'pass', violations: [] });
    await store.set('big', { action: 'block', violations: Array.from({ length: 1000 }, (_, i) => `v${i}`) });
    expect(await store.get(huge)).toEqual({ action: 'pass', violations: [] });
    expect(await store.claim(huge)).toMatchObject({ value: { action: 'pass' } });
    await delivered();
    expect(h.sent.get(1)?.flatMap((m) => m.ops).map((o) => o.op)).toEqual(['release']);
    expect(h.hub.stats()).toMatchObject({ entries: 0, refused: 0 });
  });

  it('a worker ignores malformed answers', async () => {
    const store = new IpcVerdictStore({ send: () => true, localMaxBytes: 0, ttlMs: 1000, ipcTimeoutMs: 30, claimTimeoutMs: 1000 });
    const pending = store.get(key);
    for (const bad of [null, 'x', { answers: 'x' }, { answers: [null, { id: 1, kind: 'hit', value: { action: 'replace', violations: [] }, ttlMs: 0 }, { id: 1, kind: 'nope' }] }]) store.receive(bad);
    expect(await pending).toBeUndefined();
    expect(store.processStats().storeErrors).toBe(1);
    await store.close();
  });
});
