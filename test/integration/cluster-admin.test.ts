// The admin listener in cluster mode, as an operator runs it: `dlp-proxy start --config FILE`
// with workers: 2 as a child process on free ports, the built-in ICAP service in the primary. The
// admin listener runs once, in the primary; 20 requests on separate connections reach both
// workers, and /metrics counts all 20 (not one worker's share), twice in a row and across a
// SIGHUP that replaces both workers; /readyz is 200 and lists both workers; /ca.pem is the CA.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOrigin, type Origin } from '../support/origin.js';
import { proxyRequest } from '../support/proxy-client.js';
import { freePort } from '../support/peers/common.js';
import { total } from '../support/prometheus-text.js';
import { clusterConfig, startProxyProcess, type ProxyProcess } from '../support/proxy-process.js';
import { tempDir } from '../support/temp-dir.js';

function get(port: number, urlPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: urlPath, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

describe('cluster mode: one admin listener in the primary for every worker', () => {
  let origin: Origin;
  let proc: ProxyProcess | undefined;
  const caDir = tempDir('dlp-proxy-cluster-admin-ca-');

  beforeAll(async () => {
    origin = await startOrigin();
  });
  afterAll(async () => {
    await proc?.kill();
    await origin?.close();
  });

  it('counts every worker on /metrics, never backwards (reload included), and /readyz lists both workers', async () => {
    const adminPort = await freePort();
    const doc = await clusterConfig(caDir, { admin: { port: adminPort } });
    const proxyPort = doc.proxy.port;
    const icapPort = doc.icapServer.port;
    proc = await startProxyProcess(doc, 'cluster started');

    // one admin listener, in the primary
    // (the workers' lines share the primary's stdout but not its order: wait for them, then count)
    const adminLines = await proc.waitFor((l) => String(l.msg).startsWith('admin listening'), 10_000);
    expect(adminLines).toHaveLength(1);
    expect(adminLines[0]!.role).toBe('primary');
    const workerPids = (await proc.waitFor((l) => l.msg === 'worker listening', 10_000, 2)).map((l) => l.pid);
    expect(workerPids).toHaveLength(2);

    // 20 requests, each on a connection of its own: node:cluster deals them to both workers
    for (let i = 0; i < 20; i++) {
      const reply = await proxyRequest(proxyPort, `${origin.url}/bytes/${100 + i}`);
      expect(reply.status).toBe(200);
    }
    const access = await proc.waitFor((l) => l.log === 'access' && String(l.path).startsWith('/bytes/'), 60_000, 20);
    expect(new Set(access.map((l) => l.worker)).size).toBe(2);

    const first = await get(adminPort, '/metrics');
    expect(first.status).toBe(200);
    const second = await get(adminPort, '/metrics');
    for (const text of [first.body, second.body]) {
      expect(total(text, 'dlp_proxy_exchanges_total', { direction: 'download' })).toBe(20);
      expect(total(text, 'dlp_proxy_exchanges_total', { direction: 'upload' })).toBe(20);
      expect(total(text, 'dlp_proxy_cluster_workers_scraped')).toBe(2);
      expect(text.match(/^# TYPE dlp_proxy_exchanges_total counter$/gm)).toHaveLength(1);
    }
    expect(total(second.body, 'dlp_proxy_verdicts_total')).toBeGreaterThanOrEqual(total(first.body, 'dlp_proxy_verdicts_total'));
    expect(total(second.body, 'dlp_proxy_verdicts_total')).toBeGreaterThanOrEqual(20);

    const ready = await get(adminPort, '/readyz');
    expect(ready.status).toBe(200);
    const readiness = JSON.parse(ready.body) as { ready: boolean; workers: Array<{ pid: number; ready: boolean; services: Record<string, { ready: boolean }> }>; missing: unknown[] };
    expect(readiness.ready).toBe(true);
    expect(readiness.workers.map((w) => w.pid).sort()).toEqual([...workerPids].sort());
    expect(readiness.workers.every((w) => w.ready && w.services.dlp?.ready && w.services.av?.ready)).toBe(true);
    expect(readiness.missing).toEqual([]);

    expect((await get(adminPort, '/healthz')).status).toBe(200);
    expect((await get(adminPort, '/ca.pem')).body).toBe(fs.readFileSync(path.join(caDir, 'ca.pem'), 'utf8'));

    // SIGHUP replaces both workers: the counts they took with them stay in the totals
    proc.child.kill('SIGHUP');
    await proc.waitFor((l) => l.msg === 'reload done', 60_000);
    const afterReload = await get(adminPort, '/metrics');
    expect(total(afterReload.body, 'dlp_proxy_exchanges_total', { direction: 'download' })).toBe(20);
    for (let i = 0; i < 4; i++) expect((await proxyRequest(proxyPort, `${origin.url}/bytes/10`)).status).toBe(200);
    const later = await get(adminPort, '/metrics');
    expect(total(later.body, 'dlp_proxy_exchanges_total', { direction: 'download' })).toBe(24);
    const newPids = (await proc.waitFor((l) => l.msg === 'worker listening', 10_000, 4)).map((l) => l.pid).slice(2);
    const readyAgain = JSON.parse((await get(adminPort, '/readyz')).body) as { workers: Array<{ pid: number }> };
    expect(readyAgain.workers.map((w) => w.pid).sort()).toEqual([...newPids].sort());

    // no worker forwards to the primary's admin listener or built-in ICAP service (issue 11)
    for (let i = 0; i < 4; i++) {
      for (const port of [adminPort, icapPort]) {
        const reply = await proxyRequest(proxyPort, `http://127.0.0.1:${port}/metrics`);
        expect(reply.status, `port ${port}`).toBe(403);
        expect(reply.body.toString()).not.toContain('dlp_proxy_');
      }
    }

    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
  }, 120_000);
});
