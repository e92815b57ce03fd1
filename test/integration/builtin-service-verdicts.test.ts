// The proxy with its built-in ICAP service in one process (startApp, the service in its worker
// thread), as `dlp-proxy start` with workers: 1 runs it. (1) A reload of icapServer.edm changes the
// dlp ISTag and the proxy's services fetch OPTIONS again before reloadIcapServer() resolves, so a
// body passed (and cached) before the reload is scanned again and blocked: no verdict of the old tag
// is used (RFC 3507 §4.7), although Options-TTL is an hour. (2) The block page names each finding
// with its count, in HTML and in JSON, as the service reports them in X-Violations-Found.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { transactionCounter } from '../support/enforcement-suite.js';
import { startOrigin, type Origin } from '../support/origin.js';
import { proxyRequest } from '../support/proxy-client.js';
import { startTestProxy, tempCaDir, type TestProxy } from '../support/proxy-harness.js';
import { freePort } from '../support/peers/common.js';
import { tempDir } from '../support/temp-dir.js';

let origin: Origin;
let proxy: TestProxy | undefined;
const caDir = tempCaDir();

beforeAll(async () => {
  origin = await startOrigin();
});
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
});
afterAll(async () => {
  await origin?.close();
});

async function start(icapServer: Record<string, unknown>): Promise<TestProxy> {
  const port = await freePort();
  proxy = await startTestProxy(
    {
      icapServer: { enabled: true, port, ...icapServer },
      services: { dlp: { urls: [`icap://127.0.0.1:${port}/dlp`] }, av: { urls: [`icap://127.0.0.1:${port}/av`] } },
      policy: [{ name: 'uploads', match: { direction: 'upload' }, scan: 'dlp' }],
    },
    { caDir },
  );
  return proxy;
}

const upload = (p: TestProxy, body: string, accept = 'application/json') =>
  proxyRequest(p.port, `${origin.url}/upload`, { method: 'POST', body, headers: { 'content-type': 'text/plain', accept } });

describe('built-in service in the proxy process', () => {
  it('a data set reload retires the verdicts of the old ISTag at once: a body passed before is blocked after; a failed reload changes nothing', async () => {
    const csv = path.join(tempDir('dlp-proxy-edm-'), 'customers.csv');
    fs.writeFileSync(csv, 'name,email,account\nJane Roe,jane.roe@corp-mail.net,88231907\n');
    const p = await start({ edm: [{ name: 'customers', file: csv }] });
    const body = 'Please update John Doe, account 77120455, in the CRM.';
    const transactions = transactionCounter();
    try {
      expect((await upload(p, body)).status).toBe(200);
      // the same body again is answered from the verdict cache: without a refresh it would pass on
      expect((await upload(p, body)).status).toBe(200);
      expect(transactions.count('REQMOD')).toBe(1);
      const before = p.app.services.get('dlp')!.icap.istag;

      fs.appendFileSync(csv, 'John Doe,john.doe@corp-mail.net,77120455\n');
      const istags = await p.app.reloadIcapServer();
      expect(istags?.dlp).not.toBe(before);
      // the service knows the new tag before the next exchange: no wait for Options-TTL (1 h)
      expect(p.app.services.get('dlp')!.icap.istag).toBe(istags?.dlp);
      expect(p.app.services.get('av')!.icap.istag).toBeDefined();

      const blocked = await upload(p, body);
      expect(blocked.status).toBe(403);
      expect(JSON.parse(blocked.body.toString())).toMatchObject({ violations: ['edm:customers x1'], counts: { 'edm:customers': 1 } });
      expect(transactions.count('REQMOD')).toBe(2);
      expect(p.logs.some((l) => l.msg === 'built-in ICAP service ISTag changed')).toBe(true);

      // a reload that cannot read the file keeps the data sets, the tag and so the verdicts in force
      fs.rmSync(csv);
      await expect(p.app.reloadIcapServer()).rejects.toThrow(/icapServer\.edm\[0\]\.file: cannot read/);
      expect(p.app.services.get('dlp')!.icap.istag).toBe(istags?.dlp);
      expect((await upload(p, body)).status).toBe(403);
    } finally {
      transactions.stop();
    }
  });

  it('the block page names each finding with its count: 3 card numbers and 1 SSN', async () => {
    const p = await start({});
    const body = 'Cards on file: 4111 1111 1111 1111, 5500 0000 0000 0004 and 4012 8888 8888 1881. Her SSN: 536-22-1234.';
    const json = await upload(p, body);
    expect(json.status).toBe(403);
    const page = JSON.parse(json.body.toString()) as { violations: string[]; counts: Record<string, number> };
    expect(page.violations).toEqual(['payment-card x3', 'us-ssn x1']);
    expect(page.counts).toEqual({ 'payment-card': 3, 'us-ssn': 1 });
    const html = await upload(p, body, 'text/html');
    expect(html.status).toBe(403);
    expect(html.body.toString()).toContain('a payment card number ×3, a US social security number ×1');
    // the log carries the bare names (what alert routes and incident filters match)
    const violation = p.logs.find((l) => l.log === 'violation');
    expect(violation?.violations).toEqual(['payment-card', 'us-ssn']);
  });
});
