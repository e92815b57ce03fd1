// One verdict cache per host (issue 12 item 4), as an operator runs it: `dlp-proxy start`
// with workers: 2 and cache.store: memory, the built-in ICAP service in the primary, every request
// on a connection of its own so node:cluster deals them to both workers. Uploads under /fake/ go
// to a fake ICAP server of this test (it counts transactions, hangs or fails on demand); the
// others to the built-in service, counted on /metrics. Hostile: a worker killed while it scans for
// the host, and a claimant that hangs; the process keeps serving.
import fs from 'node:fs';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeOptionsResponse } from '../../src/icap/codec/index.js';
import { CARD } from '../support/enforcement-suite.js';
import { answers, startFakeIcapServer, type Action, type FakeIcapServer, type FakeRequest } from '../support/fake-icap-server.js';
import { startOrigin, type Origin } from '../support/origin.js';
import { freePort } from '../support/peers/common.js';
import { scrapeMetrics, total } from '../support/prometheus-text.js';
import { startProxyProcess, type LogLine as Line, type ProxyProcess } from '../support/proxy-process.js';
import { tempDir } from '../support/temp-dir.js';

interface Upload {
  status: number;
  /** the pid of the worker that took the connection */
  worker: Promise<number | undefined>;
  done: Promise<number>;
}

const CLAIM_TIMEOUT_MS = 2_000;

/** Which of `pids` holds the proxy side of the connection from local port `clientPort` (Linux /proc). */
function pidServing(proxyPort: number, clientPort: number, pids: number[]): number | undefined {
  const hex = (n: number) => n.toString(16).toUpperCase().padStart(4, '0');
  let inode: string | undefined;
  for (const line of fs.readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length > 9 && f[1]!.endsWith(`:${hex(proxyPort)}`) && f[2]!.endsWith(`:${hex(clientPort)}`)) inode = f[9];
  }
  if (!inode) return undefined;
  for (const pid of pids) {
    let fds: string[] = [];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (fs.readlinkSync(`/proc/${pid}/fd/${fd}`) === `socket:[${inode}]`) return pid;
      } catch {
        // closed meanwhile
      }
    }
  }
  return undefined;
}

describe('cluster mode: one verdict cache and one single-flight for the host', () => {
  let origin: Origin;
  let fake: FakeIcapServer;
  let proxy: ProxyProcess | undefined;
  const lines = (): Line[] => proxy?.lines ?? [];
  let proxyPort = 0;
  let adminPort = 0;
  let istag = 'fake-1';
  /** bodies the fake server hangs on the first time it sees them */
  const hangOnce = new Set<string>();
  const fakeSeen = (text: string) => fake.requests.filter((r: FakeRequest) => r.head.method === 'REQMOD' && r.body.toString().includes(text)).length;

  const waitFor = (match: (l: Line) => boolean, count = 1) => proxy!.waitFor(match, 30_000, count);
  const until = async (what: string, ready: () => boolean | Promise<boolean>, timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await ready())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(20);
    }
  };
  const metrics = () => scrapeMetrics(adminPort);
  const workerPids = () => lines().filter((l) => l.msg === 'worker listening').map((l) => l.pid as number);

  /** A POST through the proxy on a connection of its own; `track`: find the worker that took it. */
  const upload = (urlPath: string, body: string, track = false): Upload => {
    let tellWorker!: (pid: number | undefined) => void;
    const worker = new Promise<number | undefined>((resolve) => (tellWorker = resolve));
    const result: Upload = { status: 0, worker, done: Promise.resolve(0) };
    result.done = new Promise<number>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: proxyPort, method: 'POST', path: `${origin.url}${urlPath}`, headers: { 'content-type': 'text/plain' }, agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve((result.status = res.statusCode ?? 0)));
      });
      if (track) {
        req.on('socket', (socket) =>
          socket.once('connect', async () => {
            const clientPort = socket.localPort!;
            // the connection reaches a worker once the primary hands it over
            const deadline = Date.now() + 5_000;
            let pid: number | undefined;
            while (!(pid = pidServing(proxyPort, clientPort, workerPids())) && Date.now() < deadline) await sleep(10);
            tellWorker(pid);
          }),
        );
      }
      req.on('error', (err) => {
        tellWorker(undefined);
        reject(err);
      });
      req.end(body);
    });
    return result;
  };
  /** An upload that lands on a worker other than `not` (new connections until one does). */
  const uploadElsewhere = async (urlPath: string, body: string, not: number): Promise<{ up: Upload; pid: number }> => {
    for (let i = 0; i < 10; i++) {
      const up = upload(urlPath, body, true);
      const pid = await up.worker;
      if (pid !== undefined && pid !== not) return { up, pid };
      up.done.catch(() => undefined);
    }
    throw new Error('no connection reached the other worker');
  };

  beforeAll(async () => {
    origin = await startOrigin();
    fake = await startFakeIcapServer({
      options: () => ({ send: encodeOptionsResponse({ methods: ['REQMOD', 'RESPMOD'], istag, allow204: true, preview: 4096, optionsTtlSeconds: 1 }) }),
      onRequest: (req): Action => {
        const body = req.body.toString();
        for (const marker of hangOnce) {
          if (body.includes(marker)) {
            hangOnce.delete(marker);
            return { hang: true };
          }
        }
        if (body.includes('fail-open')) return { send: answers.status(500, `"${istag}"`) };
        return { send: answers.noContent(`"${istag}"`), ...(body.includes('slow') ? { delayMs: 400 } : {}) };
      },
    });
    const icapPort = await freePort();
    proxyPort = await freePort();
    adminPort = await freePort();
    const doc = {
      workers: 2,
      proxy: { port: proxyPort },
      admin: { port: adminPort },
      ca: { dir: tempDir('dlp-proxy-cluster-verdict-ca-') },
      icapServer: { port: icapPort },
      services: {
        dlp: { urls: [`icap://127.0.0.1:${icapPort}/dlp`] },
        av: { urls: [`icap://127.0.0.1:${icapPort}/av`] },
        fake: { urls: [fake.url('svc')], failMode: 'open', readIdleTimeoutMs: 3_000, previewTimeoutMs: 3_000 },
      },
      policy: [
        { name: 'fake-uploads', match: { direction: 'upload', paths: ['^/fake/'] }, scan: 'fake' },
        { name: 'uploads', match: { direction: 'upload' }, scan: 'dlp' },
        { name: 'downloads', match: { direction: 'download' }, scan: 'av' },
      ],
      cache: { store: 'memory', shared: { claimTimeoutMs: CLAIM_TIMEOUT_MS } },
      log: { format: 'json', level: 'info' },
    };
    proxy = await startProxyProcess(doc, 'cluster started');
  }, 100_000);

  afterAll(async () => {
    await proxy?.kill();
    await fake?.close();
    await origin?.close();
  });

  it('npm start-like: the same upload 200 times over fresh connections is one ICAP transaction, a hit on both workers', async () => {
    const body = 'an ordinary upload of the quarterly figures\n'.repeat(50);
    for (let i = 0; i < 200; i++) expect((await upload(`/upload?n=${i}`, body).done)).toBe(200);
    const access = await waitFor((l) => l.log === 'access' && l.path === '/upload', 200);
    // both workers took some, and each one's uploads after the first were answered from the cache
    const byWorker = new Map<unknown, Line[]>();
    for (const l of access) byWorker.set(l.worker, [...(byWorker.get(l.worker) ?? []), l]);
    expect(byWorker.size).toBe(2);
    const uploadVerdicts = access.map((l) => String(l.verdict).split(',')[0]);
    expect(uploadVerdicts.filter((v) => v === 'pass/icap')).toHaveLength(1);
    expect(uploadVerdicts.filter((v) => v === 'pass/cache')).toHaveLength(199);
    for (const lines of byWorker.values()) expect(lines.some((l) => String(l.verdict).startsWith('pass/cache'))).toBe(true);

    const text = await metrics();
    expect(total(text, 'dlp_proxy_icap_transactions_total', { service: 'dlp' })).toBe(1);
    // one RESPMOD for the origin's "ok" that all 200 answers share, too
    expect(total(text, 'dlp_proxy_icap_transactions_total', { service: 'av' })).toBe(1);
    expect(total(text, 'dlp_proxy_verdict_cache_misses_total')).toBe(2);
    expect(total(text, 'dlp_proxy_verdict_cache_hits_total')).toBe(398);
    // the host's store is on /metrics once: two verdicts, not two per worker
    expect(total(text, 'dlp_proxy_verdict_cache_entries')).toBe(2);
    expect(text.match(/^# TYPE dlp_proxy_verdict_cache_entries gauge$/gm)).toHaveLength(1);
    expect(total(text, 'dlp_proxy_verdict_cache_bytes')).toBeGreaterThan(0);
  }, 60_000);

  it('a block is shared too: a card number uploaded on both workers is scanned once', async () => {
    const before = total(await metrics(), 'dlp_proxy_icap_transactions_total', { service: 'dlp' });
    const workers = new Set<number>();
    for (let i = 0; i < 10; i++) {
      const up = upload(`/form?n=${i}`, `name=Jane&card=${CARD}`, true);
      const pid = await up.worker;
      if (pid !== undefined) workers.add(pid);
      expect(await up.done).toBe(403);
    }
    expect(workers.size).toBe(2);
    const access = await waitFor((l) => l.log === 'access' && l.path === '/form', 10);
    expect(access.map((l) => l.verdict).sort()).toEqual([...Array<string>(9).fill('block/cache'), 'block/icap']);
    expect(total(await metrics(), 'dlp_proxy_icap_transactions_total', { service: 'dlp' })).toBe(before + 1);
  });

  it('identical bodies on both workers at once make one ICAP transaction', async () => {
    const body = 'slow concurrent body\n'.repeat(20);
    const ups = Array.from({ length: 6 }, (_, i) => upload(`/fake/concurrent?n=${i}`, body, true));
    const pids = await Promise.all(ups.map((u) => u.worker));
    expect(new Set(pids.filter((p) => p !== undefined)).size).toBe(2);
    expect(await Promise.all(ups.map((u) => u.done))).toEqual([200, 200, 200, 200, 200, 200]);
    expect(fakeSeen('slow concurrent body')).toBe(1);
  });

  it('an unscanned (fail-open) pass is never shared: every upload asks ICAP again', async () => {
    for (let i = 0; i < 4; i++) expect(await upload(`/fake/open?n=${i}`, 'fail-open body').done).toBe(200);
    expect(fakeSeen('fail-open body')).toBe(4);
  });

  it('a new ISTag retires the entries of the old one (the key includes it)', async () => {
    const body = 'istag body\n';
    for (let i = 0; i < 4; i++) expect(await upload(`/fake/istag?n=${i}`, body).done).toBe(200);
    expect(fakeSeen('istag body')).toBe(1);
    istag = 'fake-2';
    // each worker takes the new tag at its OPTIONS refresh (Options-TTL: 1 s)
    await until('a scan under the new ISTag', async () => {
      expect(await upload('/fake/istag?again', body).done).toBe(200);
      return fakeSeen('istag body') === 2;
    });
    await sleep(1_100);
    for (let i = 0; i < 4; i++) expect(await upload(`/fake/istag?after=${i}`, body).done).toBe(200);
    expect(fakeSeen('istag body')).toBe(2);
  });

  it('a key too long for the IPC limits (a 1,500-character ISTag) stays in each worker: served, never sent', async () => {
    istag = `big-${'x'.repeat(1_500)}`;
    await sleep(1_100);
    const body = 'long key body\n';
    for (let i = 0; i < 6; i++) expect(await upload(`/fake/long?n=${i}`, body).done).toBe(200);
    // once per worker (not shared, then its local tier), and nothing refused by the primary: it was never asked
    expect(fakeSeen('long key body')).toBe(2);
    expect(total(await metrics(), 'dlp_proxy_verdict_cache_ipc_refused_total')).toBe(0);
    istag = 'fake-3';
    await sleep(1_100);
  });

  it('a claimant that hangs: the other worker scans after cache.shared.claimTimeoutMs', async () => {
    const body = 'hung claimant body\n';
    hangOnce.add('hung claimant');
    const first = upload('/fake/hang?first', body, true);
    const claimant = await first.worker;
    await until('the hung scan at the ICAP server', () => fakeSeen('hung claimant') === 1);
    const { up: second } = await uploadElsewhere('/fake/hang?second', body, claimant!);
    const t0 = Date.now();
    expect(await second.done).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(CLAIM_TIMEOUT_MS - 1_000);
    expect(fakeSeen('hung claimant')).toBe(2);
    // the hung one ends by its own ICAP read timeout (fail-open here); nothing is left claimed
    expect(await first.done).toBe(200);
    const text = await metrics();
    expect(total(text, 'dlp_proxy_verdict_cache_claims')).toBe(0);
    expect(total(text, 'dlp_proxy_verdict_cache_claim_timeouts_total')).toBeGreaterThanOrEqual(1);
    expect(total(text, 'dlp_proxy_verdict_cache_ipc_refused_total')).toBe(0);
  }, 20_000);

  it('a worker killed while it scans for the host: the other scans at once, and the host still serves', async () => {
    const body = 'killed claimant body\n';
    hangOnce.add('killed claimant');
    const first = upload('/fake/kill?first', body, true);
    first.done.catch(() => undefined);
    const claimant = await first.worker;
    expect(claimant).toBeDefined();
    await until('the hung scan at the ICAP server', () => fakeSeen('killed claimant') === 1);
    const { up: second } = await uploadElsewhere('/fake/kill?second', body, claimant!);
    await until('the second worker waiting for the claim', async () => total(await metrics(), 'dlp_proxy_verdict_cache_claim_waiting') === 1);
    const killedAt = Date.now();
    process.kill(claimant!, 'SIGKILL');
    expect(await second.done).toBe(200);
    // handed over when the claimant's channel closed, not at the claim timeout
    expect(Date.now() - killedAt).toBeLessThan(CLAIM_TIMEOUT_MS - 500);
    expect(fakeSeen('killed claimant')).toBe(2);
    await expect(first.done).rejects.toThrow();
    // a replacement worker starts; every upload of the body is a hit now, on the new worker too
    const [replacement] = (await waitFor((l) => l.msg === 'worker listening', 3)).slice(2);
    for (let i = 0; i < 6; i++) expect(await upload(`/fake/kill?after=${i}`, body).done).toBe(200);
    expect(fakeSeen('killed claimant')).toBe(2);
    const after = await waitFor((l) => l.log === 'access' && l.path === '/fake/kill' && l.status === 200, 7);
    expect(after.filter((l) => l.pid === replacement!.pid).map((l) => String(l.verdict).split(',')[0])).toContain('pass/cache');
  });

  it('stops cleanly', async () => {
    const exited = new Promise((resolve) => proxy!.child.once('exit', (code) => resolve(code)));
    proxy!.child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
