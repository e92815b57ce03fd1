// Issue 11: every way around the scan that was found, driven at ONE proxy process with the
// built-in DLP/AV service, each written the way a hostile client writes it (raw bytes where a
// library would be polite). Each case reproduces the hole first in its name; after the whole
// battery the same process must still serve an ordinary request.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CARD } from '../support/enforcement-suite.js';
import { deterministicBytes, EICAR, startOrigin, type Origin } from '../support/origin.js';
import { proxyRequest } from '../support/proxy-client.js';
import { startBuiltinIcap, startTestProxy, type TestProxy } from '../support/proxy-harness.js';
import { chunked, rawRequest } from '../support/raw-client.js';

let icap: { port: number; close(): Promise<void> };
let origin: Origin;
let proxy: TestProxy;
const MAX_SCAN = 256 * 1024;

beforeAll(async () => {
  icap = await startBuiltinIcap();
  origin = await startOrigin();
  proxy = await startTestProxy({
    services: { dlp: { urls: [`icap://127.0.0.1:${icap.port}/dlp`] }, av: { urls: [`icap://127.0.0.1:${icap.port}/av`] } },
    scan: { maxScanBytes: MAX_SCAN },
    policy: [
      { name: 'no-chat', match: { paths: ['^/chat'] }, action: 'block' },
      { name: 'websocket-from-server', match: { protocols: ['websocket'], direction: 'download' }, action: 'pass' },
      { name: 'big-uploads-to-drop', match: { paths: ['^/drop'], direction: 'upload', minBytes: 1000 }, action: 'block' },
      { name: 'uploads', match: { direction: 'upload' }, scan: 'dlp' },
      { name: 'downloads', match: { direction: 'download' }, scan: 'av' },
    ],
  });
});

afterAll(async () => {
  await proxy?.close();
  await origin?.close();
  await icap?.close();
});

const host = () => `127.0.0.1:${origin.port}`;
const url = (path: string) => `http://${host()}${path}`;
const head = (lines: string[]) => `${lines.join('\r\n')}\r\n\r\n`;

describe('upgrades', () => {
  it('Upgrade: h2c on a POST no longer skips REQMOD: the card upload is blocked, the origin sees nothing', async () => {
    const body = `card=${CARD}`;
    const before = origin.seen.length;
    const reply = await rawRequest(proxy.port, [head([`POST ${url('/echo')} HTTP/1.1`, `Host: ${host()}`, 'Connection: Upgrade, HTTP2-Settings', 'Upgrade: h2c', 'HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA', `Content-Length: ${body.length}`]) + body]);
    expect(reply.status).toBe(403);
    const incident = /x-dlp-incident: (\w+)/i.exec(reply.text)?.[1];
    expect(incident).toBeDefined();
    expect(origin.seen.length).toBe(before);
    // the blocked exchange logs the bytes it received
    await expect.poll(() => proxy.logs.find((l) => l.msg === 'exchange' && l.id === incident)).toMatchObject({ status: 403, bytesIn: body.length, verdict: 'block/icap' });
  });

  it('Upgrade: h2c on a GET (curl --http2 over http) no longer skips RESPMOD: EICAR is blocked', async () => {
    const reply = await rawRequest(proxy.port, [head([`GET ${url('/eicar.com')} HTTP/1.1`, `Host: ${host()}`, 'Connection: Upgrade, HTTP2-Settings', 'Upgrade: h2c', 'HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA'])], { deadlineMs: 1500 });
    expect(reply.status).toBe(403);
    expect(reply.text).not.toContain('EICAR-STANDARD');
  });

  it('a non-WebSocket upgrade is an ordinary request: the token is dropped and the connection stays usable', async () => {
    const reply = await rawRequest(
      proxy.port,
      [head([`GET ${url('/headers')} HTTP/1.1`, `Host: ${host()}`, 'Connection: Upgrade', 'Upgrade: TLS/1.0, made-up/2']), head([`GET ${url('/bytes/10')} HTTP/1.1`, `Host: ${host()}`, 'Connection: close'])],
      { gapMs: 300 },
    );
    const statuses = [...reply.text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]);
    expect(statuses).toEqual(['200', '200']);
    const forwarded = JSON.parse(reply.text.slice(reply.text.indexOf('['), reply.text.indexOf(']') + 1)) as string[];
    expect(forwarded.map((h) => h.toLowerCase())).not.toContain('upgrade');
  });

  it('a WebSocket handshake to a blocked path gets the block page; the origin is never contacted', async () => {
    const before = origin.seen.length;
    const reply = await rawRequest(proxy.port, [head([`GET ${url('/chat')} HTTP/1.1`, `Host: ${host()}`, 'Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=='])]);
    expect(reply.status).toBe(403);
    expect(reply.text).toMatch(/x-dlp-incident/i);
    expect(reply.closed).toBe(true);
    expect(origin.seen.length).toBe(before);
  });

  it('"Upgrade: websocket" on a POST with a body is no handshake: the body is scanned like any upload', async () => {
    const body = `card=${CARD}`;
    const reply = await rawRequest(proxy.port, [head([`POST ${url('/echo')} HTTP/1.1`, `Host: ${host()}`, 'Connection: Upgrade', 'Upgrade: websocket', `Content-Length: ${body.length}`]) + body]);
    expect(reply.status).toBe(403);
  });
});

describe('ranges', () => {
  it('two byte ranges of EICAR no longer rebuild it: each range is refused, the whole was scanned', async () => {
    const first = await proxyRequest(proxy.port, url('/eicar.com'), { headers: { range: 'bytes=0-33' } });
    const second = await proxyRequest(proxy.port, url('/eicar.com'), { headers: { range: 'bytes=34-' } });
    expect([first.status, second.status]).toEqual([403, 403]);
    // and the origin was asked for the whole file each time
    expect(origin.seen.filter((s) => s.url === '/eicar.com').every((s) => s.headers.range === undefined)).toBe(true);
  });

  it('a range of a clean file is answered 206 from the scanned whole', async () => {
    const reply = await proxyRequest(proxy.port, url('/bytes/5000'), { headers: { range: 'bytes=100-199' } });
    expect(reply.status).toBe(206);
    expect(reply.headers['content-range']).toBe('bytes 100-199/5000');
    expect(reply.body.equals(deterministicBytes(5000).subarray(100, 200))).toBe(true);
  });

  it('several ranges come back as multipart/byteranges; a range past the end gets 416', async () => {
    const multi = await proxyRequest(proxy.port, url('/bytes/5000'), { headers: { range: 'bytes=0-9,4990-' } });
    expect(multi.status).toBe(206);
    expect(multi.headers['content-type']).toMatch(/^multipart\/byteranges; boundary=/);
    expect(Number(multi.headers['content-length'])).toBe(multi.body.length);
    const text = multi.body.toString('latin1');
    expect(text).toContain('Content-Range: bytes 0-9/5000');
    expect(text).toContain('Content-Range: bytes 4990-4999/5000');
    const beyond = await proxyRequest(proxy.port, url('/bytes/5000'), { headers: { range: 'bytes=9000-' } });
    expect(beyond.status).toBe(416);
    expect(beyond.headers['content-range']).toBe('bytes */5000');
  });
});

describe('bodies that used to end the process', () => {
  it('a chunked upload of no declared size past maxScanBytes is refused at the cap, unspooled beyond it', async () => {
    const big = Buffer.alloc(MAX_SCAN + 64 * 1024, 'a');
    const reply = await rawRequest(proxy.port, [head([`POST ${url('/echo')} HTTP/1.1`, `Host: ${host()}`, 'Transfer-Encoding: chunked']), chunked([big.subarray(0, MAX_SCAN / 2), big.subarray(MAX_SCAN / 2)])]);
    expect(reply.status).toBe(403);
    expect(reply.text).toMatch(/too large to be checked/);
  });

  it('a chunked upload a size rule refuses, without its held body read to the end, ends nothing', async () => {
    const reply = await rawRequest(proxy.port, [head([`POST ${url('/drop')} HTTP/1.1`, `Host: ${host()}`, 'Transfer-Encoding: chunked']), chunked([Buffer.alloc(5000, 'b')], false)], { deadlineMs: 1000 });
    // the size is not known until the body ends: the proxy waits for it, then the client gives up
    expect([0, 403]).toContain(reply.status);
    const done = await rawRequest(proxy.port, [head([`POST ${url('/drop')} HTTP/1.1`, `Host: ${host()}`, 'Transfer-Encoding: chunked']), chunked([Buffer.alloc(5000, 'b')])], { deadlineMs: 1500 });
    expect(done.status).toBe(403);
    expect(done.text).toContain('big-uploads-to-drop');
  });

  it('clients that vanish mid-body, send broken chunk framing or lie about Content-Length end nothing', async () => {
    const attacks = [
      [head([`POST ${url('/echo')} HTTP/1.1`, `Host: ${host()}`, 'Transfer-Encoding: chunked']), '5\r\nab'],
      [head([`POST ${url('/echo')} HTTP/1.1`, `Host: ${host()}`, 'Transfer-Encoding: chunked']), 'zz\r\nabc\r\n0\r\n\r\n'],
      [head([`POST ${url('/echo')} HTTP/1.1`, `Host: ${host()}`, 'Content-Length: 100000']), 'short'],
      [head([`POST ${url('/drop')} HTTP/1.1`, `Host: ${host()}`, 'Transfer-Encoding: chunked']), chunked([Buffer.alloc(3000)], false)],
      [head([`GET ${url('/bytes/1000000')} HTTP/1.1`, `Host: ${host()}`])],
    ];
    const before = proxy.logs.length;
    await Promise.all(attacks.map((chunks) => rawRequest(proxy.port, chunks, { destroyAfterWrite: true, deadlineMs: 1000 })));
    const ok = await proxyRequest(proxy.port, url('/bytes/10'));
    expect(ok.status).toBe(200);
    // an upload whose client left before any answer is logged without a status, never as a 200
    const abandoned = () => proxy.logs.slice(before).filter((l) => l.msg === 'exchange' && l.method === 'POST' && l.path === '/echo' && l.bytesOut === 0);
    await expect.poll(() => abandoned().length).toBeGreaterThan(0);
    for (const line of abandoned()) expect(line.status).toBeUndefined();
  });

  it('a request that comes back through the proxy is refused as a loop', async () => {
    const reply = await proxyRequest(proxy.port, url('/bytes/10'), { headers: { via: '1.1 dlp-proxy' } });
    expect(reply.status).toBe(403);
    expect(reply.body.toString()).toMatch(/forwarding loop/);
  });
});

describe('after the battery', () => {
  it('the same process still serves: clean upload and download byte-exact, a card still blocked', async () => {
    const up = await proxyRequest(proxy.port, url('/echo'), { method: 'POST', body: 'hello, nothing to see' });
    expect(up.status).toBe(200);
    expect(up.body.toString()).toBe('hello, nothing to see');
    const down = await proxyRequest(proxy.port, url('/bytes/70000'));
    expect(down.body.equals(deterministicBytes(70000))).toBe(true);
    const blocked = await proxyRequest(proxy.port, url('/echo'), { method: 'POST', body: `card=${CARD}` });
    expect(blocked.status).toBe(403);
    const virus = await proxyRequest(proxy.port, url('/eicar.com'));
    expect(virus.status).toBe(403);
    expect(virus.body.toString()).not.toContain(EICAR);
  });
});
