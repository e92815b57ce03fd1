// SIGHUP reloads the built-in service's EDM file wherever the service runs, as an operator runs
// `dlp-proxy start`: with workers: 1 (the service in a worker thread of the proxy process) and
// with workers: 2 (in the primary; the verdict cache is the primary's, shared by the workers and
// kept across the reload). A body that passed, and was then answered from the verdict cache,
// is blocked after the record is added to the CSV and the signal sent: no verdict cached under
// the old ISTag is used (RFC 3507 §4.7). In cluster mode /metrics also shows the primary's own
// incident store counters (records written, store bytes), once, beside the workers' series.
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CARD } from '../support/enforcement-suite.js';
import { startOrigin, type Origin } from '../support/origin.js';
import { proxyRequest } from '../support/proxy-client.js';
import { startProxyProcess, type LogLine, type ProxyProcess } from '../support/proxy-process.js';
import { freePort } from '../support/peers/common.js';
import { scrapeMetrics, total } from '../support/prometheus-text.js';
import { tempDir } from '../support/temp-dir.js';

const caDir = tempDir('dlp-proxy-reload-ca-');
let origin: Origin;
let proc: ProxyProcess | undefined;

beforeAll(async () => {
  origin = await startOrigin();
});
afterEach(async () => {
  await proc?.kill();
  proc = undefined;
});
afterAll(async () => {
  await origin?.close();
});

const BODY = 'Please update John Doe, account 77120455, in the CRM.';

async function setUp(extra: Record<string, unknown>) {
  const csv = path.join(tempDir('dlp-proxy-reload-edm-'), 'customers.csv');
  fs.writeFileSync(csv, 'name,email,account\nJane Roe,jane.roe@corp-mail.net,88231907\n');
  const icapPort = await freePort();
  const port = await freePort();
  const doc = {
    proxy: { port },
    ca: { dir: caDir },
    icapServer: { port: icapPort, edm: [{ name: 'customers', file: csv }] },
    services: { dlp: { urls: [`icap://127.0.0.1:${icapPort}/dlp`] }, av: { urls: [`icap://127.0.0.1:${icapPort}/av`] } },
    policy: [{ name: 'uploads', match: { direction: 'upload' }, scan: 'dlp' }],
    log: { format: 'json', level: 'info' },
    ...extra,
  };
  const upload = (body = BODY) => proxyRequest(port, `${origin.url}/upload`, { method: 'POST', body, headers: { 'content-type': 'text/plain', accept: 'application/json' } });
  return { doc, csv, upload };
}

const accessVerdicts = (lines: LogLine[]) => lines.filter((l) => l.log === 'access' && l.path === '/upload').map((l) => l.verdict);

describe('SIGHUP reloads the built-in service data sets', () => {
  it('workers: 1, the service in the proxy process', { timeout: 60_000 }, async () => {
    const { doc, csv, upload } = await setUp({ workers: 1, admin: { enabled: false }, incidents: { enabled: false } });
    proc = await startProxyProcess(doc, 'proxy listening');
    expect((await upload()).status).toBe(200);
    expect((await upload()).status).toBe(200);
    await proc.waitFor((l) => l.log === 'access' && l.path === '/upload', 5_000, 2);
    expect(accessVerdicts(proc.lines)).toEqual(['pass/icap', 'pass/cache']);

    fs.appendFileSync(csv, 'John Doe,john.doe@corp-mail.net,77120455\n');
    proc.child.kill('SIGHUP');
    await proc.waitFor((l) => l.msg === 'SIGHUP: built-in ICAP service data sets reloaded');
    const blocked = await upload();
    expect(blocked.status).toBe(403);
    expect(JSON.parse(blocked.body.toString())).toMatchObject({ violations: ['edm:customers x1'] });
  });

  it('workers: 2, the service in the primary; /metrics shows the primary incident store counters', { timeout: 90_000 }, async () => {
    const adminPort = await freePort();
    const { doc, csv, upload } = await setUp({ workers: 2, admin: { port: adminPort }, incidents: { dir: path.join(tempDir('dlp-proxy-reload-incidents-'), 'store'), batchMs: 100 } });
    proc = await startProxyProcess(doc, 'cluster started');
    expect((await upload()).status).toBe(200);
    expect((await upload()).status).toBe(200);
    await proc.waitFor((l) => l.log === 'access' && l.path === '/upload', 5_000, 2);
    // the second answer came from the host's verdict cache, which outlives the reload below
    expect(accessVerdicts(proc.lines)).toEqual(['pass/icap', 'pass/cache']);
    expect((await upload(`card ${CARD}`)).status).toBe(403);

    fs.appendFileSync(csv, 'John Doe,john.doe@corp-mail.net,77120455\n');
    proc.child.kill('SIGHUP');
    await proc.waitFor((l) => l.msg === 'built-in ICAP service data sets reloaded');
    await proc.waitFor((l) => l.msg === 'reload done', 60_000);
    // every worker now is a new one: each asks OPTIONS at its first use, after the data sets changed
    for (let i = 0; i < 2; i++) {
      const blocked = await upload();
      expect(blocked.status).toBe(403);
      expect(JSON.parse(blocked.body.toString())).toMatchObject({ violations: ['edm:customers x1'] });
    }

    // three incidents (the card, the EDM record twice) written by the primary's store
    let text = '';
    const deadline = Date.now() + 15_000;
    do {
      text = await scrapeMetrics(adminPort);
      if (total(text, 'dlp_proxy_incidents_written_total') >= 3) break;
      await sleep(100);
    } while (Date.now() < deadline);
    expect(total(text, 'dlp_proxy_incidents_written_total')).toBe(3);
    expect(total(text, 'dlp_proxy_incident_store_bytes')).toBeGreaterThan(0);
    expect(text).toMatch(/^dlp_proxy_incidents_deleted_total\{reason="age"\} 0$/m);
    // one family each, the workers' series (drops, queue) and the primary's summed into it
    for (const name of ['dlp_proxy_incidents_written_total', 'dlp_proxy_incident_store_bytes', 'dlp_proxy_incident_queue_length']) {
      expect(text.match(new RegExp(`^# TYPE ${name} `, 'gm'))).toHaveLength(1);
    }
  });
});
