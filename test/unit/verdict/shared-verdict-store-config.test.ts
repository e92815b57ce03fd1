// cache.shared.* does what the README says (DESIGN invariant 8): each key changes how a cluster
// worker's store behaves, read through the same function the worker uses (createSharedVerdictStore).
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/index.js';
import { createSharedVerdictStore, type IpcVerdictStore, type VerdictOpsMessage } from '../../../src/verdict/index.js';

const key = 'cd'.repeat(32) + ':upload:dlp:%22t%22:v1';
const pass = { action: 'pass' as const, violations: [] };

describe('cache.shared.* in a cluster worker', () => {
  const open: IpcVerdictStore[] = [];
  afterEach(async () => {
    for (const store of open.splice(0)) await store.close();
  });
  /** A store whose primary never answers; `sent` collects what it wrote. */
  const storeFor = (cache: Record<string, unknown>) => {
    const sent: VerdictOpsMessage[] = [];
    const store = createSharedVerdictStore(parseConfig({ cache }).cache, (m) => (sent.push(structuredClone(m)), true));
    if (store) open.push(store);
    return { store, sent };
  };
  const settleIn = async (p: Promise<unknown>, ms: number) => Promise.race([p.then(() => true), new Promise((r) => setTimeout(() => r(false), ms))]);

  it('is the primary\'s store only with store: memory and a cache at all; Redis is reached by each worker itself', () => {
    expect(storeFor({}).store).toBeDefined();
    expect(storeFor({ maxBytes: 0 }).store).toBeUndefined();
    expect(storeFor({ store: 'redis', redisUrl: 'redis://127.0.0.1:1' }).store).toBeUndefined();
  });

  it('localMaxBytes: a repeated key is answered in the worker; 0 sends every lookup to the primary', async () => {
    for (const [localMaxBytes, ops] of [
      [undefined, 1],
      [0, 2],
    ] as const) {
      const { store, sent } = storeFor({ shared: { ...(localMaxBytes === undefined ? {} : { localMaxBytes }), ipcTimeoutMs: 20 } });
      await store!.set(key, pass);
      await store!.get(key);
      await new Promise((r) => setImmediate(r));
      // the set, and with no local tier the lookup too
      expect(sent.flatMap((m) => m.ops.map((o) => o.op)), `localMaxBytes ${localMaxBytes}`).toEqual(['set', 'get'].slice(0, ops));
    }
  });

  it('ipcTimeoutMs: an unanswered lookup is a miss after it', async () => {
    const quick = storeFor({ shared: { ipcTimeoutMs: 30 } }).store!;
    const slow = storeFor({ shared: { ipcTimeoutMs: 2_000 } }).store!;
    const [q, s] = [quick.get(key), slow.get(key)];
    expect(await settleIn(q, 500)).toBe(true);
    expect(await settleIn(s, 100)).toBe(false);
    expect(quick.processStats().storeErrors).toBe(1);
  });

  it('claimTimeoutMs: told that another worker scans the key, the lookup waits that long (and no longer)', async () => {
    const waitFor = async (claimTimeoutMs: number) => {
      const { store, sent } = storeFor({ shared: { ipcTimeoutMs: 20, claimTimeoutMs } });
      const claim = store!.claim(key);
      await new Promise((r) => setImmediate(r));
      const id = (sent[0]!.ops[0] as { id: number }).id;
      store!.receive({ type: 'verdict-answers', answers: [{ id, kind: 'wait' }] });
      return claim;
    };
    // measured, not raced against a second 100 ms timer: on a loaded machine both fire in one turn
    const started = performance.now();
    const short = waitFor(100);
    const long = waitFor(5_000);
    await short;
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThanOrEqual(99);
    expect(waited).toBeLessThan(2_000);
    expect(await settleIn(long, 100)).toBe(false);
  });
});
