// Issue 11's bench: what inspecting WebSocket messages and answering ranges of scanned downloads
// cost, side by side with the unscanned relay in the same run.
//  1. Text messages of 1 KiB and 64 KiB (and 64 KiB with permessage-deflate) to a `ws` echo
//     origin: directly (the baseline), through dlp-proxy relayed untouched, scanned cold (every
//     message unique: one REQMOD each) and scanned warm (the same message again: the verdict
//     cache answers). Round-trip p50/p99 with one message in flight, messages/s with N clients,
//     proxy CPU per 1000 messages (/proc).
//  2. A 100 MiB file fetched whole, by one range, by a second range and by three ranges, scanned
//     (Range stripped upstream, the whole scanned, the range cut from the spool) and not scanned
//     (Range passed to the origin): time to the last byte, what the origin sent, proxy peak RSS.
// dlp-proxy runs its compiled build (dist/, as `npm start` runs it) in a process of its own; the
// built-in ICAP service runs in another (`dlp-proxy icap-server` as an operator would run it apart),
// so /proc shows the proxy's CPU and memory alone and the service's beside it. The origin and
// this load generator are two more processes, everything on 127.0.0.1; every phase has a deadline
// and everything started is stopped at the end, on an error, and on SIGINT/SIGTERM.
// Run: npm run bench:websocket [-- --quick] [--clients 16] [--duration-ms 5000] [--file-size 100MiB]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseConfig } from '../src/config/index.js';
import { middleSpan, threeSpans, type ByteSpan } from './lib/byte-ranges.js';
import { forkChild, repoRoot, stopAll } from './lib/children.js';
import { prepareProxyCa, startDlpProxy, type ProxyRunFiles } from './lib/dlp-proxy.js';
import { snapshot } from './lib/proc-stats.js';
import { measureRangeRow, warmUp, type RangeRowEnv, type RangeSpec } from './lib/range-rows.js';
import { writeStandaloneReport } from './lib/standalone-report.js';
import type { ConfigDoc } from './lib/types.js';
import { renderRangeTable, renderWsTable, WS_MODE_LABEL, type RangeRow, type WsMode, type WsRow } from './lib/websocket-ranges-report.js';
import { measureWsRow, probeWsPaths, type WsRowEnv } from './lib/ws-rows.js';
import { parseBytes } from './slow-client.js';

const KiB = 1024;
const MiB = 1024 * KiB;

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, clients: { type: 'string' }, 'duration-ms': { type: 'string' }, 'file-size': { type: 'string' } } });
const quick = values.quick;
const CLIENTS = Number(values.clients ?? (quick ? 4 : 16));
const THROUGHPUT_MS = Number(values['duration-ms'] ?? (quick ? 250 : 5000));
const LATENCY_MS = quick ? 150 : 3000;
const WARMUP_MS = quick ? 50 : 1000;
const FILE_BYTES = parseBytes(values['file-size'] ?? (quick ? '8MiB' : '100MiB'));
const RANGE_BYTES = Math.min(MiB, Math.floor(FILE_BYTES / 8));
/** each fresh proxy downloads a file of this size first (bench/lib/range-rows.ts warmUp) */
const WARMUP_FILE_BYTES = quick ? MiB : 16 * MiB;
const CACHE_FIRST_MAX_BYTES = parseConfig({}).scan.cacheFirstMaxBytes; // the default the bench runs with

const WS_GROUPS: Array<{ sizeBytes: number; deflate: boolean }> = [
  { sizeBytes: KiB, deflate: false },
  { sizeBytes: 64 * KiB, deflate: false },
  { sizeBytes: 64 * KiB, deflate: true },
];
const WS_MODES: WsMode[] = ['direct', 'relay', 'scanned-cold', 'scanned-warm'];

const middle = middleSpan(FILE_BYTES, RANGE_BYTES);
const quarter: ByteSpan = { start: Math.floor(FILE_BYTES / 4), end: Math.floor(FILE_BYTES / 4) + RANGE_BYTES - 1 };
const pieces = threeSpans(FILE_BYTES, RANGE_BYTES);
const rangeLabel = `${RANGE_BYTES / KiB} KiB`;
const RANGE_SPECS: RangeSpec[] = [
  { downloads: 'scanned', request: 'whole file', spans: [] },
  { downloads: 'scanned', request: `one range (${rangeLabel} at 50 %)`, spans: [middle] },
  { downloads: 'scanned', request: `a second range of the same file (${rangeLabel} at 25 %), after the first`, spans: [quarter], before: [middle] },
  { downloads: 'scanned', request: `3 ranges (${rangeLabel} at 10, 50, 90 %)`, spans: pieces },
  { downloads: 'not scanned', request: 'whole file', spans: [] },
  { downloads: 'not scanned', request: `one range (${rangeLabel} at 50 %)`, spans: [middle] },
  { downloads: 'not scanned', request: `3 ranges (${rangeLabel} at 10, 50, 90 %)`, spans: pieces },
];

/**
 * The bench policy: WebSocket handshakes to /relay/ pass both ways (relayed untouched); other
 * WebSockets have their client messages scanned by dlp as the default config does, server messages
 * passed; downloads under /unscanned/ pass, every other download is scanned by av.
 */
function benchConfig(icapPort: number): ConfigDoc {
  return {
    services: { dlp: { urls: [`icap://127.0.0.1:${icapPort}/dlp`] }, av: { urls: [`icap://127.0.0.1:${icapPort}/av`] } },
    policy: [
      { name: 'websocket-relay', match: { protocols: ['websocket'], paths: ['^/relay/'] }, action: 'pass' },
      { name: 'websocket-from-server', match: { protocols: ['websocket'], direction: 'download' }, action: 'pass' },
      { name: 'websocket-uploads', match: { protocols: ['websocket'], direction: 'upload' }, scan: 'dlp' },
      { name: 'downloads-unscanned', match: { direction: 'download', paths: ['^/unscanned/'] }, action: 'pass' },
      { name: 'downloads', match: { direction: 'download' }, scan: 'av' },
    ],
  };
}

function revision(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: repoRoot, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head} with uncommitted changes in src/` : head;
  } catch {
    return 'unknown';
  }
}

const progress = (line: string) => process.stdout.write(`${line}\n`);

async function main(): Promise<number> {
  const controller = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => controller.abort());
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'dlp-proxy-bench-ws-ranges-'));
  const wsRows: WsRow[] = [];
  const rangeRows: RangeRow[] = [];
  const measured = `${revision()}, load average ${os.loadavg()[0]!.toFixed(2)} at the start`;
  try {
    progress(`websocket-ranges (${quick ? 'quick' : 'full'}): ${os.availableParallelism()} cores, Node ${process.version}, ${measured}`);
    const caDir = path.join(work, 'proxy-ca');
    await prepareProxyCa(caDir);
    // baseConfig trusts an extra CA file upstream; the origin here is plain http, any PEM will do
    const files: ProxyRunFiles = { caDir, originCaFile: path.join(caDir, 'ca.pem'), workDir: work };
    const origin = await forkChild<{ port: number }>('origin', fileURLToPath(new URL('./lib/ws-range-origin-child.ts', import.meta.url)), [String(FILE_BYTES), String(WARMUP_FILE_BYTES)], { stdoutFile: path.join(work, 'origin.stdout') });
    const icap = await forkChild<{ port: number }>('ICAP service', fileURLToPath(new URL('./lib/icap-server-child.ts', import.meta.url)), [], { stdoutFile: path.join(work, 'icap.stdout') });
    const config = benchConfig(icap.ready.port);

    const proxy = await startDlpProxy('websocket', files, config);
    const wsEnv: WsRowEnv = {
      originPort: origin.ready.port,
      proxy: { pid: proxy.pid, port: proxy.port, adminPort: proxy.ready.adminPort },
      icapPid: icap.pid,
      clients: CLIENTS,
      warmupMs: WARMUP_MS,
      latencyMs: LATENCY_MS,
      latencyMaxMessages: 20_000,
      throughputMs: THROUGHPUT_MS,
    };
    await probeWsPaths(wsEnv);
    progress('probe: a card number is echoed on the relay path and closes the scanned path with 1008');
    for (const group of WS_GROUPS) {
      for (const mode of WS_MODES) {
        if (controller.signal.aborted) break;
        const t0 = Date.now();
        const row = await measureWsRow(wsEnv, group.sizeBytes, group.deflate, mode);
        wsRows.push(row);
        const what = `${group.sizeBytes / KiB} KiB${group.deflate ? ', deflate' : ''}, ${WS_MODE_LABEL[mode]}`.padEnd(40);
        progress(`${row.status === 'ok' ? `[ws] ${what} p50 ${row.latency!.p50Ms.toFixed(2)} ms, ${row.throughput!.perSec.toFixed(0)} msg/s` : `[ws] ${what} FAILED: ${row.reason}`}  (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      }
    }
    // a fresh proxy per range row, so that each peak RSS is that request's; a quick run (a smoke
    // test, not kept) saves the ~2 s start of each and reuses this one
    if (!quick) await proxy.stop();

    const rangeEnv: RangeRowEnv = { originPort: origin.ready.port, origin, icapPid: icap.pid, fileBytes: FILE_BYTES, deadlineMs: 120_000 };
    for (const [i, spec] of RANGE_SPECS.entries()) {
      if (controller.signal.aborted) break;
      const t0 = Date.now();
      const target = quick ? proxy : await startDlpProxy(`ranges-${i + 1}`, files, config);
      const startedRss = snapshot(target.pid, [target.pid]).rssBytes;
      if (!quick || i === 0) await warmUp(target, rangeEnv, WARMUP_FILE_BYTES);
      if (!quick) await new Promise((resolve) => setTimeout(resolve, 500)); // let the warm-up's garbage settle before the RSS baseline
      const row = { ...(await measureRangeRow(target, rangeEnv, spec)), proxyRssStartedBytes: startedRss };
      if (!quick) await target.stop();
      rangeRows.push(row);
      const what = `${spec.downloads}, ${spec.request}`.padEnd(72);
      progress(`${row.status === 'ok' ? `[range] ${what} last byte ${(row.ttlbMs! / 1000).toFixed(2)} s, origin sent ${(row.originBytes! / MiB).toFixed(1)} MiB` : `[range] ${what} FAILED: ${row.reason}`}  (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    }
  } finally {
    await stopAll();
    fs.rmSync(work, { recursive: true, force: true });
  }
  if (controller.signal.aborted) return 130;

  writeStandaloneReport('websocket-ranges', 'WebSocket inspection and ranged downloads of scanned files (issue 11)', report(wsRows, rangeRows, measured), quick);
  return [...wsRows, ...rangeRows].some((r) => r.status !== 'ok') ? 1 : 0;
}

function report(wsRows: WsRow[], rangeRows: RangeRow[], measured: string): string[] {
  const mib = (n: number) => `${Math.round(n / MiB)} MiB`;
  return [
    `\nMeasured: ${measured}, dlp-proxy from its compiled build (dist/, as \`npm start\` runs it) in a process of its own, the built-in ICAP service (dlp and av) in another, the origin (node:http with a \`ws\` echo server) in a third and this load generator in a fourth, all on 127.0.0.1 and sharing ${os.availableParallelism()} cores.`,
    '\n## WebSocket messages\n',
    `Text messages through a CONNECT tunnel (as Chromium reaches a ws:// origin behind a proxy) to an echo origin. Latency: round trips on one connection, one message in flight, ${LATENCY_MS} ms after ${WARMUP_MS} ms of warm-up. Throughput: ${CLIENTS} connections, one message in flight each, ${THROUGHPUT_MS} ms; CPU (/proc utime + stime), ICAP transactions and verdict-cache hits (the proxy's /metrics) over that phase, per message. Cold: every message carries an id never sent before (one REQMOD each). Warm: the same message every time (the verdict cache answers). Policy: the relay path passes both directions untouched; on the scanned path client→server messages are scanned by \`dlp\` (REQMOD) before they are forwarded and server→client messages are passed, as in the default config. Before the rows, a card number was echoed on the relay path and closed the scanned path with 1008. Ratios are against the unscanned relay of the same message size and compression.\n`,
    ...renderWsTable(wsRows, CLIENTS),
    '\nWith permessage-deflate the unscanned relay forwards the compressed bytes as they come (fewer bytes to move than without compression), while the scanned path inflates every client message (RFC 7692) to scan it: hence its larger CPU ratio. The direct rows are the ceiling of the load generator and the origin on this machine, not of the network.',
    '\n## Ranges of a scanned download\n',
    `A ${mib(FILE_BYTES)} file (application/octet-stream, ETag, Accept-Ranges) fetched ${quick ? 'through the proxy of the WebSocket rows (quick run)' : 'through a fresh proxy per row'} after a warm-up download of a ${mib(WARMUP_FILE_BYTES)} file (scanned and not: the ICAP connection, the service's OPTIONS and the code paths are warm), absolute-form over plain HTTP, one request at a time, each answer checked byte for byte against the file. Scanned: the \`av\` service by RESPMOD (${FILE_BYTES > CACHE_FIRST_MAX_BYTES ? 'the body is larger than scan.cacheFirstMaxBytes, so it streams to ICAP as it arrives' : 'the body is within scan.cacheFirstMaxBytes, so it is hashed and looked up in the verdict cache first'}; it spools to a temp file past scan.spoolMemoryBytes). Not scanned: a pass rule for the path. "Started" is the proxy's RSS once it listens, "before" after the warm-up (the streams' buffers of a proxy that has moved a large body), "peak" the proxy's VmHWM over the request (reset before it through /proc/PID/clear_refs); the second range is fetched after the first through the same proxy.\n`,
    ...renderRangeTable(rangeRows),
    '\nWhy a scanned range costs about a whole download: a byte range of a file cannot be judged alone (parts that pass one by one can add up to a file the whole of which is blocked, issue 11), so the proxy strips Range and If-Range, fetches the whole representation from the origin, sends the whole to the AV service, and only after a pass cuts the requested bytes from the spool. The client waits for the whole to arrive and be scanned before its first byte (first byte ≈ last byte), and the origin sends the whole file for a 1 MiB range. Unscanned, Range goes to the origin as is and only the range crosses.',
    `\nWhy the second range is not cheaper: dlp-proxy keeps no response cache. The spool of a scanned download belongs to its exchange and is removed when the exchange ends, so each range request fetches and spools the whole file again. The verdict cache cannot save that fetch: it is keyed by the hash of the bytes, known only once they all arrived. ${
      FILE_BYTES > CACHE_FIRST_MAX_BYTES
        ? `It does not save the scan either here: a body larger than scan.cacheFirstMaxBytes (${mib(CACHE_FIRST_MAX_BYTES)}) streams to ICAP as it arrives, before its hash is known, so the second range is scanned again (its verdict is cached after the scan, but a body of that size is never looked up first).`
        : `A file within scan.cacheFirstMaxBytes (${mib(CACHE_FIRST_MAX_BYTES)}) is hashed before it is scanned, so the second range finds its verdict in the cache (no ICAP transaction), but is still fetched whole.`
    } A download manager that splits a file into N ranges makes the origin send it N times; where that matters, let such downloads be fetched whole, or put a caching proxy on the origin side.`,
  ];
}

main().then(
  (code) => process.exit(code),
  async (err: unknown) => {
    process.stderr.write(`websocket-ranges failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    await stopAll();
    process.exit(1);
  },
);
