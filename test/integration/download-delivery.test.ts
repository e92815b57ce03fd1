// Delivery of scanned downloads over real sockets (policy[].delivery, issue 12 item 5): a slow
// origin, an ICAP server that blocks a file with EICAR anywhere in it (the built-in one only
// knows EICAR as a whole file) and replaces files named replace-me, and the proxy in between.
//   trickle   first bytes before the verdict; a blocked file never completes and its last
//             trickleHoldBytes never leave; a clean one completes byte-exact; a client that
//             vanishes mid-trickle leaves the process serving
//   patience  the page, status polls, the file once; forged, other-client and expired links get
//             403/404 and never reach the origin; a blocked file gives our block page
import crypto from 'node:crypto';
import http from 'node:http';
import type net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HttpHead } from '../../src/core/types.js';
import { answers, startFakeIcapServer, type FakeIcapServer } from '../support/fake-icap-server.js';
import path from 'node:path';
import { CertificateAuthority } from '../../src/ca/index.js';
import { deterministicBytes, EICAR, startOrigin, type Origin } from '../support/origin.js';
import { httpsViaProxy } from '../support/proxy-client.js';
import { tempDir } from '../support/temp-dir.js';
import { startTestProxy, tempCaDir, type TestProxy } from '../support/proxy-harness.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const SIZE = 2 * MiB;
const RATE = 4 * MiB; // origin bytes per second: a 2 MiB file takes 0.5 s
/** patience files: 0.25 s from the origin */
const PSIZE = MiB;
const HOLD = 256 * KiB;
const NAVIGATE = { 'sec-fetch-mode': 'navigate', accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };

interface SlowOrigin {
  port: number;
  /** every target that reached the origin */
  seen: string[];
  /** when each target's last byte was written (performance.now()) */
  finishedAt: Map<string, number>;
  close(): Promise<void>;
}

/** The file `/…/<size>` (served at RATE in 50 ms slices); `eicar` in the path puts EICAR at its very end. */
function fileBytes(target: string): Buffer {
  const size = Number(/\/(\d+)/.exec(target)?.[1] ?? SIZE);
  // every target its own bytes: no verdict cached for one file answers for another
  const seed = [...target].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7);
  const body = deterministicBytes(size, seed);
  if (target.includes('eicar')) Buffer.from(EICAR, 'latin1').copy(body, size - EICAR.length);
  return body;
}

async function startSlowOrigin(): Promise<SlowOrigin> {
  const seen: string[] = [];
  const finishedAt = new Map<string, number>();
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    const target = req.url ?? '/';
    seen.push(target);
    const body = fileBytes(target);
    const headers: Record<string, string> = { 'content-type': 'application/zip', 'x-origin': 'slow' };
    if (!target.includes('chunked')) headers['content-length'] = String(body.length);
    res.writeHead(200, headers);
    const slice = Math.ceil(RATE / 20);
    let offset = 0;
    const timer = setInterval(() => {
      res.write(body.subarray(offset, offset + slice));
      offset += slice;
      if (offset >= body.length) {
        clearInterval(timer);
        finishedAt.set(target, performance.now());
        res.end();
      }
    }, 50);
    res.on('close', () => clearInterval(timer));
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    seen,
    finishedAt,
    close: () => new Promise((r) => (sockets.forEach((s) => s.destroy()), server.close(() => r()))),
  };
}

interface Got {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** performance.now() of the head and of the first body byte */
  headAt: number;
  firstByteAt: number | undefined;
  complete: boolean;
}

/** An absolute-form GET through the proxy that reports what arrived even when the connection is cut. */
function get(proxyPort: number, url: string, headers: Record<string, string> = {}, options: { localAddress?: string; abortAfterBytes?: number } = {}): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: proxyPort, path: url, headers, agent: false, ...(options.localAddress ? { localAddress: options.localAddress } : {}) }, (res) => {
      const got: Got = { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.alloc(0), headAt: performance.now(), firstByteAt: undefined, complete: false };
      const chunks: Buffer[] = [];
      let bytes = 0;
      res.on('data', (c: Buffer) => {
        got.firstByteAt ??= performance.now();
        chunks.push(c);
        bytes += c.length;
        if (options.abortAfterBytes !== undefined && bytes >= options.abortAfterBytes) req.destroy();
      });
      res.on('end', () => (got.complete = res.complete));
      res.on('error', () => undefined);
      res.on('close', () => resolve({ ...got, body: Buffer.concat(chunks) }));
    });
    req.on('error', (err) => (req.destroyed && options.abortAfterBytes !== undefined ? undefined : reject(err)));
    req.end();
  });
}

const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let icap: FakeIcapServer;
let origin: SlowOrigin;
let proxy: TestProxy;
let base: string;
let httpsOrigin: Origin;
const originCaDir = tempDir('dlp-proxy-delivery-origin-ca-');

beforeAll(async () => {
  const { ca } = await CertificateAuthority.loadOrCreate({ dir: originCaDir, leafValidityDays: 30, certCacheSize: 4 });
  const leaf = ca.issueLeaf({ host: 'localhost', kind: 'dns' });
  httpsOrigin = await startOrigin({ tls: { cert: leaf.certPem, key: leaf.keyPem } });
  icap = await startFakeIcapServer({
    onRequest: (req) => {
      const resHead = req.http.find((h) => h.kind === 'response')!;
      if (req.body.includes(Buffer.from(EICAR, 'latin1'))) {
        const blocked: HttpHead = { kind: 'response', status: 403, reason: 'Forbidden', version: '1.1', headers: [['Content-Type', 'text/plain']] };
        return { send: answers.modified(blocked, 'infected', [['ISTag', '"fake-1"'], ['X-Infection-Found', 'Type=0; Resolution=2; Threat=Eicar-Test-Signature;']]) };
      }
      if (req.http.some((h) => h.kind === 'request' && h.target?.includes('replace-me'))) return { send: answers.modified(resHead, 'a replacement body') };
      return { send: answers.noContent() };
    },
  });
  origin = await startSlowOrigin();
  base = `http://127.0.0.1:${origin.port}`;
  proxy = await startTestProxy(proxyConfig(TTL_MS), { caDir });
});

const caDir = tempCaDir();
/** long enough for every other test to fetch its file in time, even on a loaded machine */
const TTL_MS = 2000;
function proxyConfig(ttlMs: number) {
  const delivery = { trickleHoldBytes: HOLD, trickleMinBytes: 512 * KiB, trickleBytesPerSecond: 8 * MiB };
  return {
    upstream: { extraCaFiles: [path.join(originCaDir, 'ca.pem')] },
    services: { av: { urls: [icap.url('av')], vendor: 'generic' } },
    scan: { patience: { maxHeldBytes: 1.5 * MiB, ttlMs } },
    policy: [
      { name: 'held', match: { direction: 'download', paths: ['^/held/'] }, scan: 'av' },
      { name: 'patient', match: { direction: 'download', paths: ['^/patient/'] }, scan: 'av', delivery: { mode: 'patience', ...delivery } },
      { name: 'patient-https', match: { direction: 'download', hosts: ['localhost'] }, scan: 'av', delivery: { mode: 'patience', ...delivery } },
      { name: 'trickled', match: { direction: 'download' }, scan: 'av', delivery: { mode: 'trickle', ...delivery } },
    ],
  };
}

afterAll(async () => {
  await proxy?.close();
  await origin?.close();
  await httpsOrigin?.close();
  await icap?.close();
});

describe('trickle', () => {
  it('first bytes leave before the verdict (hold: only after the whole file arrived), and a clean file completes byte-exact', async () => {
    const trickled = await get(proxy.port, `${base}/t/clean/${SIZE}`);
    const held = await get(proxy.port, `${base}/held/clean/${SIZE}`);
    const originDone = origin.finishedAt.get(`/t/clean/${SIZE}`)!;
    expect(trickled.complete).toBe(true);
    expect(sha(trickled.body)).toBe(sha(fileBytes(`/t/clean/${SIZE}`)));
    expect(trickled.headers['content-length']).toBe(String(SIZE));
    // the verdict needs the whole body: a first byte before the origin's last one came before it
    expect(trickled.firstByteAt!).toBeLessThan(originDone);
    // hold: nothing before the origin's last byte (and so before the verdict)
    expect(held.headAt).toBeGreaterThan(origin.finishedAt.get(`/held/clean/${SIZE}`)!);
    expect(sha(held.body)).toBe(sha(fileBytes(`/held/clean/${SIZE}`)));
    // the access line says how each reached the client
    await waitForLog((l) => l.log === 'access' && l.path === `/t/clean/${SIZE}` && l.delivery === 'trickle');
    await waitForLog((l) => l.log === 'access' && l.path === `/held/clean/${SIZE}` && l.delivery === 'hold');
  });

  it('EICAR at the end (Content-Length): the client never gets a complete body, nor the last trickleHoldBytes', async () => {
    const got = await get(proxy.port, `${base}/t/eicar/${SIZE}`);
    expect(got.status).toBe(200);
    expect(got.headers['content-length']).toBe(String(SIZE));
    expect(got.complete).toBe(false);
    expect(got.body.length).toBeGreaterThan(0); // it did trickle
    expect(got.body.length).toBeLessThanOrEqual(SIZE - HOLD);
    expect(got.body.equals(fileBytes(`/t/eicar/${SIZE}`).subarray(0, got.body.length))).toBe(true);
    await waitForLog((l) => l['log'] === 'access' && l['path'] === `/t/eicar/${SIZE}` && String(l['verdict']).startsWith('block/'));
  });

  it('EICAR at the end (chunked): the chunked body is never terminated', async () => {
    const got = await get(proxy.port, `${base}/t/eicar/chunked/${SIZE}`);
    expect(got.headers['transfer-encoding']).toBe('chunked');
    expect(got.complete).toBe(false);
    expect(got.body.length).toBeGreaterThan(0);
    expect(got.body.length).toBeLessThanOrEqual(SIZE - HOLD);
  });

  it('a replacement after the head went out is a cut, logged as a block', async () => {
    const got = await get(proxy.port, `${base}/t/replace-me/${SIZE}`);
    expect(got.complete).toBe(false);
    expect(got.body.includes(Buffer.from('a replacement body'))).toBe(false);
    await waitForLog((l) => l['log'] === 'access' && l['path'] === `/t/replace-me/${SIZE}` && l['verdict'] === 'block/icap');
  });

  it('a client that vanishes mid-trickle: the same process still serves', async () => {
    const gone = await get(proxy.port, `${base}/t/vanish/${SIZE}`, {}, { abortAfterBytes: 1 });
    expect(gone.complete).toBe(false);
    const next = await get(proxy.port, `${base}/t/after-vanish/${SIZE}`);
    expect(next.complete).toBe(true);
    expect(sha(next.body)).toBe(sha(fileBytes(`/t/after-vanish/${SIZE}`)));
  });
});

/** The proxy's log has a line matching `pred` (the access line is written as the exchange closes). */
async function waitForLog(pred: (l: Record<string, unknown>) => boolean): Promise<void> {
  await expect.poll(() => proxy.logs.some(pred), { timeout: 10_000 }).toBe(true);
}

/** Poll a status URL (absolute) through the proxy until it is no longer scanning. */
async function pollUntilSettled(statusUrl: string): Promise<Record<string, unknown>> {
  for (;;) {
    const got = await get(proxy.port, statusUrl, { accept: 'application/json' });
    const status = JSON.parse(got.body.toString('utf8')) as Record<string, unknown>;
    if (status['state'] !== 'scanning') return status;
    expect(got.status).toBe(202);
    expect(got.headers['retry-after']).toBe('1');
    await sleep(100);
  }
}

/** The status and file URLs of a patience page, made absolute. */
function pageUrls(page: Buffer, target: string): { status: string; file: string } {
  const cfg = JSON.parse(/const cfg = (\{.*?\});/.exec(page.toString('utf8'))![1]!) as { statusUrl: string; fileUrl: string };
  expect(cfg.statusUrl.startsWith(`${target}?dlp-proxy-patience=status.`)).toBe(true);
  return { status: base + cfg.statusUrl, file: base + cfg.fileUrl };
}

describe('patience', () => {
  it('a browser navigation gets the page at once, then status polls, then the file byte-exact, once', async () => {
    const target = `/patient/clean/${PSIZE}`;
    const start = performance.now();
    const page = await get(proxy.port, base + target, NAVIGATE);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body.toString('utf8')).toContain('Checking your download');
    const urls = pageUrls(page.body, target);
    const status = await pollUntilSettled(urls.status);
    // at once: before the origin's last byte (0.25 s at its rate; later on a loaded machine, and so
    // the page too), not after the whole file and its scan
    expect(page.headAt).toBeLessThan(origin.finishedAt.get(target)!);
    expect(page.headAt - start).toBeLessThan(2000);
    expect(status).toMatchObject({ state: 'ready', receivedBytes: PSIZE, totalBytes: PSIZE });
    const file = await get(proxy.port, urls.file, NAVIGATE);
    expect(file.status).toBe(200);
    expect(file.headers['x-origin']).toBe('slow'); // the origin's headers
    expect(file.headers['content-length']).toBe(String(PSIZE));
    expect(sha(file.body)).toBe(sha(fileBytes(target)));
    expect((await get(proxy.port, urls.file)).status).toBe(404); // one-time
    expect(origin.seen.filter((t) => t.includes('dlp-proxy-patience'))).toEqual([]);
    expect(origin.seen.filter((t) => t === target)).toHaveLength(1);
    await waitForLog((l) => l.log === 'access' && l.path === target && l.delivery === 'patience');
  });

  it('intercepted https://: the page, its status and file links on the same origin, answered inside the tunnel', async () => {
    const over = (target: string, headers: Record<string, string> = {}) => httpsViaProxy(proxy.port, 'localhost', httpsOrigin.port, target, { ca: proxy.caPem, headers });
    const target = `/bytes/${PSIZE}`;
    const page = await over(target, NAVIGATE);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    const cfg = JSON.parse(/const cfg = (\{.*?\});/.exec(page.body.toString('utf8'))![1]!) as { statusUrl: string; fileUrl: string };
    for (let state = 'scanning'; state === 'scanning'; await sleep(50)) state = JSON.parse((await over(cfg.statusUrl)).body.toString('utf8')).state;
    const file = await over(cfg.fileUrl);
    expect(file.status).toBe(200);
    expect(sha(file.body)).toBe(sha(deterministicBytes(PSIZE)));
    expect(httpsOrigin.seen.map((r) => r.url)).toEqual([target]);
  });

  it('forged, other-client and expired links get 403/404 and nothing from the origin', async () => {
    const target = `/patient/links/${PSIZE}`;
    const page = await get(proxy.port, base + target, NAVIGATE);
    const urls = pageUrls(page.body, target);
    const seen = origin.seen.length;
    const forged = urls.file.replace(/file\.[A-Za-z0-9_-]+/, `file.${'A'.repeat(43)}`);
    expect((await get(proxy.port, forged)).status).toBe(404);
    expect((await get(proxy.port, `${base}/patient/links/${PSIZE}?dlp-proxy-patience=garbage`)).status).toBe(404);
    // the right token on another URL of the same host, and from another client address
    expect((await get(proxy.port, urls.file.replace('/patient/links/', '/patient/other/'))).status).toBe(404);
    expect((await get(proxy.port, urls.status, {}, { localAddress: '127.0.0.2' })).status).toBe(403);
    await pollUntilSettled(urls.status);
    expect((await get(proxy.port, urls.file, {}, { localAddress: '127.0.0.2' })).status).toBe(403);
    // scan.patience.ttlMs: not fetched in time, the file is deleted and its links answer 404
    await sleep(TTL_MS + 200);
    expect((await get(proxy.port, urls.status)).status).toBe(404);
    expect((await get(proxy.port, urls.file)).status).toBe(404);
    expect(origin.seen.length).toBe(seen);
  });

  it('EICAR under patience: the status says blocked and the file link gives our block page, no file', async () => {
    const target = `/patient/eicar/${PSIZE}`;
    const page = await get(proxy.port, base + target, NAVIGATE);
    const urls = pageUrls(page.body, target);
    expect(await pollUntilSettled(urls.status)).toMatchObject({ state: 'blocked' });
    const file = await get(proxy.port, urls.file, NAVIGATE);
    expect(file.status).toBe(403);
    expect(file.headers['x-dlp-incident']).toMatch(/\w/);
    expect(file.body.toString('utf8')).toContain('was blocked');
    expect(file.body.length).toBeLessThan(64 * KiB);
  });

  it('a JSON client gets 202 with the status URL; curl gets the fallback (hold): the whole file after the verdict', async () => {
    const target = `/patient/json/${PSIZE}`;
    const accepted = await get(proxy.port, base + target, { accept: 'application/json' });
    expect(accepted.status).toBe(202);
    expect(accepted.headers['retry-after']).toBe('1');
    const doc = JSON.parse(accepted.body.toString('utf8')) as { statusUrl: string; fileUrl: string; totalBytes: number };
    expect(doc.totalBytes).toBe(PSIZE);
    expect(doc.statusUrl.startsWith(base + target)).toBe(true);
    // the file URL waits for the verdict by itself
    const file = await get(proxy.port, doc.fileUrl, { accept: 'application/json' });
    expect(sha(file.body)).toBe(sha(fileBytes(target)));
    const curl = await get(proxy.port, `${base}/patient/curl/${PSIZE}`, { accept: '*/*' });
    expect(curl.status).toBe(200);
    expect(sha(curl.body)).toBe(sha(fileBytes(`/patient/curl/${PSIZE}`)));
    await waitForLog((l) => l.log === 'access' && l.path === `/patient/curl/${PSIZE}` && l.delivery === 'hold');
  });

  it('past scan.patience.maxHeldBytes a navigation takes the fallback instead of the page', async () => {
    const first = await get(proxy.port, `${base}/patient/bound-1/${PSIZE}`, NAVIGATE); // 1 of 1.5 MiB held until fetched
    expect(first.headers['content-type']).toMatch(/^text\/html/);
    const second = await get(proxy.port, `${base}/patient/bound-2/${PSIZE}`, NAVIGATE);
    expect(second.headers['content-type']).toBe('application/zip');
    expect(sha(second.body)).toBe(sha(fileBytes(`/patient/bound-2/${PSIZE}`)));
    const urls = pageUrls(first.body, `/patient/bound-1/${PSIZE}`);
    await pollUntilSettled(urls.status);
    expect((await get(proxy.port, urls.file)).body.length).toBe(PSIZE);
    expect((await get(proxy.port, `${base}/patient/bound-3/${PSIZE}`, NAVIGATE)).headers['content-type']).toMatch(/^text\/html/);
  });
});
