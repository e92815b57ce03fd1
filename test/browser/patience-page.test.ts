// The patience page in a real browser (Debian's Chromium through the proxy, test/support/browser.ts):
// a navigation to a large scanned download shows the progress page at once; its script polls
// the status link through the proxy and, once the built-in AV passed the file, opens the file
// link, and the browser's download completes byte-exact. A screenshot goes to test-artifacts/.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import path from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IcapServerHandle } from '../../src/icap-server/index.js';
import { launchBrowserThroughProxy } from '../support/browser.js';
import { deterministicBytes } from '../support/origin.js';
import { startBuiltinIcap, startTestProxy, type TestProxy } from '../support/proxy-harness.js';
import { tempDir } from '../support/temp-dir.js';

const ARTIFACTS = path.resolve('test-artifacts');
const SIZE = 2 * 1024 * 1024;
const FILE = deterministicBytes(SIZE, 99);

/** An origin that sends the file as an attachment at 4 MiB/s, so the scan takes about half a second. */
async function startSlowOrigin(): Promise<{ port: number; seen: string[]; close(): Promise<void> }> {
  const seen: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    seen.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'application/zip', 'content-length': String(SIZE), 'content-disposition': 'attachment; filename="tool.zip"' });
    let offset = 0;
    const timer = setInterval(() => {
      res.write(FILE.subarray(offset, (offset += 200 * 1024)));
      if (offset >= SIZE) {
        clearInterval(timer);
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
  return { port: (server.address() as net.AddressInfo).port, seen, close: () => new Promise((r) => (sockets.forEach((s) => s.destroy()), server.close(() => r()))) };
}

describe('the patience page in headless Chromium', () => {
  const tmp = tempDir('dlp-proxy-patience-browser-');
  let icap: IcapServerHandle;
  let origin: Awaited<ReturnType<typeof startSlowOrigin>>;
  let proxy: TestProxy;
  let context: BrowserContext;

  beforeAll(async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    icap = await startBuiltinIcap();
    origin = await startSlowOrigin();
    proxy = await startTestProxy({
      services: { av: { urls: [`icap://127.0.0.1:${icap.port}/av`] } },
      policy: [{ name: 'downloads', match: { direction: 'download' }, scan: 'av', delivery: { mode: 'patience', trickleMinBytes: 1024 * 1024 } }],
    });
    context = await launchBrowserThroughProxy({ dir: tmp, proxyPort: proxy.port, caPem: proxy.caPem, viewport: { width: 900, height: 600 }, acceptDownloads: true });
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await proxy?.close();
    await origin?.close();
    await icap?.close();
  });

  it('a navigation shows the page, then the download completes byte-exact', async () => {
    const page = context.pages()[0] ?? (await context.newPage());
    const download = page.waitForEvent('download', { timeout: 20_000 });
    await page.goto(`http://127.0.0.1:${origin.port}/releases/tool.zip`);
    await expect.poll(() => page.title()).toContain('Checking your download');
    expect(await page.textContent('h1')).toBe('Checking your download');
    await page.screenshot({ path: path.join(ARTIFACTS, 'patience-page.png') });
    const file = await download;
    expect(file.suggestedFilename()).toBe('tool.zip');
    const saved = path.join(tmp, 'tool.zip');
    await file.saveAs(saved);
    const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');
    expect(sha(fs.readFileSync(saved))).toBe(sha(FILE));
    await expect.poll(() => page.textContent('#state')).toMatch(/checked/);
    // the origin was asked once; the polls and the file fetch were answered by the proxy
    expect(origin.seen).toEqual(['/releases/tool.zip']);
  });
});
