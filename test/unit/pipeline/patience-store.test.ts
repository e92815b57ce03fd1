// The patience store: tokens bound to client and URL, one fetch each, the held-bytes bound, and
// deletion (with the spooled body) on expiry and on close.
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SpooledBody } from '../../../src/body/index.js';
import { Delivery } from '../../../src/pipeline/delivery.js';
import { PatienceStore, type PatienceOwner } from '../../../src/pipeline/patience-store.js';
import { configSchema } from '../../../src/config/schema.js';

const owner: PatienceOwner = { clientIp: '10.0.0.7', scheme: 'http', host: 'files.example.com', port: 80, path: '/big.zip' };
const decision = { action: 'scan' as const, rule: 'downloads', explain: 'x', service: 'av' };

function body(size: number): SpooledBody & { disposed: boolean } {
  const b = { sha256: '0'.repeat(64), sizeBytes: size, inMemory: true, disposed: false, replay: () => Readable.from([]), dispose: async () => void (b.disposed = true) };
  return b;
}
const ready = (b: SpooledBody) => ({ state: 'ready' as const, file: { status: 200, reason: 'OK', headers: [], body: b } });

afterEach(() => void vi.useRealTimers());

describe('patience store', () => {
  it('tokens are 256 random bits, unique', () => {
    const store = new PatienceStore({ maxHeldBytes: 100, ttlMs: 1000 });
    const a = store.admit(owner, 1, 'e1', decision)!;
    const b = store.admit(owner, 1, 'e2', decision)!;
    expect(a.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.token).not.toBe(b.token);
  });

  it('another client gets 403, another URL or an unknown token 404', () => {
    const store = new PatienceStore({ maxHeldBytes: 100, ttlMs: 1000 });
    const e = store.admit(owner, 10, 'e1', decision)!;
    expect(store.lookup(e.token, owner)).toEqual({ found: e });
    expect(store.lookup(e.token, { ...owner, clientIp: '10.0.0.8' })).toEqual({ refused: 403 });
    expect(store.lookup(e.token, { ...owner, host: 'evil.example.com' })).toEqual({ refused: 404 });
    expect(store.lookup(e.token, { ...owner, path: '/other.zip' })).toEqual({ refused: 404 });
    expect(store.lookup(e.token, { ...owner, scheme: 'https' })).toEqual({ refused: 404 });
    expect(store.lookup('B'.repeat(43), owner)).toEqual({ refused: 404 });
  });

  it('maxHeldBytes: admission stops at the bound and frees when a fetch is done', async () => {
    // a TTL far beyond the wait below: the body is disposed by done(), not by the TTL
    const store = new PatienceStore({ maxHeldBytes: 100, ttlMs: 60_000 });
    const e = store.admit(owner, 60, 'e1', decision)!;
    expect(store.admit(owner, 41, 'e2', decision)).toBeUndefined();
    expect(store.admit(owner, 40, 'e3', decision)).toBeDefined();
    const b = body(60);
    store.settle(e, ready(b), undefined);
    const taken = store.take(e)!;
    expect(store.take(e)).toBeUndefined(); // one fetch only
    expect(store.lookup(e.token, owner)).toEqual({ refused: 404 });
    expect(store.heldBytes).toBe(100); // still sending
    taken.done();
    expect(store.heldBytes).toBe(40);
    await vi.waitFor(() => expect(b.disposed).toBe(true), { timeout: 10_000 });
  });

  it('ttlMs: a settled entry nobody fetched is deleted with its body', async () => {
    vi.useFakeTimers();
    const store = new PatienceStore({ maxHeldBytes: 100, ttlMs: 5000 });
    const e = store.admit(owner, 10, 'e1', decision)!;
    const b = body(10);
    store.settle(e, ready(b), undefined);
    vi.advanceTimersByTime(4999);
    expect(store.lookup(e.token, owner)).toEqual({ found: e });
    vi.advanceTimersByTime(1);
    expect(store.lookup(e.token, owner)).toEqual({ refused: 404 });
    expect(store.heldBytes).toBe(0);
    await vi.waitFor(() => expect(b.disposed).toBe(true), { timeout: 10_000 });
  });

  it('close() deletes every entry; a scan settling afterwards has its body deleted at once', async () => {
    const store = new PatienceStore({ maxHeldBytes: 100, ttlMs: 5000 });
    const settledFirst = store.admit(owner, 10, 'e1', decision)!;
    const stillScanning = store.admit(owner, 10, 'e2', decision)!;
    const a = body(10);
    store.settle(settledFirst, ready(a), undefined);
    await store.close();
    expect(a.disposed).toBe(true);
    expect(store.size).toBe(0);
    const b = body(10);
    store.settle(stillScanning, ready(b), undefined);
    await vi.waitFor(() => expect(b.disposed).toBe(true), { timeout: 10_000 });
    expect(store.admit(owner, 1, 'e3', decision)).toBeUndefined();
  });

  it('scan.patience keys reach the store through Delivery', () => {
    const config = configSchema.parse({ scan: { patience: { maxHeldBytes: 50, ttlMs: 1 } }, services: { av: { urls: ['icap://127.0.0.1:1344/av'] } }, policy: [] });
    const { store } = new Delivery(config.policy, config.scan);
    expect(store.admit(owner, 51, 'e', decision)).toBeUndefined();
    expect(store.admit(owner, 50, 'e', decision)).toBeDefined();
  });
});
