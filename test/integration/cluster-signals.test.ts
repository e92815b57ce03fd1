// Cluster mode as an operator runs it: `dlp-proxy start --config FILE` with workers: 2 as a
// child process on free ports, the built-in ICAP service in the primary. SIGHUP with a good config
// under load (workers replaced, no request fails, the new policy in force), with a bad one (refused
// with its error paths, the running config stays); SIGTERM drains: a slow download in flight
// completes, one longer than the deadline ends in an error for its client (never a short body
// taken as whole), no new connection is accepted, and the exit code is 0.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import YAML from 'yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { deterministicBytes, startOrigin, type Origin } from '../support/origin.js';
import { proxyRequest } from '../support/proxy-client.js';
import { clusterConfig, startProxyProcess, type LogLine, type ProxyProcess } from '../support/proxy-process.js';
import { tempDir } from '../support/temp-dir.js';

const caDir = tempDir('dlp-proxy-cluster-ca-');
const running = new Set<ProxyProcess>();

const baseConfig = (extra: Record<string, unknown>) => clusterConfig(caDir, { admin: { enabled: false }, ...extra });

/** The process with its proxy port; killed in afterEach. */
async function startProcess(doc: Record<string, unknown>): Promise<ProxyProcess & { port: number }> {
  const proc = await startProxyProcess(doc, 'cluster started');
  running.add(proc);
  return Object.assign(proc, { port: (doc.proxy as { port: number }).port });
}

const msg = (text: string) => (l: LogLine) => l.msg === text;

describe('cluster mode: SIGHUP reload and SIGTERM drain', () => {
  let origin: Origin;
  beforeAll(async () => {
    origin = await startOrigin();
  });
  afterEach(async () => {
    for (const p of running) await p.kill();
    running.clear();
  });
  afterAll(async () => {
    await origin?.close();
  });

  it('reloads a good config under load without a failed request, and refuses a bad one with its error paths', async () => {
    const doc = await baseConfig({});
    const proc = await startProcess(doc);
    // the workers' lines share the primary's stdout but not its order: wait for them, then count
    expect(await proc.waitFor(msg('worker listening'), 10_000, 2)).toHaveLength(2);
    expect(await proc.waitFor((l) => l.msg?.toString().startsWith('built-in ICAP service listening') ?? false, 10_000)).toHaveLength(1);

    let stop = false;
    const statuses: number[] = [];
    const errors: string[] = [];
    const load = Promise.all(
      [0, 1, 2].map(async (id) => {
        for (let i = 0; i < 2000 && !stop; i++) {
          try {
            const body = `upload ${id}-${i} ${crypto.randomUUID()}\n`.repeat(20);
            statuses.push((await proxyRequest(proc.port, `${origin.url}/upload`, { method: 'POST', body, headers: { 'content-type': 'text/plain' } })).status);
          } catch (err) {
            errors.push(String(err));
          }
        }
      }),
    );
    const forbidden = async () => (await proxyRequest(proc.port, `${origin.url}/forbidden/x`)).status;
    expect(await forbidden()).toBe(200);

    // a good config: one more policy rule
    fs.writeFileSync(proc.file, YAML.stringify({ ...doc, policy: [{ name: 'no-forbidden', match: { paths: ['^/forbidden'] }, action: 'block' }, { name: 'uploads', match: { direction: 'upload' }, scan: 'dlp' }] }));
    proc.child.kill('SIGHUP');
    await proc.waitFor(msg('reload done'), 60_000);
    expect(await proc.waitFor(msg('worker listening'), 10_000, 4)).toHaveLength(4);
    expect((await proc.waitFor(msg('drained'), 10_000, 2)).map((l) => l.drained)).toEqual([true, true]);
    for (let i = 0; i < 4; i++) expect(await forbidden()).toBe(403);

    // a bad config: refused, every error with its path; the good one stays in force
    fs.writeFileSync(proc.file, YAML.stringify({ ...doc, proxy: { ...(doc.proxy as object), bogus: 1 }, services: { dlp: { urls: ['http://nope'] } } }));
    proc.child.kill('SIGHUP');
    const [refused] = await proc.waitFor((l) => String(l.msg).startsWith('reload refused'));
    const paths = (refused!.errors as Array<{ path: string }>).map((e) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['proxy.bogus', 'services.dlp.urls[0]']));
    expect(String(refused!.msg)).toContain('proxy.bogus: unknown key');
    await sleep(300);
    expect(proc.lines.filter(msg('worker listening'))).toHaveLength(4);
    for (let i = 0; i < 4; i++) expect(await forbidden()).toBe(403);

    stop = true;
    await load;
    expect(errors).toEqual([]);
    expect(statuses.length).toBeGreaterThan(20);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
  }, 120_000);

  it('drains on SIGTERM: a download in flight completes, one past the deadline errors, exit code 0', async () => {
    // An origin that sends its body slowly: /slow/<ms>/<bytes> in 20 parts over <ms>.
    let asked = 0;
    const slow = http.createServer((req, res) => {
      asked++;
      const [, , ms, size] = (req.url ?? '').split('/');
      const body = deterministicBytes(Number(size));
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(body.length) });
      let part = 0;
      const timer = setInterval(() => {
        const step = Math.ceil(body.length / 20);
        res.write(body.subarray(part * step, (part + 1) * step));
        if (++part === 20) {
          clearInterval(timer);
          res.end();
        }
      }, Number(ms) / 20);
      res.on('close', () => clearInterval(timer));
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    const slowUrl = `http://127.0.0.1:${(slow.address() as net.AddressInfo).port}`;
    try {
      const doc = await baseConfig({
        shutdown: { drainTimeoutMs: 3000 },
        // /scanned/ downloads are held for the AV verdict; the rest stream through
        policy: [{ name: 'scanned', match: { direction: 'download', paths: ['^/scanned/'] }, scan: 'av' }, { name: 'rest', action: 'pass' }],
      });
      const proc = await startProcess(doc);
      const size = 1_000_000;
      const inTime = proxyRequest(proc.port, `${slowUrl}/scanned/1200/${size}`);
      const tooLong = proxyRequest(proc.port, `${slowUrl}/streamed/8000/${size}`);
      tooLong.catch(() => undefined);
      // both in flight (at the origin) before the signal, however slow the machine
      await expect.poll(() => asked, { timeout: 10_000 }).toBe(2);
      const signalled = Date.now();
      proc.child.kill('SIGTERM');
      await proc.waitFor(msg('draining'), 15_000, 2);

      // nothing new is accepted once the workers drain
      let refused = false;
      for (let i = 0; i < 200 && !refused; i++) {
        refused = await new Promise<boolean>((resolve) => {
          const s = net.connect(proc.port, '127.0.0.1');
          s.once('connect', () => (s.destroy(), resolve(false)));
          s.once('error', () => resolve(true));
        });
        if (!refused) await sleep(25);
      }
      expect(refused).toBe(true);

      const done = await inTime;
      expect(done.status).toBe(200);
      expect(done.body.equals(deterministicBytes(size))).toBe(true);
      await expect(tooLong).rejects.toThrow();
      expect(await proc.exited).toBe(0);
      const elapsed = Date.now() - signalled;
      expect(elapsed).toBeGreaterThan(2500); // waited for the deadline …
      expect(elapsed).toBeLessThan(7500); // … and not much longer
      // its last lines may come after its exit did (waitFor reads until its stdout closes)
      expect((await proc.waitFor(msg('stopped'), 10_000)).length).toBeGreaterThan(0);
      expect(proc.lines.filter(msg('drain deadline passed: remaining connections cut'))).toHaveLength(1);
    } finally {
      slow.closeAllConnections();
      await new Promise((resolve) => slow.close(resolve));
    }
  }, 120_000);
});
