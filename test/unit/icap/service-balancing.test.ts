// IcapService over several fake servers: failover while what was sent can be sent again, one clear
// error when every server failed or is suspended, suspension after N failures and revival by a
// probe (with the state messages), interval probes that stop at close(), Max-Connections shared
// among workers, and the service ISTag across servers with different tags.
import diagnostics from 'node:diagnostics_channel';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { ProxyError } from '../../../src/core/errors.js';
import type { HttpHead } from '../../../src/core/types.js';
import { ICAP_SERVER_STATE_CHANNEL, IcapService, type IcapServerStateMessage, type IcapServiceOptions } from '../../../src/icap/index.js';
import { answers, startFakeIcapServer, type FakeIcapOptions, type FakeIcapServer } from '../../support/fake-icap-server.js';
import { freePort } from '../../support/peers/common.js';
import { proxyErrorOf } from '../../support/proxy-error.js';

const POST: HttpHead = { kind: 'request', method: 'POST', target: 'http://example.test/upload.bin', version: '1.1', headers: [['Host', 'example.test']] };
const reqmod = (data: string | Buffer) => ({ method: 'REQMOD' as const, reqHead: POST, body: Readable.from([Buffer.from(data)]), allow204: true });
const count = (s: FakeIcapServer, method = 'REQMOD') => s.requests.filter((r) => r.head.method === method).length;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function fake(options: FakeIcapOptions = {}): Promise<FakeIcapServer> {
  const server = await startFakeIcapServer(options);
  cleanups.push(() => server.close());
  return server;
}

function service(urls: string[], extra: Partial<IcapServiceOptions> = {}): IcapService {
  const icap = new IcapService({
    name: 'dlp',
    servers: urls.map((url) => ({ url, weight: 1 })),
    maxConnections: 8,
    connectTimeoutMs: 500,
    previewTimeoutMs: 1000,
    readIdleTimeoutMs: 1000,
    queueTimeoutMs: 1000,
    idleTimeoutMs: 5000,
    ...extra,
  });
  cleanups.push(() => icap.close());
  return icap;
}


function stateMessages(): IcapServerStateMessage[] {
  const seen: IcapServerStateMessage[] = [];
  const sub = (m: unknown) => seen.push(m as IcapServerStateMessage);
  diagnostics.subscribe(ICAP_SERVER_STATE_CHANNEL, sub);
  cleanups.push(async () => void diagnostics.unsubscribe(ICAP_SERVER_STATE_CHANNEL, sub));
  return seen;
}

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('failover across servers', () => {
  it('a 503 or a reset after the preview was sent goes to the other server with the same bytes', async () => {
    const busy = await fake({ onRequest: () => ({ send: answers.status(503) }) });
    const broken = await fake({ onRequest: () => ({ reset: true }) });
    const good = await fake();
    for (const bad of [busy, broken]) {
      const icap = service([bad.url(), good.url()]);
      const before = count(good);
      for (let i = 0; i < 4; i++) expect((await icap.send(reqmod(`body ${i}`))).kind).toBe('unmodified');
      expect(count(good) - before).toBe(4);
      expect(good.requests.at(-1)!.body.toString()).toBe('body 3');
      expect(count(bad)).toBeGreaterThan(0);
    }
  });

  it('a body given as RAM chunks fails over the same way: the other server gets every byte, in order', async () => {
    const broken = await fake({ onRequest: () => ({ reset: true }) });
    const good = await fake();
    const icap = service([broken.url(), good.url()]);
    const data = Buffer.from('x'.repeat(3000) + 'y'.repeat(3000));
    for (let i = 0; i < 4; i++) {
      const result = await icap.send({ ...reqmod(''), body: [data.subarray(0, 1500), data.subarray(1500)], bodyBytes: data.length });
      expect(result.kind).toBe('unmodified');
      expect(good.requests.at(-1)!.body.equals(data)).toBe(true);
    }
    expect(count(broken)).toBeGreaterThan(0);
  });

  it('does not fail over once more was sent than it kept, and says which server failed', async () => {
    const broken = await fake({ onRequest: () => ({ reset: true }) });
    const good = await fake();
    const icap = service([broken.url(), good.url()], { retryRetainBytes: 4096 });
    const big = Buffer.alloc(20_000, 0x61);
    // The balancer starts with the first server; later picks alternate, so try until it is hit.
    let err: ProxyError | undefined;
    for (let i = 0; i < 4 && !err; i++) err = await icap.send(reqmod(big)).then(() => undefined, (e: ProxyError) => e);
    expect(err?.code).toBe('ICAP_READ_FAILED');
    expect(err?.details?.['server']).toBe(`127.0.0.1:${broken.port}`);
  });

  it('when every server fails: the last error code, with every server tried in the details', async () => {
    const [p1, p2] = [await freePort(), await freePort()];
    const icap = service([`icap://127.0.0.1:${p1}/x`, `icap://127.0.0.1:${p2}/x`]);
    const err = await proxyErrorOf(icap.send(reqmod('x')));
    expect(err.code).toBe('ICAP_CONNECT_FAILED');
    expect(new Set(err.details?.['tried'] as string[])).toEqual(new Set([`127.0.0.1:${p1}`, `127.0.0.1:${p2}`]));
    expect(err.message).toContain('no server could take the transaction');
  });
});

describe('health: suspension and revival', () => {
  it('suspends a dead server after N failures, fails fast while all are, and revives it by probe', async () => {
    const seen = stateMessages();
    const first = await fake();
    const port = first.port;
    const icap = service([first.url()], { health: { failureLimit: 3, failureWindowMs: 10_000, revivalDelayMs: 150, revivalJitterRatio: 0, probeIntervalMs: 0 } });
    expect((await icap.send(reqmod('warm'))).kind).toBe('unmodified');
    await first.close();
    for (let i = 0; i < 3; i++) expect((await proxyErrorOf(icap.send(reqmod(`x${i}`)))).code).toMatch(/ICAP_(CONNECT_FAILED|READ_FAILED|WRITE_FAILED)/);
    await until(() => seen.length > 0);
    expect(seen[0]).toMatchObject({ service: 'dlp', server: `127.0.0.1:${port}`, state: 'suspended', failures: 3 });
    expect(icap.serverStates()[0]).toMatchObject({ state: 'suspended', failures: expect.any(Number) as number, lastError: expect.stringContaining('ICAP_') as string });

    const fast = await proxyErrorOf(icap.send(reqmod('while suspended')));
    expect(fast.code).toBe('ICAP_CONNECT_FAILED');
    expect(fast.message).toContain('every server is suspended');
    expect(fast.details?.['servers']).toMatchObject([{ server: `127.0.0.1:${port}`, state: 'suspended' }]);

    // Back on the same port: the next revival probe (OPTIONS) brings it up.
    const back = await fake({ port });
    await until(() => seen.length > 1);
    expect(seen[1]).toMatchObject({ server: `127.0.0.1:${port}`, state: 'up', reason: 'OPTIONS probe answered' });
    expect(count(back, 'OPTIONS')).toBeGreaterThan(0);
    expect((await icap.send(reqmod('after'))).kind).toBe('unmodified');
    expect(icap.serverStates()[0]).toMatchObject({ state: 'up', failures: 0 });
  });

  it('keeps traffic on the healthy server while the other is suspended', async () => {
    const seen = stateMessages();
    const dead = `icap://127.0.0.1:${await freePort()}/x`;
    const good = await fake();
    const icap = service([dead, good.url()], { health: { failureLimit: 2, revivalDelayMs: 60_000, probeIntervalMs: 0 } });
    for (let i = 0; i < 10; i++) expect((await icap.send(reqmod(`b${i}`))).kind).toBe('unmodified');
    await until(() => seen.some((m) => m.state === 'suspended'));
    expect(icap.serverStates().map((s) => s.state)).toEqual(['suspended', 'up']);
    expect(count(good)).toBe(10);
    // OPTIONS for readiness come from a server that is up
    expect((await icap.options()).istag).toBe('"fake-1"');
  });

  it('probes an idle server on the interval, skips the probe while traffic succeeds, and stops at close()', async () => {
    const server = await fake();
    const icap = service([server.url()], { health: { probeIntervalMs: 80 } });
    await icap.options();
    await until(() => count(server, 'OPTIONS') >= 3);
    await icap.close();
    const after = count(server, 'OPTIONS');
    await new Promise((r) => setTimeout(r, 250));
    expect(count(server, 'OPTIONS')).toBe(after);

    const busy = await fake();
    // The probe timer fires twice during the traffic and must skip both times. An interval far
    // above one send's latency keeps that so on a loaded machine: only a stall of a whole second
    // between two sends would make a probe legitimate.
    const active = service([busy.url()], { health: { probeIntervalMs: 1000 } });
    const stop = Date.now() + 2200;
    while (Date.now() < stop) await active.send(reqmod('traffic'));
    expect(count(busy, 'OPTIONS')).toBe(1); // the first fetch only: traffic proved it up
  });

  it('a service never used sends no probe', async () => {
    const server = await fake();
    service([server.url()], { health: { probeIntervalMs: 20 } });
    await new Promise((r) => setTimeout(r, 120));
    expect(server.connections).toBe(0);
  });
});

describe('overload and ISTag', () => {
  it('shares Max-Connections among workers: 4 over 2 workers is 2 here', async () => {
    const server = await fake({ options: { maxConnections: 4 }, onRequest: () => ({ send: answers.noContent(), delayMs: 20 }) });
    const icap = service([server.url()], { workerCount: 2 });
    await icap.options();
    await Promise.all(Array.from({ length: 20 }, (_, i) => icap.send(reqmod(`w${i}`))));
    expect(server.maxOpen).toBe(2);
    expect(icap.stats()[0]!.connected).toBeLessThanOrEqual(2);
  });

  it('keys on one service ISTag whichever server answers, and changes it when any server changes', async () => {
    let tagB = '"b-1"';
    const a = await fake({ options: { istag: 'a-1' }, onRequest: () => ({ send: answers.noContent('"a-1"') }) });
    const b = await fake({ options: { istag: 'b-1' }, onRequest: () => ({ send: answers.noContent(tagB) }) });
    const icap = service([a.url(), b.url()]);
    const changes: string[] = [];
    icap.onIstagChange((t) => changes.push(t));
    const results = [];
    for (let i = 0; i < 6; i++) results.push(await icap.send(reqmod(`t${i}`)));
    expect(new Set(results.map((r) => r.istag))).toEqual(new Set(['"a-1"', '"b-1"']));
    expect(icap.istag).toBe('"a-1" "b-1"');
    tagB = '"b-2"';
    for (let i = 0; i < 2; i++) await icap.send(reqmod(`u${i}`));
    expect(icap.istag).toBe('"a-1" "b-2"');
    expect(changes.at(-1)).toBe('"a-1" "b-2"');
    expect(new Set(icap.serverStates().map((s) => s.istag))).toEqual(new Set(['"a-1"', '"b-2"']));
  });
});
