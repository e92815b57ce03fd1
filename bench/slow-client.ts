// Backpressure check (issue 2): a large download through dlp-proxy to a deliberately slow client,
// then the same to a fast client, each through a fresh proxy process. The proxy's RSS (/proc) and
// heap (process.memoryUsage over IPC) are sampled every 200 ms; with backpressure end to end the
// slow client slows the origin read and the proxy's memory stays flat instead of growing with the
// download. `npm run bench` runs it after the scenarios; alone:
//   node --import tsx bench/slow-client.ts [--size 1GiB] [--rate 12MiB] [--quick]
// (--quick: 256 MiB at 48 MiB/s). The download goes to 127.0.0.1 and is bounded by a deadline.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { repoRoot, stopAll } from './lib/children.js';
import { prepareProxyCa, startDlpProxy, type ProxyProcess, type ProxyRunFiles } from './lib/dlp-proxy.js';
import { startOrigin, type OriginProcess } from './lib/origin.js';
import { snapshot } from './lib/proc-stats.js';
import { makeTlsMaterial } from './lib/tls-material.js';

const MiB = 1024 * 1024;
/** Growth of the proxy's RSS over its idle baseline that still counts as flat. */
export const FLAT_LIMIT_BYTES = 64 * MiB;

export interface MemoryCheckOptions {
  sizeBytes: number;
  slowRateBytesPerSec: number;
  files: ProxyRunFiles;
  origin: OriginProcess;
  signal: AbortSignal;
  progress(line: string): void;
  sampleMs?: number;
}

export interface MemoryCheckResult {
  name: 'slow-client' | 'fast-client';
  status: 'ok' | 'failed';
  reason?: string;
  sizeBytes: number;
  /** 0: the client reads as fast as it can. */
  rateBytesPerSec: number;
  receivedBytes: number;
  seconds: number;
  throughputBytesPerSec: number;
  baselineRssBytes: number;
  /** heapUsed and external + arrayBuffers of the idle proxy, before the download. */
  baselineHeapUsedBytes: number;
  baselineExternalBytes: number;
  peakRssBytes: number;
  peakHeapUsedBytes: number;
  /** Buffers outside the JS heap (external + arrayBuffers), where stream chunks live. */
  peakExternalBytes: number;
  /** The proxy's RSS when the download passed 10 %, 20 % … 100 %. */
  rssAtProgressBytes: number[];
  samples: number;
  flat: boolean;
}

interface Memory {
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

function download(proxyPort: number, originPort: number, sizeBytes: number, rate: number, deadlineMs: number, signal: AbortSignal, onBytes: (received: number) => void): Promise<number> {
  return new Promise((resolve, reject) => {
    const authority = `127.0.0.1:${originPort}`;
    const t0 = performance.now();
    let received = 0;
    const req = http.get({ host: '127.0.0.1', port: proxyPort, path: `http://${authority}/stream/${sizeBytes}`, headers: { host: authority }, agent: false }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        return reject(new Error(`HTTP ${res.statusCode} from the proxy`));
      }
      res.on('data', (chunk: Buffer) => {
        received += chunk.length;
        onBytes(received);
        if (rate <= 0) return;
        // read at `rate`: when ahead of schedule, stop reading until the schedule catches up
        const aheadMs = (received / rate) * 1000 - (performance.now() - t0);
        if (aheadMs > 5) {
          res.pause();
          setTimeout(() => res.resume(), aheadMs).unref();
        }
      });
      res.once('end', () => resolve(received));
      res.once('error', reject);
    });
    const timer = setTimeout(() => req.destroy(new Error(`not finished within ${Math.round(deadlineMs / 1000)} s (${received} bytes)`)), deadlineMs);
    const abort = () => req.destroy(new Error('interrupted'));
    signal.addEventListener('abort', abort, { once: true });
    req.once('close', () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', abort);
    });
    req.once('error', reject);
  });
}

async function measure(name: MemoryCheckResult['name'], rate: number, options: MemoryCheckOptions): Promise<MemoryCheckResult> {
  const row: MemoryCheckResult = {
    name, status: 'ok', sizeBytes: options.sizeBytes, rateBytesPerSec: rate, receivedBytes: 0, seconds: 0, throughputBytesPerSec: 0,
    baselineRssBytes: 0, baselineHeapUsedBytes: 0, baselineExternalBytes: 0, peakRssBytes: 0, peakHeapUsedBytes: 0, peakExternalBytes: 0, rssAtProgressBytes: [], samples: 0, flat: false,
  };
  let proxy: ProxyProcess | undefined;
  try {
    proxy = await startDlpProxy(`memory-${name}`, options.files, {});
    await new Promise((r) => setTimeout(r, 300));
    row.baselineRssBytes = snapshot(proxy.pid).rssBytes;
    const idle = await proxy.request<Memory>('memory');
    row.baselineHeapUsedBytes = idle.heapUsed;
    row.baselineExternalBytes = idle.external + idle.arrayBuffers;
    let received = 0;
    let nextDecile = 1;
    const sample = async (): Promise<void> => {
      const rss = snapshot(proxy!.pid).rssBytes;
      const mem = await proxy!.request<Memory>('memory').catch(() => undefined);
      row.samples += 1;
      row.peakRssBytes = Math.max(row.peakRssBytes, rss);
      if (mem) {
        row.peakHeapUsedBytes = Math.max(row.peakHeapUsedBytes, mem.heapUsed);
        row.peakExternalBytes = Math.max(row.peakExternalBytes, mem.external + mem.arrayBuffers);
      }
      while (nextDecile <= 10 && received >= (options.sizeBytes * nextDecile) / 10) {
        row.rssAtProgressBytes.push(rss);
        nextDecile += 1;
      }
    };
    await sample();
    const timer = setInterval(() => void sample(), options.sampleMs ?? 200);
    const t0 = performance.now();
    const deadlineMs = rate > 0 ? ((options.sizeBytes / rate) * 1.5 + 30) * 1000 : 120_000;
    try {
      row.receivedBytes = await download(proxy.port, options.origin.ready.httpPort, options.sizeBytes, rate, deadlineMs, options.signal, (n) => {
        received = n;
      });
    } finally {
      clearInterval(timer);
    }
    row.seconds = (performance.now() - t0) / 1000;
    await sample();
    row.throughputBytesPerSec = row.receivedBytes / row.seconds;
    row.peakRssBytes = Math.max(row.peakRssBytes, snapshot(proxy.pid).hwmBytes);
    row.flat = row.peakRssBytes - row.baselineRssBytes < FLAT_LIMIT_BYTES;
    if (row.receivedBytes !== options.sizeBytes) return { ...row, status: 'failed', reason: `received ${row.receivedBytes} of ${options.sizeBytes} bytes` };
    return row;
  } catch (err) {
    return { ...row, status: 'failed', reason: err instanceof Error ? err.message : String(err) };
  } finally {
    await proxy?.stop();
  }
}

export function formatMemoryRow(r: MemoryCheckResult): string {
  if (r.status === 'failed') return `FAILED: ${r.reason}`;
  const mib = (b: number) => (b / MiB).toFixed(0);
  return `${mib(r.receivedBytes)} MiB in ${r.seconds.toFixed(1)} s (${mib(r.throughputBytesPerSec)} MiB/s); proxy RSS ${mib(r.baselineRssBytes)} → peak ${mib(r.peakRssBytes)} MiB, heap ${mib(r.baselineHeapUsedBytes)} → ${mib(r.peakHeapUsedBytes)} MiB, buffers ${mib(r.baselineExternalBytes)} → ${mib(r.peakExternalBytes)} MiB: ${r.flat ? 'flat' : 'GROWS'}`;
}

/** The slow client, then the fast one, each with a fresh proxy. */
export async function runMemoryCheck(options: MemoryCheckOptions): Promise<MemoryCheckResult[]> {
  const out: MemoryCheckResult[] = [];
  for (const [name, rate] of [['slow-client', options.slowRateBytesPerSec], ['fast-client', 0]] as const) {
    if (options.signal.aborted) break;
    const what = rate > 0 ? `at ${(rate / MiB).toFixed(0)} MiB/s` : 'as fast as it reads';
    options.progress(`[memory] ${name}: ${(options.sizeBytes / MiB).toFixed(0)} MiB through dlp-proxy ${what} ...`);
    const row = await measure(name, rate, options);
    out.push(row);
    options.progress(`[memory] ${name}: ${formatMemoryRow(row)}`);
  }
  return out;
}

export function parseBytes(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB)?$/i.exec(text.trim());
  if (!m) throw new Error(`not a size: ${text} (e.g. 1GiB, 256MiB)`);
  const unit = { b: 1, kib: 1024, mib: MiB, gib: 1024 * MiB }[(m[2] ?? 'B').toLowerCase() as 'b' | 'kib' | 'mib' | 'gib'];
  return Math.round(Number(m[1]) * unit);
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { size: { type: 'string' }, rate: { type: 'string' }, quick: { type: 'boolean', default: false } } });
  const sizeBytes = parseBytes(values.size ?? (values.quick ? '256MiB' : '1GiB'));
  const slowRateBytesPerSec = parseBytes(values.rate ?? (values.quick ? '48MiB' : '12MiB'));
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  process.once('SIGTERM', () => controller.abort());
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'dlp-proxy-slow-client-'));
  try {
    const tls = makeTlsMaterial(path.join(work, 'tls'));
    const caDir = path.join(work, 'proxy-ca');
    await prepareProxyCa(caDir);
    const origin = await startOrigin(tls);
    const rows = await runMemoryCheck({
      sizeBytes, slowRateBytesPerSec, origin, signal: controller.signal,
      files: { caDir, originCaFile: tls.originCaFile, workDir: work },
      progress: (line) => process.stdout.write(`${line}\n`),
    });
    const file = path.join(repoRoot, 'bench', 'results', `slow-client-${new Date().toISOString().slice(0, 10)}.json`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `${JSON.stringify(rows, null, 2)}\n`);
    process.stdout.write(`wrote ${path.relative(repoRoot, file)}\n`);
    return rows.every((r) => r.status === 'ok') ? 0 : 1;
  } finally {
    await stopAll();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => process.exit(code),
    async (err: unknown) => {
      process.stderr.write(`slow-client failed: ${err instanceof Error ? err.message : String(err)}\n`);
      await stopAll();
      process.exit(1);
    },
  );
}
