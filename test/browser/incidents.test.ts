// The incident reports in a real browser: Debian's Chromium (headless, playwright-core through its
// executable path) uses the proxy for the web and reaches the admin listener directly, as
// http://localhost:<port> (admin.publicUrl), a different site from the origin at 127.0.0.1, so
// the SameSite=Strict session is seen as the browser really applies it. The proxy records every
// block in its incident store (SQLite); the admin listener reads that store. An analyst signs in,
// a person's upload with a card number is blocked and the number on the block page is followed to
// the incident (through the sign-in page's continue link: a Strict cookie does not travel with a
// navigation another site started), the list is filtered, exported as CSV, summarised and left.
// Screenshots go to test-artifacts/.
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminServer, incidentLinkBase, incidentReportsOptions } from '../../src/admin/index.js';
import { CertificateAuthority } from '../../src/ca/index.js';
import { parseConfig } from '../../src/config/index.js';
import { linkIncidents } from '../../src/enforce/render-page.js';
import type { IcapServerHandle } from '../../src/icap-server/index.js';
import { hashPassword } from '../../src/proxy/index.js';
import { launchBrowserThroughProxy } from '../support/browser.js';
import { freePort } from '../support/peers/common.js';
import { startBuiltinIcap, startTestProxy, type TestProxy } from '../support/proxy-harness.js';

const ARTIFACTS = path.resolve('test-artifacts');
const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
const PASSWORD = 'analyst pass 2024';

const FORM = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Expense portal</title>
<style>body{font:16px system-ui,sans-serif;margin:3rem} label{display:block;margin:.75rem 0 .25rem}</style></head>
<body><h1>Submit an expense report</h1>
<form method="post" action="/upload" enctype="multipart/form-data">
  <label for="notes">Notes</label><textarea id="notes" name="notes" rows="4" cols="50"></textarea>
  <label for="attachment">Receipt</label><input id="attachment" name="attachment" type="file">
  <p><button id="send" type="submit">Send report</button></p>
</form></body></html>`;

/** An HTTPS origin (its own CA, trusted by the proxy's upstream side) with the form and an EICAR download. */
async function startOrigin(caDir: string): Promise<{ port: number; close(): Promise<void> }> {
  const { ca } = await CertificateAuthority.loadOrCreate({ dir: caDir, leafValidityDays: 30, certCacheSize: 4 });
  const leaf = ca.issueLeaf({ host: '127.0.0.1', kind: 'ipv4' });
  const sockets = new Set<net.Socket>();
  const server = https.createServer({ cert: leaf.certPem, key: leaf.keyPem }, (req: http.IncomingMessage, res: http.ServerResponse) => {
    req.resume();
    if (req.url === '/tools/eicar.com') res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(EICAR);
    else if (req.method === 'POST') req.on('end', () => res.writeHead(200, { 'content-type': 'text/html' }).end('<h1 id="received">Received</h1>'));
    else res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(FORM);
  });
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('incident reports in headless Chromium', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dlp-proxy-incidents-browser-'));
  let icap: IcapServerHandle;
  let origin: { port: number; close(): Promise<void> };
  let proxy: TestProxy;
  let admin: AdminServer;
  let adminUrl: string;
  let context: BrowserContext;
  let page: Page;
  let blockedId: string;

  const shot = (name: string) => page.screenshot({ path: path.join(ARTIFACTS, name), fullPage: true });
  const storedRecord = (id: string) => expect.poll(() => proxy.app.incidents!.get(id), { timeout: 10_000 }).toBeDefined();

  beforeAll(async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    icap = await startBuiltinIcap();
    origin = await startOrigin(path.join(tmp, 'origin-ca'));
    proxy = await startTestProxy({
      upstream: { extraCaFiles: [path.join(tmp, 'origin-ca', 'ca.pem')] },
      services: { dlp: { urls: [`icap://127.0.0.1:${icap.port}/dlp`] }, av: { urls: [`icap://127.0.0.1:${icap.port}/av`] } },
      policy: [
        { name: 'uploads', match: { direction: 'upload' }, scan: 'dlp' },
        { name: 'downloads', match: { direction: 'download' }, scan: 'av' },
      ],
      incidents: { dir: path.join(tmp, 'incidents'), batchMs: 20 },
    });
    expect(proxy.app.incidents).toBeDefined();

    // The admin listener with the reports over the proxy's store, reached as http://localhost:<port>
    const adminPort = await freePort();
    const adminConfig = parseConfig({ admin: { port: adminPort, users: [{ name: 'analyst', passwordHash: await hashPassword(PASSWORD) }], publicUrl: `http://localhost:${adminPort}` } }, 'test');
    admin = new AdminServer({
      host: '127.0.0.1',
      port: adminPort,
      allowedClients: [],
      metrics: { text: async () => '', contentType: 'text/plain' },
      ca: { certPem: proxy.caPem, certDer: Buffer.alloc(0) },
      proxy: { host: '127.0.0.1', port: proxy.port, bypass: [], tunnel: [] },
      contact: 'the service desk',
      readiness: async () => ({ ready: true }) as never,
      incidents: incidentReportsOptions(() => adminConfig, proxy.app.incidents),
    });
    await admin.listen();
    adminUrl = `http://localhost:${adminPort}`;
    linkIncidents(incidentLinkBase(adminConfig.admin, adminPort));

    // The admin listener is reached directly, as the PAC file has browsers do: the proxy refuses
    // to forward to its own listeners.
    context = await launchBrowserThroughProxy({ dir: tmp, proxyPort: proxy.port, caPem: proxy.caPem, bypass: [`localhost:${adminPort}`], viewport: { width: 1280, height: 860 }, acceptDownloads: true });
    page = context.pages()[0] ?? (await context.newPage());
  }, 120_000);

  afterAll(async () => {
    linkIncidents(undefined);
    await context?.close();
    await admin?.close();
    await proxy?.close();
    await origin?.close();
    await icap?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('signs in: the incident list sends an anonymous visitor to the form, then back', async () => {
    const first = await page.goto(`${adminUrl}/incidents`);
    expect(first?.url()).toBe(`${adminUrl}/login?next=%2Fincidents`);
    // typed by hand: no "continue" link (there was no session to leave behind)
    expect(await page.locator('#continue').count()).toBe(0);
    await shot('incidents-login.png');
    await page.fill('#user', 'analyst');
    await page.fill('#password', 'wrong');
    await Promise.all([page.waitForNavigation(), page.click('#sign-in')]);
    expect(await page.textContent('#login-error')).toBe('Wrong user name or password.');
    await page.fill('#password', PASSWORD);
    await Promise.all([page.waitForNavigation(), page.click('#sign-in')]);
    expect(page.url()).toBe(`${adminUrl}/incidents`);
    expect(await page.textContent('#signed-in-user')).toBe('analyst');
    const [session] = (await context.cookies(adminUrl)).filter((c) => c.name === 'dlp-admin-session');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict', secure: false, path: '/' });
  });

  it("follows the block page's incident number to the incident", async () => {
    await page.goto(`https://127.0.0.1:${origin.port}/expenses`);
    await page.fill('#notes', 'Team lunch');
    await page.setInputFiles('#attachment', { name: 'receipt.txt', mimeType: 'text/plain', buffer: Buffer.from('Paid with card 4111 1111 1111 1111, exp 12/29\n') });
    const [blocked] = await Promise.all([page.waitForNavigation(), page.click('#send')]);
    expect(blocked?.status()).toBe(403);
    blockedId = blocked!.headers()['x-dlp-incident']!;
    expect(await page.getAttribute('#incident-link', 'href')).toBe(`${adminUrl}/incidents/${blockedId}`);
    await shot('block-page-incident-link.png');
    await storedRecord(blockedId);

    // another site started this navigation: the Strict session cookie stays behind, the sign-in
    // page offers the same page again as a link of our own, which carries it
    await Promise.all([page.waitForNavigation(), page.click('#incident-link')]);
    expect(page.url()).toBe(`${adminUrl}/login?next=${encodeURIComponent(`/incidents/${blockedId}`)}`);
    expect(await page.textContent('#continue')).toContain(`/incidents/${blockedId}`);
    await shot('incident-link-sign-in.png');
    await Promise.all([page.waitForNavigation(), page.click('#continue a')]);
    expect(page.url()).toBe(`${adminUrl}/incidents/${blockedId}`);
    expect(await page.textContent('#incident-id')).toBe(blockedId);
    expect(await page.textContent('#action')).toBe('blocked');
    expect(await page.textContent('#direction')).toBe('upload');
    expect(await page.textContent('#host')).toBe('127.0.0.1');
    expect(await page.textContent('#path')).toBe('/upload');
    expect(await page.textContent('#violations')).toMatch(/card/);
    expect(await page.textContent('#rule')).toBe('uploads');
    await shot('incident-page.png');
  });

  it('filters the list by direction and exports the filtered incidents as CSV', async () => {
    // a blocked download (EICAR) beside the blocked upload
    const download = await page.goto(`https://127.0.0.1:${origin.port}/tools/eicar.com`);
    expect(download?.status()).toBe(403);
    const downloadId = download!.headers()['x-dlp-incident']!;
    await storedRecord(downloadId);

    await page.goto(`${adminUrl}/incidents`);
    expect(await page.locator('#incidents tbody tr').count()).toBe(2);
    await page.selectOption('#f-direction', 'download');
    await Promise.all([page.waitForNavigation(), page.click('#apply')]);
    expect(new URL(page.url()).searchParams.get('direction')).toBe('download');
    const rows = page.locator('#incidents tbody tr');
    expect(await rows.count()).toBe(1);
    expect(await rows.first().locator('td.id').textContent()).toBe(downloadId);
    expect(await page.textContent('#total')).toBe('1 incident matches');
    await shot('incidents-filtered.png');

    const [file] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
    expect(file.suggestedFilename()).toMatch(/^incidents-\d{8}T\d{6}Z\.csv$/);
    const csv = fs.readFileSync((await file.path())!, 'utf8').trimEnd().split('\r\n');
    expect(csv[0]).toBe('incident,time,action,direction,client,user,method,host,path,rule,violations,reason,service,istag,source,sizeBytes,sha256');
    expect(csv).toHaveLength(2);
    const cells = csv[1]!.split(',');
    expect(cells.slice(0, 4)).toEqual([downloadId, expect.stringMatching(/^\d{4}-\d\d-\d\dT/), 'block', 'download']);
    expect(cells[8]).toBe('/tools/eicar.com');
  });

  it('summarises the period with a chart, then logs out', async () => {
    await page.goto(`${adminUrl}/incidents/summary`);
    await expect.poll(() => page.textContent('#summary-total')).toBe('2 incidents');
    expect(await page.locator('#per-day-chart rect.bar').count()).toBe(7);
    expect(await page.locator('#top-rules tbody tr').count()).toBe(2);
    await shot('incidents-summary.png');
    await Promise.all([page.waitForNavigation(), page.click('#logout')]);
    expect(page.url()).toBe(`${adminUrl}/login`);
    await page.goto(`${adminUrl}/incidents/${blockedId}`);
    expect(page.url()).toBe(`${adminUrl}/login?next=${encodeURIComponent(`/incidents/${blockedId}`)}`);
  });
});
