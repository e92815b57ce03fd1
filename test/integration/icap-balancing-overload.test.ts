// Overload through the whole proxy: an ICAP server that advertises Max-Connections: 2 under 50
// concurrent uploads never sees more than 2 connections from us, and what happens to the uploads
// that find no free connection before the queue deadline follows the service's onOverload:
// wait → all scanned and passed; block → our block page with violation "overload"; bypass → passed
// unscanned. Also: a 503 from one of two servers sends the upload to the other.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { answers, startFakeIcapServer, type FakeIcapServer } from '../support/fake-icap-server.js';
import { startOrigin, type Origin } from '../support/origin.js';
import { proxyRequest, type Reply } from '../support/proxy-client.js';
import { startTestProxy, tempCaDir, type TestProxy } from '../support/proxy-harness.js';

const caDir = tempCaDir();
const UPLOADS = 50;
const uploads = [{ name: 'uploads', match: { direction: 'upload' }, scan: 'dlp' }];

let origin: Origin;
beforeAll(async () => {
  origin = await startOrigin();
});
afterAll(async () => origin.close());

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function slowServer(delayMs: number): Promise<FakeIcapServer> {
  const server = await startFakeIcapServer({ options: { maxConnections: 2 }, onRequest: () => ({ send: answers.noContent(), delayMs }) });
  cleanups.push(() => server.close());
  return server;
}

async function proxyFor(dlp: Record<string, unknown>): Promise<TestProxy> {
  const proxy = await startTestProxy({ services: { dlp }, policy: uploads }, { caDir });
  cleanups.push(() => proxy.close());
  return proxy;
}

/** 50 distinct uploads at once (distinct bodies: identical ones would share one scan). */
function burst(proxy: TestProxy, tag: string): Promise<Reply[]> {
  return Promise.all(
    Array.from({ length: UPLOADS }, (_, i) =>
      proxyRequest(proxy.port, `${origin.url}/up/${tag}/${i}`, { method: 'POST', body: `upload ${tag} number ${i}`, headers: { 'content-type': 'text/plain', accept: 'application/json' } }),
    ),
  );
}

const statuses = (replies: Reply[]) => replies.reduce<Record<number, number>>((acc, r) => ({ ...acc, [r.status]: (acc[r.status] ?? 0) + 1 }), {});
const scanned = (server: FakeIcapServer) => server.requests.filter((r) => r.head.method === 'REQMOD').length;

describe('Max-Connections and onOverload through the proxy', () => {
  it('wait: every upload queues for one of the 2 connections and passes scanned', async () => {
    const server = await slowServer(10);
    const proxy = await proxyFor({ urls: [server.url('dlp')], queueTimeoutMs: 20_000, onOverload: 'wait' });
    const replies = await burst(proxy, 'wait');
    expect(statuses(replies)).toEqual({ 200: UPLOADS });
    expect(scanned(server)).toBe(UPLOADS);
    expect(server.maxOpen).toBeLessThanOrEqual(2);
    expect(server.maxOpen).toBeGreaterThan(0);
  });

  it('wait with a short deadline: the fail mode of the overload class decides (closed → 503)', async () => {
    const server = await slowServer(150);
    const proxy = await proxyFor({ urls: [server.url('dlp')], queueTimeoutMs: 100, onOverload: 'wait', failMode: 'open', failModes: { overload: 'closed' } });
    const counts = statuses(await burst(proxy, 'wait-short'));
    expect(Object.keys(counts).sort()).toEqual(['200', '503']);
    expect(server.maxOpen).toBeLessThanOrEqual(2);
  });

  it('block: uploads still queued at the deadline get the block page with violation "overload"', async () => {
    const server = await slowServer(150);
    const proxy = await proxyFor({ urls: [server.url('dlp')], queueTimeoutMs: 100, onOverload: 'block' });
    const before = origin.seen.length;
    const replies = await burst(proxy, 'block');
    const counts = statuses(replies);
    expect(Object.keys(counts).sort()).toEqual(['200', '403']);
    expect(counts[403]).toBeGreaterThan(UPLOADS / 2);
    for (const r of replies.filter((x) => x.status === 403)) {
      expect(JSON.parse(r.body.toString()) as { violations: string[] }).toMatchObject({ violations: ['overload'] });
      expect(r.headers['x-dlp-incident']).toBeDefined();
    }
    expect(origin.seen.length - before).toBe(counts[200]); // a blocked upload never reaches the origin
    expect(server.maxOpen).toBeLessThanOrEqual(2);
  });

  it('bypass: uploads still queued at the deadline pass unscanned, and say so in the log', async () => {
    const server = await slowServer(150);
    const proxy = await proxyFor({ urls: [server.url('dlp')], queueTimeoutMs: 100, onOverload: 'bypass' });
    const before = origin.seen.length;
    const replies = await burst(proxy, 'bypass');
    expect(statuses(replies)).toEqual({ 200: UPLOADS });
    expect(origin.seen.length - before).toBe(UPLOADS);
    expect(scanned(server)).toBeLessThan(UPLOADS);
    expect(server.maxOpen).toBeLessThanOrEqual(2);
    expect(proxy.logs.some((l) => JSON.stringify(l).includes('overload: bypass'))).toBe(true);
  });

  it('a server answering 503 (overloaded) passes its uploads to the other server: no client sees it', async () => {
    const overloaded = await startFakeIcapServer({ onRequest: () => ({ send: answers.status(503) }) });
    cleanups.push(() => overloaded.close());
    const healthy = await slowServer(0);
    const proxy = await proxyFor({ urls: [overloaded.url('dlp'), healthy.url('dlp')], onOverload: 'block' });
    const replies = await burst(proxy, '503');
    expect(statuses(replies)).toEqual({ 200: UPLOADS });
    expect(scanned(healthy)).toBe(UPLOADS);
    expect(scanned(overloaded)).toBeGreaterThan(0);
  });
});
