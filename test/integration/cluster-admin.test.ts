// The admin listener in cluster mode, as an operator runs it: `node src/main.ts start --config FILE`
// with workers: 2 as a child process on free ports, the built-in ICAP service in the primary. The
// admin listener runs once, in the primary; 20 requests on separate connections reach both
// workers, and /metrics counts all 20 (not one worker's share), twice in a row and across a
// SIGHUP that replaces both workers; /readyz is 200 and lists both workers; /ca.pem is the CA.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/config/index.js';
import { startOrigin, type Origin } from '../support/origin.js';
import { proxyRequest } from '../support/proxy-client.js';
import { freePort } from '../support/peers/common.js';
import { tempDir } from '../support/temp-dir.js';

type Line = Record<string, unknown>;

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

/** The sum of a metric's series in Prometheus text whose labels include `labels`. */
function total(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-z_:][a-z0-9_:]*)(?:\{(.*)\})? (\S+)$/i.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/([a-z_]+)="([^"]*)"/gi)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum += Number(m[3]);
  }
  return sum;
}

describe('cluster mode: one admin listener in the primary for every worker', () => {
  let origin: Origin;
  let child: ChildProcess | undefined;
  let exited: Promise<number | null> | undefined;
  const lines: Line[] = [];
  let stderr = '';
  const caDir = tempDir('dlp-proxy-cluster-admin-ca-');

  const waitFor = async (match: (l: Line) => boolean, count = 1, timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    while (lines.filter(match).length < count) {
      if (Date.now() > deadline || child?.exitCode !== null) throw new Error(`log line not seen (exit ${child?.exitCode}); stderr: ${stderr}\n${lines.map((l) => l.msg).join('\n')}`);
      await sleep(25);
    }
    return lines.filter(match);
  };

  beforeAll(async () => {
    origin = await startOrigin();
  });
  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      process.kill(-child.pid!, 'SIGKILL');
      await exited;
    }
    await origin?.close();
  });

  it('counts every worker on /metrics, never backwards (reload included), and /readyz lists both workers', async () => {
    const icapPort = await freePort();
    const proxyPort = await freePort();
    const adminPort = await freePort();
    const doc = {
      workers: 2,
      proxy: { port: proxyPort },
      admin: { port: adminPort },
      ca: { dir: caDir },
      icapServer: { port: icapPort },
      services: { dlp: { urls: [`icap://127.0.0.1:${icapPort}/dlp`] }, av: { urls: [`icap://127.0.0.1:${icapPort}/av`] } },
      log: { format: 'json', level: 'info' },
    };
    const file = path.join(tempDir('dlp-proxy-cluster-admin-'), 'config.yaml');
    fs.writeFileSync(file, YAML.stringify(doc));
    const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'start', '--config', file], { cwd: packageRoot, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    child = proc;
    exited = new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
    let rest = '';
    proc.stdout!.on('data', (chunk: Buffer) => {
      const parts = (rest + chunk.toString('utf8')).split('\n');
      rest = parts.pop() ?? '';
      for (const part of parts) if (part.startsWith('{')) lines.push(JSON.parse(part) as Line);
    });
    proc.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    await waitFor((l) => l.msg === 'cluster started');

    // one admin listener, in the primary
    const adminLines = lines.filter((l) => String(l.msg).startsWith('admin listening'));
    expect(adminLines).toHaveLength(1);
    expect(adminLines[0]!.role).toBe('primary');
    const workerPids = lines.filter((l) => l.msg === 'worker listening').map((l) => l.pid);
    expect(workerPids).toHaveLength(2);

    // 20 requests, each on a connection of its own: node:cluster deals them to both workers
    for (let i = 0; i < 20; i++) {
      const reply = await proxyRequest(proxyPort, `${origin.url}/bytes/${100 + i}`);
      expect(reply.status).toBe(200);
    }
    const access = await waitFor((l) => l.log === 'access' && String(l.path).startsWith('/bytes/'), 20);
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
    proc.kill('SIGHUP');
    await waitFor((l) => l.msg === 'reload done');
    const afterReload = await get(adminPort, '/metrics');
    expect(total(afterReload.body, 'dlp_proxy_exchanges_total', { direction: 'download' })).toBe(20);
    for (let i = 0; i < 4; i++) expect((await proxyRequest(proxyPort, `${origin.url}/bytes/10`)).status).toBe(200);
    const later = await get(adminPort, '/metrics');
    expect(total(later.body, 'dlp_proxy_exchanges_total', { direction: 'download' })).toBe(24);
    const newPids = lines.filter((l) => l.msg === 'worker listening').map((l) => l.pid).slice(2);
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

    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 120_000);
});
