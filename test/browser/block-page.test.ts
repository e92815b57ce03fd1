// End to end in a real browser: Debian's Chromium (headless, driven by playwright-core through its
// executable path; no browser is ever downloaded) uses the proxy for everything, loopback
// included, and trusts our CA through an NSS database made with certutil in a temporary HOME
// (where Chromium on Linux reads it). It opens the onboarding page, submits a real HTML form over
// intercepted HTTPS with a card number in an attached file (our block page) and a clean one (the
// origin receives it), and a chat page whose WebSocket (wss://, intercepted) sends a clean message
// and one with a card number: the second closes the socket with 1008 and never reaches the origin.
// Screenshots go to test-artifacts/.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { WebSocketServer } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateAuthority } from '../../src/ca/index.js';
import type { IcapServerHandle } from '../../src/icap-server/index.js';
import { launchBrowserThroughProxy } from '../support/browser.js';
import { proxyRequest } from '../support/proxy-client.js';
import { startBuiltinIcap, startTestProxy, type TestProxy } from '../support/proxy-harness.js';

const ARTIFACTS = path.resolve('test-artifacts');
const CONTACT = 'the IT Service Desk (phone 4357 or help@example.com)';

const FORM = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Expense portal</title>
<style>body{font:16px system-ui,sans-serif;margin:3rem} label{display:block;margin:.75rem 0 .25rem}</style></head>
<body><h1>Submit an expense report</h1>
<form method="post" action="/upload" enctype="multipart/form-data">
  <label for="notes">Notes</label><textarea id="notes" name="notes" rows="4" cols="50"></textarea>
  <label for="attachment">Receipt</label><input id="attachment" name="attachment" type="file">
  <p><button id="send" type="submit">Send report</button></p>
</form></body></html>`;

const CHAT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Team chat</title></head>
<body><h1>Team chat</h1><ol id="log"></ol>
<script>
  const log = (text) => { const li = document.createElement('li'); li.textContent = text; document.getElementById('log').append(li); };
  const ws = new WebSocket('wss://' + location.host + '/socket');
  window.chat = { echoes: [], closed: null };
  ws.onopen = () => { log('connected'); ws.send('lunch at noon?'); };
  ws.onmessage = (e) => {
    window.chat.echoes.push(e.data);
    log('echo: ' + e.data);
    if (window.chat.echoes.length === 1) ws.send('my card is 4111 1111 1111 1111, exp 12/29');
  };
  ws.onclose = (e) => { window.chat.closed = e.code; log('closed with ' + e.code); };
</script></body></html>`;

interface FormOrigin {
  port: number;
  uploads: Array<{ bytes: number; sha256: string }>;
  /** WebSocket messages the origin received */
  messages: string[];
  close(): Promise<void>;
}

/** An HTTPS origin with its own CA (trusted by the proxy's upstream side only) serving the form. */
async function startFormOrigin(caDir: string): Promise<FormOrigin> {
  const { ca } = await CertificateAuthority.loadOrCreate({ dir: caDir, leafValidityDays: 30, certCacheSize: 4 });
  const leaf = ca.issueLeaf({ host: '127.0.0.1', kind: 'ipv4' });
  const uploads: FormOrigin['uploads'] = [];
  const sockets = new Set<net.Socket>();
  const server = https.createServer({ cert: leaf.certPem, key: leaf.keyPem }, (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (req.method === 'POST' && req.url === '/upload') {
      const hash = crypto.createHash('sha256');
      let bytes = 0;
      req.on('data', (c: Buffer) => {
        hash.update(c);
        bytes += c.length;
      });
      req.on('end', () => {
        uploads.push({ bytes, sha256: hash.digest('hex') });
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html><title>Received</title><h1 id="received">Report received (${bytes} bytes)</h1>`);
      });
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(req.url === '/chat' ? CHAT : FORM);
  });
  const messages: string[] = [];
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws) => ws.on('message', (data) => {
    messages.push(data.toString());
    ws.send(data.toString());
  }));
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    uploads,
    messages,
    async close() {
      wss.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('in headless Chromium through the proxy', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dlp-proxy-browser-'));
  let icap: IcapServerHandle;
  let origin: FormOrigin;
  let proxy: TestProxy;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    icap = await startBuiltinIcap();
    origin = await startFormOrigin(path.join(tmp, 'origin-ca'));
    proxy = await startTestProxy({
      admin: { enabled: true, port: 0 },
      upstream: { extraCaFiles: [path.join(tmp, 'origin-ca', 'ca.pem')] },
      services: { dlp: { urls: [`icap://127.0.0.1:${icap.port}/dlp`] }, av: { urls: [`icap://127.0.0.1:${icap.port}/av`] } },
      policy: [
        { name: 'websocket-from-server', match: { protocols: ['websocket'], direction: 'download' }, action: 'pass' },
        { name: 'uploads', match: { direction: 'upload' }, scan: 'dlp' },
        { name: 'downloads', match: { direction: 'download' }, scan: 'av' },
      ],
      blockPage: { contact: CONTACT },
    });

    // The admin listener is reached directly, as the PAC file has browsers do: the proxy refuses
    // to forward to its own listeners.
    context = await launchBrowserThroughProxy({ dir: tmp, proxyPort: proxy.port, caPem: proxy.caPem, bypass: [`127.0.0.1:${proxy.app.adminPort}`], viewport: { width: 1000, height: 820 } });
    page = context.pages()[0] ?? (await context.newPage());
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await proxy?.close();
    await origin?.close();
    await icap?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('renders the onboarding page with the CA fingerprint', async () => {
    await page.goto(`http://127.0.0.1:${proxy.app.adminPort}/`);
    await expect.poll(() => page.title()).toBe('Set up this device for the data protection proxy');
    expect(await page.textContent('#fingerprint')).toBe(new crypto.X509Certificate(proxy.caPem).fingerprint256);
    expect(await page.isVisible('#windows')).toBe(true);
    // Through the proxy the admin listener is out of reach (no reaching inside).
    const refused = await proxyRequest(proxy.port, `http://127.0.0.1:${proxy.app.adminPort}/metrics`);
    expect(refused.status).toBe(403);
    expect(refused.body.toString()).not.toContain('dlp_proxy_');
    await page.screenshot({ path: path.join(ARTIFACTS, 'onboarding-page.png'), fullPage: true });
  });

  it('shows our block page for a form upload carrying a card number; the origin receives nothing', async () => {
    const response = await page.goto(`https://127.0.0.1:${origin.port}/form`);
    expect(response?.status()).toBe(200);
    // Chromium validated the intercepted leaf against our CA in its NSS database.
    expect((await response?.securityDetails())?.issuer).toMatch(/^dlp-proxy CA/);
    await page.fill('#notes', 'Team lunch, see receipt');
    await page.setInputFiles('#attachment', { name: 'receipt.txt', mimeType: 'text/plain', buffer: Buffer.from('Paid with card 4111 1111 1111 1111, exp 12/29\n') });
    const [blocked] = await Promise.all([page.waitForNavigation(), page.click('#send')]);
    expect(blocked?.status()).toBe(403);
    const incident = blocked?.headers()['x-dlp-incident'];
    expect(incident).toMatch(/^[0-9a-z]{16}$/);
    const text = await page.textContent('body');
    expect(await page.textContent('h1')).toContain('blocked');
    expect(text).toContain(incident);
    expect(text).toContain(CONTACT);
    expect(text).toMatch(/card/i);
    expect(origin.uploads).toHaveLength(0);
    await page.screenshot({ path: path.join(ARTIFACTS, 'block-page.png'), fullPage: true });
  });

  it('lets a clean form upload reach the origin', async () => {
    await page.goto(`https://127.0.0.1:${origin.port}/form`);
    await page.fill('#notes', 'Taxi from the airport');
    const receipt = Buffer.from('Taxi 42.50 EUR, paid in cash\n');
    await page.setInputFiles('#attachment', { name: 'taxi.txt', mimeType: 'text/plain', buffer: receipt });
    const [done] = await Promise.all([page.waitForNavigation(), page.click('#send')]);
    expect(done?.status()).toBe(200);
    expect(await page.textContent('#received')).toMatch(/^Report received \(\d+ bytes\)$/);
    expect(origin.uploads).toHaveLength(1);
    await page.screenshot({ path: path.join(ARTIFACTS, 'clean-upload.png'), fullPage: true });
  });

  it('a chat over wss://: the clean message is echoed, the one with a card closes 1008 and never reaches the origin', async () => {
    await page.goto(`https://127.0.0.1:${origin.port}/chat`);
    await expect.poll(() => page.evaluate(() => (globalThis as unknown as { chat: { closed: number | null } }).chat.closed), { timeout: 10_000 }).toBe(1008);
    const chat = await page.evaluate(() => (globalThis as unknown as { chat: { echoes: string[] } }).chat);
    expect(chat.echoes).toEqual(['lunch at noon?']);
    expect(origin.messages).toEqual(['lunch at noon?']);
    await expect.poll(() => proxy.logs.find((l) => l['log'] === 'violation' && l['rule'] === 'uploads' && String(l['path']) === '/socket')).toBeDefined();
    await page.screenshot({ path: path.join(ARTIFACTS, 'websocket-chat.png'), fullPage: true });
  });
});
