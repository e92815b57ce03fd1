// Origin client: undici (src/upstream, what the proxy uses) against the node:http keep-alive agent
// it replaced (issue 12 item 1), side by side in one process and one run, against one origin child
// process (bench/lib/origin-child.ts): 1 KiB GET, 64 KiB GET, 16 KiB POST, 50 requests in flight.
// Each round runs both clients in turn (alternating which goes first); the table gives medians of
// the rounds: requests per second, and CPU of this process (the one running the client) per 1,000
// requests, and undici's figure as a ratio of node:http's (the median of the rounds' ratios).
//
// The node:http baseline below is the request path of src/upstream/origin-client.ts before the
// change (commit 9292094): the same guarded agent (the destination guard's lookup on every new
// connection), the same three timers per request, the same error mapping. It lives here, not in
// src/, so that the proxy has one origin path and the comparison can still be rerun.
//
// Then the same three rows through the whole proxy: dlp-proxy built from the commit that brought
// undici in and from its parent (git archive of each, compiled: the two differ only in the origin
// client), one process each, a pass policy, autocannon with 50 connections; CPU is the proxy
// process's, per 1,000 requests.
//
// usage: node --import tsx bench/origin-client.ts [--quick] [--no-proxy]   (npm run bench:origin)
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Readable, type Duplex, type Writable } from 'node:stream';
import { ProxyError } from '../src/core/errors.js';
import { DestinationGuard } from '../src/upstream/destination-guard.js';
import { OriginClient, upstreamErrorCode, type OriginTarget } from '../src/upstream/index.js';
import { incomingResponse, type OriginResponse } from '../src/upstream/index.js';
import { forkChild, repoRoot, stopAll } from './lib/children.js';
import { baseConfig, prepareProxyCa, type ProxyReady } from './lib/dlp-proxy.js';
import { runHttpLoad } from './lib/http-load.js';
import { startOrigin } from './lib/origin.js';
import { snapshot } from './lib/proc-stats.js';
import { writeStandaloneReport } from './lib/standalone-report.js';
import { makeTlsMaterial, type TlsMaterial } from './lib/tls-material.js';
import YAML from 'yaml';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 1 : 7;
const ROUND_MS = quick ? 500 : 3000;
const WARMUP_MS = quick ? 200 : 1500;
const CONCURRENCY = 50;
/** the commit that moved the origin path to undici, and its parent (the node:http agent) */
const UNDICI_COMMIT = '4880058ed136cded7a7047b6693e67801497964c';
const NODE_HTTP_COMMIT = '3d75b9264996d7f46d6be267e6b258c607d9c1a5';

const options = {
  extraCaFiles: [],
  rejectUnauthorized: true,
  connectTimeoutMs: 10_000,
  headersTimeoutMs: 60_000,
  idleTimeoutMs: 120_000,
  keepAliveMs: 15_000,
  maxSocketsPerHost: 256,
  allowDestinations: [],
  denyDestinations: [],
};

type Open = (target: OriginTarget, head: { method: string; path: string; headers: string[] }) => { request: Writable; response: Promise<OriginResponse> };

/** The node:http request path as it was (see the head of this file). */
function nodeHttpClient(): { open: Open; close(): void } {
  const guard = new DestinationGuard({ allowDestinations: [], denyDestinations: [], listensOffLoopback: false });
  class GuardedAgent extends http.Agent {
    override createConnection(o: http.ClientRequestArgs, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
      const port = Number(o.port ?? 80);
      const refused = guard.check(o.host ?? 'localhost', port);
      if (refused) return void callback?.(refused, undefined as unknown as Duplex);
      return super.createConnection({ ...o, lookup: guard.lookupFor(port) }, callback);
    }
  }
  const agent = new GuardedAgent({ keepAlive: true, keepAliveMsecs: options.keepAliveMs, maxSockets: options.maxSocketsPerHost, maxFreeSockets: 64, scheduling: 'lifo' });
  const open: Open = (target, head) => {
    const request = http.request({ host: target.host, port: target.port, method: head.method, path: head.path, headers: head.headers, setHost: false, agent });
    request.setNoDelay(true);
    const response = new Promise<OriginResponse>((resolve, reject) => {
      let settled = false;
      const fail = (error: ProxyError) => {
        if (!settled) {
          settled = true;
          clearTimeout(headersTimer);
          reject(error);
        }
        request.destroy(error);
      };
      const headersTimer = setTimeout(() => fail(new ProxyError('UPSTREAM_HEADERS_TIMEOUT', 'no head')), options.headersTimeoutMs);
      request.on('socket', (socket) => {
        if (!(socket as unknown as { connecting: boolean }).connecting) return;
        const connectTimer = setTimeout(() => fail(new ProxyError('UPSTREAM_CONNECT_TIMEOUT', 'connect')), options.connectTimeoutMs);
        socket.once('connect', () => clearTimeout(connectTimer));
        socket.once('close', () => clearTimeout(connectTimer));
      });
      request.setTimeout(options.idleTimeoutMs, () => fail(new ProxyError('UPSTREAM_IDLE_TIMEOUT', 'idle')));
      request.on('error', (err: NodeJS.ErrnoException) => fail(err instanceof ProxyError ? err : new ProxyError(upstreamErrorCode(err), err.message, { cause: err })));
      request.on('response', (res) => {
        clearTimeout(headersTimer);
        if (!settled) {
          settled = true;
          resolve(incomingResponse(res));
        }
      });
    });
    response.catch(() => undefined);
    return { request, response };
  };
  return { open, close: () => agent.destroy() };
}

interface Scenario {
  name: string;
  method: 'GET' | 'POST';
  path: string;
  body?: Buffer;
}

/** One exchange as the pipeline makes it: pipe the body in (or end), read the response through. */
async function exchange(open: Open, target: OriginTarget, scenario: Scenario): Promise<number> {
  const headers = ['Host', `${target.host}:${target.port}`, 'Via', '1.1 bench'];
  if (scenario.body) headers.push('Content-Type', 'text/plain', 'Content-Length', String(scenario.body.length));
  const { request, response } = open(target, { method: scenario.method, path: scenario.path, headers });
  if (scenario.body) Readable.from([scenario.body]).pipe(request);
  else request.end();
  const res = await response;
  let bytes = 0;
  for await (const chunk of res.body()) bytes += (chunk as Buffer).length;
  return bytes;
}

interface Sample {
  requests: number;
  errors: number;
  wallMs: number;
  cpuMs: number;
}

async function drive(open: Open, target: OriginTarget, scenario: Scenario, durationMs: number): Promise<Sample> {
  const until = performance.now() + durationMs;
  let requests = 0;
  let errors = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const loop = async () => {
    while (performance.now() < until) {
      try {
        await exchange(open, target, scenario);
        requests++;
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, loop));
  const used = process.cpuUsage(cpu);
  return { requests, errors, wallMs: performance.now() - started, cpuMs: (used.user + used.system) / 1000 };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

/** A proxy tree at `commit`: git archive, node_modules linked, compiled as `npm run build` does. */
function buildTree(commit: string, dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  execFileSync('sh', ['-c', `git archive ${commit} | tar -x -C ${JSON.stringify(dir)}`], { cwd: repoRoot });
  fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(dir, 'node_modules'));
  execFileSync(path.join(repoRoot, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.build.json'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
}

async function throughProxy(tls: TlsMaterial, originPort: number, tmp: string, scenarios: Scenario[]): Promise<string[]> {
  const caDir = path.join(tmp, 'ca');
  await prepareProxyCa(caDir);
  const config = path.join(tmp, 'proxy.yaml');
  fs.writeFileSync(config, YAML.stringify(baseConfig({ caDir, originCaFile: tls.originCaFile, workDir: tmp })));
  const proxies = [];
  for (const [name, commit] of [['undici', UNDICI_COMMIT], ['node:http', NODE_HTTP_COMMIT]] as const) {
    const dir = path.join(tmp, name.replace(':', '-'));
    buildTree(commit, dir);
    const child = await forkChild<ProxyReady>(`dlp-proxy (${name})`, path.join(dir, 'bench/lib/proxy-child.ts'), [config, path.join(tmp, `${name.replace(':', '-')}.log`)]);
    proxies.push({ name, child });
  }
  const rows: string[] = [];
  for (const scenario of scenarios) {
    const load = (proxyPort: number, durationMs: number) =>
      runHttpLoad({ originPort, proxyPort, path: scenario.path, connections: CONCURRENCY, durationMs, ...(scenario.body ? { upload: { sizeBytes: scenario.body.length, unique: false } } : {}) });
    for (const p of proxies) await load(p.child.ready.port, WARMUP_MS);
    const samples = new Map<string, { reqPerSec: number; cpuPer1k: number; errors: number }[]>(proxies.map((p) => [p.name, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const p of round % 2 === 0 ? proxies : [...proxies].reverse()) {
        const before = snapshot(p.child.pid).cpuSeconds;
        const result = await load(p.child.ready.port, ROUND_MS);
        const cpuMs = (snapshot(p.child.pid).cpuSeconds - before) * 1000;
        samples.get(p.name)!.push({ reqPerSec: result.reqPerSec, cpuPer1k: (cpuMs * 1000) / Math.max(1, result.requests), errors: result.errors + result.non2xx });
      }
    }
    rows.push(...tableRows(scenario.name, proxies.map((p) => ({ name: p.name, samples: samples.get(p.name)! }))));
  }
  for (const p of proxies) await p.child.stop();
  return rows;
}

/**
 * Median rows of each competitor, and undici ÷ node:http (undici first) as the median of the
 * per-round ratios: the two ran back to back in each round, so a round's ratio cancels most of
 * what the rest of a shared machine did meanwhile.
 */
function tableRows(row: string, competitors: { name: string; samples: { reqPerSec: number; cpuPer1k: number; errors: number }[] }[]): string[] {
  const figures = competitors.map((c) => ({
    name: c.name,
    reqPerSec: median(c.samples.map((x) => x.reqPerSec)),
    cpuPer1k: median(c.samples.map((x) => x.cpuPer1k)),
    errors: c.samples.reduce((n, x) => n + x.errors, 0),
  }));
  const [u, n] = competitors as [(typeof competitors)[0], (typeof competitors)[0]];
  const paired = (field: 'reqPerSec' | 'cpuPer1k') => median(u.samples.map((x, i) => x[field] / n.samples[i]![field]));
  return [
    ...figures.map((f) => `| ${row} | ${f.name} | ${Math.round(f.reqPerSec).toLocaleString('en')} | ${f.cpuPer1k.toFixed(0)} ms | ${f.errors} |`),
    `| ${row} | **undici ÷ node:http** | **${paired('reqPerSec').toFixed(2)}×** | **${paired('cpuPer1k').toFixed(2)}×** | |`,
  ];
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-origin-client-'));
try {
  const tls = makeTlsMaterial(tmp);
  const origin = await startOrigin(tls);
  const target: OriginTarget = { scheme: 'http', host: '127.0.0.1', port: origin.ready.httpPort };
  const scenarios: Scenario[] = [
    { name: '1 KiB GET', method: 'GET', path: '/bytes/1024' },
    { name: '64 KiB GET', method: 'GET', path: '/bytes/65536' },
    { name: '16 KiB POST', method: 'POST', path: '/upload', body: Buffer.alloc(16 * 1024, 'a') },
  ];
  const undici = new OriginClient(options, { listensOffLoopback: false });
  const nodeHttp = nodeHttpClient();
  const clients = [
    { name: 'undici', open: undici.open.bind(undici) as Open },
    { name: 'node:http', open: nodeHttp.open },
  ];
  const rows: string[] = [];
  for (const scenario of scenarios) {
    for (const client of clients) await drive(client.open, target, scenario, WARMUP_MS);
    const samples = new Map<string, Sample[]>(clients.map((c) => [c.name, []]));
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? clients : [...clients].reverse();
      for (const client of order) samples.get(client.name)!.push(await drive(client.open, target, scenario, ROUND_MS));
    }
    rows.push(
      ...tableRows(
        scenario.name,
        clients.map((c) => ({ name: c.name, samples: samples.get(c.name)!.map((x) => ({ reqPerSec: (x.requests * 1000) / x.wallMs, cpuPer1k: (x.cpuMs * 1000) / Math.max(1, x.requests), errors: x.errors })) })),
      ),
    );
  }
  const stats = await origin.request<{ connections: number; requests: number }>('stats');
  await undici.close();
  nodeHttp.close();
  const proxyRows = process.argv.includes('--no-proxy') ? [] : await throughProxy(tls, origin.ready.httpPort, tmp, scenarios);
  writeStandaloneReport(
    'origin-client',
    'Origin client: undici against node:http',
    [
      '',
      `${CONCURRENCY} requests in flight, plain HTTP to one local origin child process, keep-alive; ${ROUNDS} rounds of ${ROUND_MS / 1000} s per client and row (order alternating), medians; the ratio row is the median of the rounds' ratios.`,
      'CPU is of the process running the client (the bench), per 1,000 requests.',
      '',
      '| request | client | req/s | CPU per 1k requests | errors |',
      '|---|---|--:|--:|--:|',
      ...rows,
      '',
      `The origin accepted ${stats.connections} connections for ${stats.requests.toLocaleString('en')} requests (both clients pool).`,
      ...(proxyRows.length === 0
        ? []
        : [
            '',
            '## Through the whole proxy',
            '',
            `dlp-proxy compiled from ${UNDICI_COMMIT.slice(0, 7)} (undici) and from its parent ${NODE_HTTP_COMMIT.slice(0, 7)} (node:http agent), one process each, policy pass, plain HTTP, autocannon with ${CONCURRENCY} keep-alive connections from this process; CPU is the proxy process's, per 1,000 requests.`,
            '',
            '| request | proxy | req/s | CPU per 1k requests | errors |',
            '|---|---|--:|--:|--:|',
            ...proxyRows,
          ]),
    ],
    quick,
  );
} finally {
  await stopAll();
  fs.rmSync(tmp, { recursive: true, force: true });
}
