// A client that leaves while a held body streams to it from a file. The exchange releases its
// spool when the client's connection closes, and the spool then fails every reader still copying
// from it ('spool released'). A reader nobody listens to would end the process with that error:
// one impatient client, one worker down. Each case is a scanned download bigger than the spool's
// RAM, read a little and dropped; after all of them the same process must still serve.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deterministicBytes, startOrigin, type Origin } from '../support/origin.js';
import { proxyRequest } from '../support/proxy-client.js';
import { startBuiltinIcap, startTestProxy, type TestProxy } from '../support/proxy-harness.js';

const SIZE = 8 * 1024 * 1024;
let icap: { port: number; close(): Promise<void> };
let origin: Origin;
let proxy: TestProxy;

beforeAll(async () => {
  icap = await startBuiltinIcap();
  origin = await startOrigin();
  proxy = await startTestProxy({
    services: { av: { urls: [`icap://127.0.0.1:${icap.port}/av`] } },
    // held bodies past 64 KiB go to a file: what reaches the client is a reader of that file
    scan: { spoolMemoryBytes: 64 * 1024, maxScanBytes: 64 * 1024 * 1024 },
    policy: [{ name: 'downloads', match: { direction: 'download' }, scan: 'av' }],
  });
});

afterAll(async () => {
  await proxy?.close();
  await origin?.close();
  await icap?.close();
});

/** Send `head` to the proxy on `port`, read until `bytes` arrived (or it closed), then drop the connection. */
function readThenLeave(head: string, bytes: number, port = proxy.port): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = 0;
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received >= bytes) {
        socket.destroy();
        resolve(received);
      }
    });
    socket.on('close', () => resolve(received));
    socket.write(head);
  });
}

const url = (path: string) => `http://127.0.0.1:${origin.port}${path}`;
const get = (path: string, extra: string[] = []) => `${[`GET ${url(path)} HTTP/1.1`, `Host: 127.0.0.1:${origin.port}`, ...extra].join('\r\n')}\r\n\r\n`;

describe('a client that leaves while a held body streams to it from a file', () => {
  it('mid-body of a whole scanned download: the process keeps serving', async () => {
    for (let i = 0; i < 3; i++) expect(await readThenLeave(get(`/bytes/${SIZE + i}`), 256 * 1024)).toBeGreaterThanOrEqual(256 * 1024);
    // the release happens as the connection closes: give it the turn it takes
    await new Promise((resolve) => setTimeout(resolve, 200));
    const after = await proxyRequest(proxy.port, url('/bytes/5000'));
    expect(after.body.equals(deterministicBytes(5000))).toBe(true);
  });

  it('mid-body of a byte range cut from a held download, and of several ranges: the process keeps serving', async () => {
    expect(await readThenLeave(get(`/bytes/${SIZE + 10}`, ['Range: bytes=0-6000000']), 256 * 1024)).toBeGreaterThanOrEqual(256 * 1024);
    expect(await readThenLeave(get(`/bytes/${SIZE + 11}`, ['Range: bytes=0-3000000,4000000-7000000']), 256 * 1024)).toBeGreaterThanOrEqual(256 * 1024);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const after = await proxyRequest(proxy.port, url('/bytes/6000'), { headers: { range: 'bytes=10-19' } });
    expect(after.status).toBe(206);
    expect(after.body.equals(deterministicBytes(6000).subarray(10, 20))).toBe(true);
  });
});

describe('a client that leaves while an oversize download passes (its held prefix from a file, then the rest)', () => {
  let oversize: TestProxy;
  beforeAll(async () => {
    oversize = await startTestProxy({
      services: { av: { urls: [`icap://127.0.0.1:${icap.port}/av`] } },
      scan: { spoolMemoryBytes: 64 * 1024, maxScanBytes: 1024 * 1024, oversizeAction: 'pass' },
      policy: [{ name: 'downloads', match: { direction: 'download' }, scan: 'av' }],
    });
  });
  afterAll(async () => {
    await oversize?.close();
  });

  it('mid-prefix and mid-rest: the process keeps serving', async () => {
    const leave = (path: string, bytes: number) => readThenLeave(get(path), bytes, oversize.port);
    expect(await leave(`/bytes/${SIZE + 20}`, 256 * 1024)).toBeGreaterThanOrEqual(256 * 1024);
    expect(await leave(`/bytes/${SIZE + 21}`, 2 * 1024 * 1024)).toBeGreaterThanOrEqual(2 * 1024 * 1024);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const after = await proxyRequest(oversize.port, url(`/bytes/${2 * 1024 * 1024}`));
    expect(after.body.equals(deterministicBytes(2 * 1024 * 1024))).toBe(true);
  });
});
