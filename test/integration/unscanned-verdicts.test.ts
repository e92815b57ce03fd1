// Only a completed scan makes a verdict (issue 11, item 4; DESIGN invariant 3), and the keys that
// say what goes to the ICAP server do what they say (item 8). Against a scripted ICAP server that
// blocks whatever it actually reads: a pass it gave without reading (Transfer-Ignore, a 204 within
// the preview) must never be reused for the same bytes under another name; oversizeAction: pass
// sends the body on unscanned and says so in the logs.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/proxy/access.js';
import { CARD } from '../support/enforcement-suite.js';
import { answers, startFakeIcapServer, type FakeIcapServer, type FakeRequest } from '../support/fake-icap-server.js';
import { deterministicBytes, startOrigin, type Origin } from '../support/origin.js';
import { proxyRequest } from '../support/proxy-client.js';
import { startTestProxy, tempCaDir, type TestProxy } from '../support/proxy-harness.js';
import { chunked, rawRequest } from '../support/raw-client.js';

const BLOCK_PAGE = { kind: 'response' as const, status: 403, reason: 'Forbidden', version: '1.1', headers: [['Content-Type', 'text/plain']] as Array<[string, string]> };
const blockAll = () => ({ send: answers.modified(BLOCK_PAGE, 'blocked', [['ISTag', '"fake-1"'], ['X-Violations-Found', 'everything']]) });

let origin: Origin;
let caDir: string;
let icap: FakeIcapServer | undefined;
let proxy: TestProxy | undefined;

beforeAll(async () => {
  origin = await startOrigin();
  caDir = tempCaDir();
});
afterEach(async () => {
  await proxy?.close();
  await icap?.close();
  proxy = undefined;
  icap = undefined;
});
afterAll(async () => {
  await origin.close();
});

async function start(icapOptions: Parameters<typeof startFakeIcapServer>[0], overrides: Record<string, unknown> = {}, service: Record<string, unknown> = {}) {
  icap = await startFakeIcapServer(icapOptions);
  // no incident store (its thread costs each start a second on a loaded machine): nothing here reads it
  proxy = await startTestProxy({ services: { dlp: { urls: [icap.url('dlp')], ...service } }, policy: [{ name: 'uploads', match: { direction: 'upload' }, scan: 'dlp' }], incidents: { enabled: false }, ...overrides }, { caDir });
  return proxy;
}
const transactions = () => icap!.requests.filter((r: FakeRequest) => r.head.method !== 'OPTIONS').length;

describe('a pass without a completed scan is never cached', () => {
  it('Transfer-Ignore: the .exe passes unsent; the same bytes as .txt are sent and blocked', async () => {
    const p = await start({ options: { methods: ['REQMOD'], istag: 'fake-1', transferIgnore: ['exe'], allow204: true }, onRequest: blockAll });
    const body = `payload ${Date.now()}`;
    const ignored = await proxyRequest(p.port, `${origin.url}/setup.exe`, { method: 'POST', body });
    expect(ignored.status).toBe(200);
    expect(transactions()).toBe(0);
    const renamed = await proxyRequest(p.port, `${origin.url}/notes.txt`, { method: 'POST', body });
    expect(renamed.status).toBe(403);
    expect(transactions()).toBe(1);
    await expect.poll(() => p.logs.find((l) => l.msg === 'exchange' && l.path === '/setup.exe')).toBeDefined();
    expect(p.logs.find((l) => l.msg === 'exchange' && l.path === '/setup.exe')).toMatchObject({ verdict: 'pass/unscanned' });
  });

  it('a 204 within the preview passes, is logged unscanned, and is asked again next time', async () => {
    const p = await start({ options: { methods: ['REQMOD'], istag: 'fake-1', preview: 4, allow204: true }, onPreview: () => ({ send: answers.noContent() }), onRequest: blockAll }, {}, { skipPreviewUpToBytes: 0 });
    const body = 'a body longer than the four-byte preview';
    for (const path of ['/a', '/b']) expect((await proxyRequest(p.port, `${origin.url}${path}`, { method: 'POST', body })).status).toBe(200);
    expect(transactions()).toBe(2);
    await expect.poll(() => p.logs.filter((l) => l.log === 'violation' && l.source === 'unscanned').length).toBe(2);
  });

  it('by default a small body held whole goes without preview: the server reads all of it, and its 204 is a scan, cached', async () => {
    const p = await start({ options: { methods: ['REQMOD'], istag: 'fake-1', preview: 4, allow204: true }, onPreview: () => ({ send: answers.noContent() }), onRequest: () => ({ send: answers.noContent() }) });
    const body = 'a body longer than the four-byte preview';
    for (const path of ['/a', '/b']) expect((await proxyRequest(p.port, `${origin.url}${path}`, { method: 'POST', body })).status).toBe(200);
    const sent = icap!.requests.filter((r: FakeRequest) => r.head.method !== 'OPTIONS');
    expect(sent.map((r) => [r.head.preview, r.body.toString()])).toEqual([[undefined, body]]);
    await expect.poll(() => p.logs.filter((l) => l.msg === 'exchange').length).toBe(2);
    expect(p.logs.filter((l) => l.log === 'violation' && l.source === 'unscanned')).toEqual([]);
  });

  it('a violation in a small body is found by a server that would pass its preview', async () => {
    const p = await start({ options: { methods: ['REQMOD'], istag: 'fake-1', preview: 4, allow204: true }, onPreview: () => ({ send: answers.noContent() }), onRequest: (r: FakeRequest) => (r.body.includes(CARD) ? blockAll() : { send: answers.noContent() }) });
    const reply = await proxyRequest(p.port, `${origin.url}/pay`, { method: 'POST', body: `order 77 paid with ${CARD}` });
    expect(reply.status).toBe(403);
    expect(origin.seen.some((s) => s.url === '/pay')).toBe(false);
  });

  it('a 204 for a body that fit the preview whole (ieof) is a scan, and cached', async () => {
    const p = await start({ options: { methods: ['REQMOD'], istag: 'fake-1', preview: 1024, allow204: true }, onRequest: () => ({ send: answers.noContent() }) });
    for (const path of ['/a', '/b']) expect((await proxyRequest(p.port, `${origin.url}${path}`, { method: 'POST', body: 'small and whole' })).status).toBe(200);
    expect(transactions()).toBe(1);
  });
});

describe('scan.oversizeAction: pass', () => {
  const overrides = { scan: { maxScanBytes: 1000, oversizeAction: 'pass' } };

  it('a chunked upload past the cap is forwarded whole and unscanned, and logged as such', async () => {
    const p = await start({ onRequest: blockAll }, overrides);
    const body = Buffer.concat([Buffer.from(`card ${CARD} `), deterministicBytes(5000)]);
    const before = origin.seen.length;
    const reply = await rawRequest(p.port, [`POST ${origin.url}/up HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`, chunked([body.subarray(0, 700), body.subarray(700)])]);
    expect(reply.status).toBe(200);
    const seen = origin.seen.slice(before).find((s) => s.url === '/up');
    expect(seen?.bodyBytes).toBe(body.length);
    expect(transactions()).toBe(0);
    await expect.poll(() => p.logs.find((l) => l.log === 'violation' && l.source === 'unscanned' && l.direction === 'upload')).toBeDefined();
  });

  it('the key does something: with block, the same upload is refused', async () => {
    const p = await start({ onRequest: blockAll }, { scan: { maxScanBytes: 1000, oversizeAction: 'block' } });
    const reply = await proxyRequest(p.port, `${origin.url}/up`, { method: 'POST', body: deterministicBytes(5000) });
    expect(reply.status).toBe(403);
  });
});

describe('identity headers (services.*.sendClientIp, sendServerIp, sendUser)', () => {
  const identity = (r: FakeRequest) => ({ client: r.head.headers.get('x-client-ip'), server: r.head.headers.get('x-server-ip'), user: r.head.headers.get('x-client-username') });

  it('defaults: client IP and user sent, server IP not', async () => {
    const passwordHash = await hashPassword('pw', { N: 1024, r: 8, p: 1 });
    const p = await start({ onRequest: () => ({ send: answers.noContent() }) }, { proxy: { auth: { users: [{ name: 'alice', passwordHash }] } } });
    const auth = `Basic ${Buffer.from('alice:pw').toString('base64')}`;
    await proxyRequest(p.port, `${origin.url}/x`, { method: 'POST', body: 'one', headers: { 'proxy-authorization': auth } });
    expect(identity(icap!.requests.find((r) => r.head.method === 'REQMOD')!)).toEqual({ client: '127.0.0.1', server: undefined, user: 'alice' });
  });

  it('each switch turned the other way changes what is sent', async () => {
    const passwordHash = await hashPassword('pw', { N: 1024, r: 8, p: 1 });
    const p = await start({ onRequest: () => ({ send: answers.noContent() }) }, { proxy: { auth: { users: [{ name: 'alice', passwordHash }] } } }, { sendClientIp: false, sendServerIp: true, sendUser: false });
    const auth = `Basic ${Buffer.from('alice:pw').toString('base64')}`;
    await proxyRequest(p.port, `${origin.url}/x`, { method: 'POST', body: 'two', headers: { 'proxy-authorization': auth } });
    expect(identity(icap!.requests.find((r) => r.head.method === 'REQMOD')!)).toEqual({ client: undefined, server: '127.0.0.1', user: undefined });
  });
});
