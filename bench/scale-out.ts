// Scale-out, in one run: (1) throughput of scanned uploads through `dlp-proxy start` with
// workers: 1 and workers: 2 (node:cluster; the built-in ICAP service runs once in either case,
// in a worker thread), every body distinct so each is a verdict-cache miss and one REQMOD;
// (2) the verdict-cache hit rate across two instances sharing Redis, against two instances
// with their own memory caches. Loopback only, bounded by a deadline and a request cap.
// Run: node --import tsx bench/scale-out.ts [--duration-ms 8000] [--connections 32] [--quick]
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import pino from 'pino';
import YAML from 'yaml';
import { startApp, type App } from '../src/app.js';
import { packageRoot, parseConfig } from '../src/config/index.js';
import { listenIcapServer, transactionChannel } from '../src/icap-server/index.js';
import { stopAll } from './lib/children.js';
import { prepareProxyCa } from './lib/dlp-proxy.js';
import { startOrigin } from './lib/origin.js';
import { writeStandaloneReport } from './lib/standalone-report.js';
import { postThrough, uploadLoad, type UploadLoadResult } from './lib/upload-load.js';
import { makeTlsMaterial } from './lib/tls-material.js';
import { freePort, tempDir } from '../test/support/peers/common.js';
import { startRedis } from '../test/support/peers/redis.js';

const { values } = parseArgs({ options: { 'duration-ms': { type: 'string' }, connections: { type: 'string' }, quick: { type: 'boolean' } } });
const DURATION_MS = Number(values['duration-ms'] ?? (values.quick ? 3000 : 8000));
const CONNECTIONS = Number(values.connections ?? 32);
const MAX_REQUESTS = 200_000;
const PADDING = 'quarterly figures, nothing secret here '.repeat(100); // about 4 KiB per upload

interface Row extends UploadLoadResult {
  traffic: 'scanned' | 'passed unscanned';
  workers: number;
}

let sequence = 0;

/** CONNECTIONS keep-alive clients posting distinct bodies until the deadline. */
function load(proxyPort: number, originPort: number, durationMs: number): Promise<UploadLoadResult> {
  return uploadLoad({ proxyPort, url: `http://127.0.0.1:${originPort}/upload`, connections: CONNECTIONS, durationMs, maxRequests: MAX_REQUESTS, body: () => `upload ${++sequence} ${PADDING}` });
}

/** `dlp-proxy start` as an operator runs it; resolves once it listens, with a stop() that drains. */
async function startProxyProcess(workDir: string, doc: Record<string, unknown>): Promise<{ stop(): Promise<void> }> {
  const file = path.join(workDir, `workers-${String(doc.workers)}.yaml`);
  fs.writeFileSync(file, YAML.stringify(doc));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'start', '--config', file], { cwd: packageRoot, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('dlp-proxy did not start within 60 s')), 60_000);
    let text = '';
    const onData = (chunk: Buffer) => {
      text += chunk.toString('utf8');
      if (/"msg":"(cluster started|proxy listening)"/.test(text) && (doc.workers === 1 || text.includes('"msg":"cluster started"'))) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        child.stdout!.resume(); // drained from here on: a full pipe would stall its logger
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`dlp-proxy exited with ${code}`)));
  }).catch((err: unknown) => {
    child.kill('SIGKILL');
    throw err;
  });
  return {
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

const workDir = tempDir('bench-scale-out');
const rows: Row[] = [];
const hitRows: Array<{ cache: string; phase: string; requests: number; scans: number; hitRate: number }> = [];
try {
  // (1) 1 vs 2 workers
  const tls = makeTlsMaterial(path.join(workDir, 'tls'));
  const origin = await startOrigin(tls);
  const caDir = path.join(workDir, 'ca');
  await prepareProxyCa(caDir);
  // The unscanned rows say what the cluster itself costs or gains on this machine.
  for (const [traffic, workers] of [['scanned', 1], ['scanned', 2], ['passed unscanned', 1], ['passed unscanned', 2]] as const) {
    const [proxyPort, icapPort] = [await freePort(), await freePort()];
    const proxy = await startProxyProcess(workDir, {
      workers,
      shutdown: { drainTimeoutMs: 2000 },
      proxy: { port: proxyPort },
      ca: { dir: caDir },
      admin: { enabled: false },
      icapServer: { port: icapPort },
      services: { dlp: { urls: [`icap://127.0.0.1:${icapPort}/dlp`] } },
      policy: traffic === 'scanned' ? [{ name: 'uploads', match: { direction: 'upload' }, scan: 'dlp' }] : [{ name: 'all', action: 'pass' }],
      // info, as operators run it (access lines included); its "listening" lines say when to start
      log: { level: 'info', format: 'json' },
    });
    try {
      await load(proxyPort, origin.ready.httpPort, Math.min(1000, DURATION_MS / 4)); // warm-up: OPTIONS, connections, JIT
      const result = await load(proxyPort, origin.ready.httpPort, DURATION_MS);
      rows.push({ traffic, workers, ...result });
      process.stderr.write(`${traffic}, workers ${workers}: ${result.perSec.toFixed(0)} uploads/s, ${result.errors} errors\n`);
    } finally {
      await proxy.stop();
    }
  }

  // (2) hit rate across two instances: shared Redis vs a memory cache each
  const redis = await startRedis();
  const icap = await listenIcapServer({ config: parseConfig({}).icapServer, port: 0 });
  let scans = 0;
  const count = (m: unknown) => void ((m as { method: string }).method === 'REQMOD' && scans++);
  transactionChannel.subscribe(count);
  const silent = pino({ level: 'silent' }, new Writable({ write: (_c, _e, cb) => cb() }));
  try {
    for (const store of ['memory', 'redis'] as const) {
      const config = parseConfig({
        proxy: { port: 0 },
        ca: { dir: caDir },
        icapServer: { enabled: false },
        admin: { enabled: false },
        services: { dlp: { urls: [`icap://127.0.0.1:${icap.port}/dlp`] } },
        policy: [{ name: 'uploads', match: { direction: 'upload' }, scan: 'dlp' }],
        cache: { store, redisUrl: redis.url, keyPrefix: `bench-${crypto.randomUUID()}:` },
      });
      const apps: App[] = [await startApp(config, { logger: silent }), await startApp(config, { logger: silent })];
      try {
        const run = async (phase: string, bodies: string[], pick: (i: number) => App) => {
          const before = scans;
          for (const [i, body] of bodies.entries()) await postThrough(pick(i).proxyPort, `http://127.0.0.1:${origin.ready.httpPort}/upload`, body, false);
          hitRows.push({ cache: store, phase, requests: bodies.length, scans: scans - before, hitRate: 1 - (scans - before) / bodies.length });
        };
        const tag = crypto.randomUUID();
        // each body first through instance A, then the same through B: B's hit rate
        const seen = Array.from({ length: 200 }, (_, i) => `${tag} seen ${i} ${PADDING}`);
        await run('learnt through A', seen, () => apps[0]!);
        await run('same bodies through B', seen, () => apps[1]!);
        // a mix: 1000 uploads of 100 distinct bodies to either instance at random (ideal: 90 %)
        const mix = Array.from({ length: 1000 }, () => `${tag} mix ${crypto.randomInt(100)} ${PADDING}`);
        await run('1000 uploads of 100 bodies, random instance', mix, () => apps[crypto.randomInt(2)]!);
      } finally {
        for (const app of apps) await app.close();
      }
    }
  } finally {
    transactionChannel.unsubscribe(count);
    await icap.close();
    await redis.stop();
  }
} finally {
  await stopAll();
  fs.rmSync(workDir, { recursive: true, force: true });
}

writeStandaloneReport(
  'scale-out',
  'Scale-out: 1 against 2 workers, and the verdict cache across two instances',
  [
    `\nUploads (~4 KiB, distinct bodies) through dlp-proxy start (built-in ICAP dlp service for the scanned rows), ${CONNECTIONS} connections, ${DURATION_MS} ms per row, ${os.availableParallelism()} cores shared with the load generator, the origin and the ICAP service\n`,
    '| traffic | workers | uploads/s | vs 1 worker | p50 ms | p99 ms | uploads | errors |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => {
      const base = rows.find((b) => b.traffic === r.traffic && b.workers === 1)?.perSec ?? r.perSec;
      return `| ${r.traffic} | ${r.workers} | ${r.perSec.toFixed(0)} | ${(r.perSec / base).toFixed(2)} | ${r.p50Ms.toFixed(1)} | ${r.p99Ms.toFixed(1)} | ${r.uploads} | ${r.errors} |`;
    }),
    '\nVerdict-cache hit rate across two instances (REQMOD transactions counted at the ICAP service)\n',
    '| cache | traffic | uploads | scans | hit rate |',
    '|---|---|---:|---:|---:|',
    ...hitRows.map((r) => `| ${r.cache} | ${r.phase} | ${r.requests} | ${r.scans} | ${(100 * r.hitRate).toFixed(1)} % |`),
  ],
  values.quick === true,
);
