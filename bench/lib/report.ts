// Results for people: a progress line per scenario, and bench/RESULTS.md (machine facts, the table
// with ratios against the ceiling and against squid, the issue's targets, the memory check and,
// when one was taken, the CPU profile summary). RESULTS.md is generated whole from the run's JSON.
import type { ProfileSummary } from './cpu-profile.js';
import type { MachineFacts } from './machine.js';
import { costTargetRows, deliveryTable, workersTable } from './report-cost.js';
import { cacheEffectTable, targetRows, transferTable } from './report-targets.js';
import type { ScenarioResult } from './types.js';
import type { MemoryCheckResult } from '../slow-client.js';

export interface RunResults {
  machine: MachineFacts;
  mode: 'quick' | 'full';
  durationMs: number;
  warmupMs: number;
  /** Warm-up cycles at most (older results: absent, one cycle). */
  warmupCycles?: number;
  wallSeconds: number;
  scenarios: ScenarioResult[];
  memory: MemoryCheckResult[];
  profiles: ProfileSummary[];
}

const MiB = 1024 * 1024;
const int = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => (n < 10 ? n.toFixed(2) : n.toFixed(1));
const mib = (n: number) => (n / MiB).toFixed(0);

const pct = (x: number) => `${(x * 100).toFixed(0)} %`;

/** "0.98 (cache 2 %)": ICAP transactions per request and, for dlp-proxy, the cache's hit rate. */
export function icapSummary(row: ScenarioResult): string {
  if (!row.icap) return '';
  return `${row.icap.perRequest.toFixed(2)}${row.icap.cache ? ` (cache hits ${pct(row.icap.cache.hitRate)})` : ''}`;
}

export function formatRow(row: ScenarioResult): string {
  if (row.status !== 'ok' || !row.load) return `${row.status === 'failed' ? 'FAILED' : 'not available'}: ${row.reason ?? ''}`;
  const l = row.load;
  const proxy = row.proxy ? `, RSS ${row.transfer && row.proxy.rssStartBytes ? `${mib(row.proxy.rssStartBytes)} → ` : ''}${mib(row.proxy.rssPeakBytes)} MiB, CPU ${row.proxy.cpuSeconds.toFixed(1)} s` : '';
  const origin = row.origin ? `, origin conns ${row.origin.connections}` : '';
  const icap = row.icap ? `, ICAP/req ${icapSummary(row)}` : '';
  const perRequest = (s: number) => Math.round((s * 1e6) / Math.max(1, l.requests));
  const system = row.proxy?.systemSeconds !== undefined ? `, of it system ${perRequest(row.proxy.systemSeconds)} µs/req` : '';
  const cicap = row.cicapCpuSeconds !== undefined ? `, c-icap ${perRequest(row.cicapCpuSeconds)} µs/req` : '';
  const procs = row.processes !== undefined && row.processes !== 1 ? `, ${row.processes} processes` : '';
  const workers = row.exchangesPerWorker ? ` (per worker ${row.exchangesPerWorker.join(' / ')})` : '';
  const d = row.delivery;
  if (d) {
    const page = d.pageMs === undefined ? '' : `page ${(d.pageMs / 1000).toFixed(2)} s (${d.polls} polls), `;
    return `${row.slowDownload?.mode}: head ${(d.headersMs / 1000).toFixed(2)} s, ${page}first byte ${(d.firstByteMs / 1000).toFixed(2)} s, last byte ${(d.lastByteMs / 1000).toFixed(2)} s, longest silence ${(d.longestSilenceMs / 1000).toFixed(2)} s${proxy}`;
  }
  if (row.transfer) return `${mib(row.transfer.sizeBytes)} MiB ${row.transfer.direction} in ${l.durationS.toFixed(1)} s (${(l.bytesPerSec / MiB).toFixed(0)} MiB/s)${proxy}${icap}`;
  const warm = row.warmup && row.warmup.cycles > 1 ? `, warm-up ${row.warmup.cpuUsPerRequest.join(' → ')} µs CPU/req` : '';
  return `${int(l.reqPerSec).padStart(7)} req/s  p50 ${ms(l.p50Ms)} ms  p99 ${ms(l.p99Ms)} ms  errors ${l.errors + l.non2xx}${proxy}${system}${cicap}${procs}${origin}${icap}${workers}${warm}`;
}

/** req/s of `row` over req/s of the scenario named `other`, when both ran. */
export function ratio(rows: readonly ScenarioResult[], row: ScenarioResult, other: string | undefined): number | undefined {
  const base = rows.find((r) => r.name === other);
  if (!row.load || row.status !== 'ok' || !base?.load || base.status !== 'ok' || base.load.reqPerSec === 0) return undefined;
  return row.load.reqPerSec / base.load.reqPerSec;
}

const times = (x: number | undefined) => (x === undefined ? '' : `${x.toFixed(2)}×`);

function scenarioTable(rows: readonly ScenarioResult[]): string[] {
  const out = [
    '| scenario | req/s | MiB/s | p50 ms | p99 ms | errors | proxy RSS peak MiB | proxy CPU s | CPU ms / 1k req | origin conns | ICAP tx / req | × direct | × squid | load |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const r of rows) {
    if (r.transfer || r.slowDownload) continue;
    if (r.status !== 'ok' || !r.load) {
      out.push(`| ${r.title} (\`${r.name}\`) | **${r.status === 'failed' ? 'failed' : 'not available'}**: ${(r.reason ?? '').replace(/\|/g, '/')} | | | | | | | | | | | | |`);
      continue;
    }
    const l = r.load;
    const cpuPerK = r.proxy && l.requests > 0 ? ((r.proxy.cpuSeconds * 1000) / l.requests) * 1000 : undefined;
    out.push(
      `| ${r.title} (\`${r.name}\`) | ${int(l.reqPerSec)} | ${(l.bytesPerSec / MiB).toFixed(1)} | ${ms(l.p50Ms)} | ${ms(l.p99Ms)} | ${l.errors + l.non2xx} | ${r.proxy ? mib(r.proxy.rssPeakBytes) : ''} | ${r.proxy ? r.proxy.cpuSeconds.toFixed(1) : ''} | ${cpuPerK === undefined ? '' : cpuPerK.toFixed(0)} | ${r.origin?.connections ?? ''} | ${icapSummary(r)} | ${times(ratio(rows, r, r.baseline?.direct))} | ${times(ratio(rows, r, r.baseline?.squid))} | ${r.loadAverage ?? ''} |`,
    );
  }
  return out;
}

function earlierTargets(results: RunResults): string[] {
  const slow = results.memory.find((m) => m.name === 'slow-client');
  const growth = (m: MemoryCheckResult) => `+${mib(m.peakRssBytes - m.baselineRssBytes)} MiB`;
  return [
    '| target (issues 6, 4 and 2) | this run |',
    '|---|---|',
    ...targetRows(results.scenarios),
    `| slow-client download: proxy memory flat (RSS growth < 64 MiB) | ${slow ? (slow.status === 'ok' ? (slow.flat ? `**met** (${growth(slow)} over ${mib(slow.sizeBytes)} MiB)` : `**not met** (${growth(slow)})`) : `failed: ${slow.reason}`) : 'not measured in this run'} |`,
  ];
}

function memoryTable(memory: readonly MemoryCheckResult[]): string[] {
  const out = [
    '| client | size MiB | client rate | time s | MiB/s | proxy RSS idle → peak MiB | heap idle → peak MiB | buffers idle → peak MiB | RSS at 10 %, 20 % … 100 % (MiB) | flat |',
    '|---|--:|--:|--:|--:|--:|--:|--:|---|---|',
  ];
  for (const m of memory) {
    if (m.status !== 'ok') {
      out.push(`| ${m.name} | ${mib(m.sizeBytes)} | | | | | | | **failed**: ${m.reason ?? ''} | |`);
      continue;
    }
    out.push(
      `| ${m.name} | ${mib(m.sizeBytes)} | ${m.rateBytesPerSec > 0 ? `${mib(m.rateBytesPerSec)} MiB/s` : 'unlimited'} | ${m.seconds.toFixed(1)} | ${(m.throughputBytesPerSec / MiB).toFixed(0)} | ${mib(m.baselineRssBytes)} → ${mib(m.peakRssBytes)} | ${mib(m.baselineHeapUsedBytes)} → ${mib(m.peakHeapUsedBytes)} | ${mib(m.baselineExternalBytes)} → ${mib(m.peakExternalBytes)} | ${m.rssAtProgressBytes.map(mib).join(', ')} | ${m.flat ? 'yes' : 'NO'} |`,
    );
  }
  return out;
}

/** A standalone bench's last result (bench/results/<name>.md), linked at the end of RESULTS.md. */
export interface StandaloneResult {
  /** path relative to bench/ */
  file: string;
  /** its first heading */
  title: string;
}

export function renderResultsMarkdown(results: RunResults, jsonFile: string, standalone: readonly StandaloneResult[] = []): string {
  const m = results.machine;
  const out = [
    '# Benchmark results',
    '',
    `Generated by \`npm run bench\` on ${m.date.slice(0, 10)} (raw numbers: [${jsonFile}](${jsonFile})); chart: [results/throughput.svg](results/throughput.svg).`,
    'Every row ran in the same run against the same origin, so compare ratios, not absolute numbers across machines.',
    '',
    `Machine: ${m.cores} cores (${m.cpuModel}), ${m.memoryGiB} GiB, ${m.platform}, kernel ${m.kernel}, Node ${m.node}, squid ${m.squid}; dlp-proxy at ${m.revision}.`,
    ...(m.loadAverage > m.cores * 0.5
      ? ['', `**Noise warning:** the 1-minute load average was ${m.loadAverage} when the run started (${m.cores} cores): other work shared the machine, so the numbers are lower and noisier than on an idle box. The "load" column shows it after each scenario.`]
      : []),
    (results.warmupCycles ?? 1) > 1
      ? `Each scenario: warm-up in cycles of ${(results.warmupMs / 1000).toFixed(1)} s, each with connections of its own, until the target's CPU per request is no longer 10 % below the best cycle before (at most ${results.warmupCycles}: the JIT compiles for the first seconds of load, and again when the first connections close; a proxy runs for days, so the measured phase is its steady state; each row's warm-up is in the JSON), then ${(results.durationMs / 1000).toFixed(1)} s measured; the whole run took ${results.wallSeconds.toFixed(0)} s.`
      : `Each scenario: ${(results.warmupMs / 1000).toFixed(1)} s warm-up, then ${(results.durationMs / 1000).toFixed(1)} s measured; the whole run took ${results.wallSeconds.toFixed(0)} s.`,
    '',
    '![throughput by scenario](results/throughput.svg)',
    '',
    '## Throughput and latency',
    '',
    ...scenarioTable(results.scenarios),
    '',
    '"origin conns" is how many connections the origin accepted during the measured phase (few means keep-alive upstream). "× direct" is req/s over the same load straight to the origin (the ceiling); "× squid" is req/s over squid in the same scenario; "load" is the 1-minute load average after the scenario.',
    'Proxy RSS peak and CPU are those of the proxy process (and its helpers, for squid) during the measured phase, read from /proc.',
    '',
    '"ICAP tx / req" is REQMOD and RESPMOD transactions during the measured phase per request the origin served in it (read 200 ms after the load stops, so that requests still in flight count on both sides), from dlp-proxy\'s `dlp_proxy_icap_transactions_total` (admin /metrics, read before and after) or, for squid, from c-icap\'s access log; in brackets the verdict cache\'s hit rate (hits over hits, misses and single-flight joins).',
    '',
    '## Targets',
    '',
    'Issue 12 (per-exchange cost), each target with this run\'s figure:',
    '',
    '| target (issue 12) | this run |',
    '|---|---|',
    ...costTargetRows(results.scenarios, results.profiles),
    '',
    'Earlier targets (issues 6, 4 and 2), for the record:',
    '',
    ...earlierTargets(results),
    '',
    '## The verdict cache: cold against warm',
    '',
    'Cold: a different body on every request (every one is scanned). Warm: the same body every time (after the warm-up the cache answers). squid keeps no verdicts: its one row per direction is the baseline of both.',
    '',
    ...cacheEffectTable(results.scenarios),
    '',
    '## Workers: `npm start` with one and with two processes',
    '',
    'dlp-proxy started as `npm start` runs it (`node dist/src/main.js start`, JSON log to a file), with `workers: 1` (one process) and `workers: 2` (a node:cluster primary holding the CA, the admin listener and the host\'s verdict cache, and two worker processes sharing the port); "processes" counts the proxy\'s process tree when the measured phase began, CPU is the whole tree\'s. The `repeat-upload` rows send 240 distinct 16 KiB bodies once each (unmeasured: every one scanned, by one worker), then each twice more, every upload on a connection of its own so that node:cluster deals them to both workers: the hit rate is the verdict cache\'s over those repeats (hits over hits, misses and single-flight joins, from /metrics before and after), "exchanges per worker" counts the measured phase\'s access lines per worker. With one cache per worker a repeat hits only on a worker that saw the body before (about 60 %); with one per host, every repeat.',
    '',
    ...workersTable(results.scenarios),
    '',
    '## First bytes of a large scanned download from a slow origin',
    '',
    'One download of a file from an origin that sends it at a fixed rate (bench/lib/origin-child.ts `/stream/N?rate=B`), scanned by RESPMOD against the built-in `av` service in the proxy\'s worker thread, the download rule set to each `delivery.mode` (its other delivery settings at their defaults). The client asks as a browser navigation does (Sec-Fetch-Mode: navigate, HTML first) and times everything from its request: the response head, the first and last byte of the file, and the longest time no byte arrived (what a client\'s read timeout meets). Under patience the proxy answers with a progress page; the client then does what the page\'s script does (reads the status URL from the page, polls it as JSON at the pace it asks for, fetches the file once it is ready), so "first byte of the file" is that of the fetch after the page. "origin alone" is the size over the origin\'s rate: the last byte can come no sooner.',
    '',
    ...deliveryTable(results.scenarios),
    '',
    '## Large scanned transfers',
    '',
    'One transfer at a time through a fresh dlp-proxy, the built-in ICAP service in a process of its own (so the proxy\'s RSS is the proxy\'s; its own is beside it), and once in the proxy\'s worker thread as `npm start` runs it (`-inproc-`). The body is larger than `scan.cacheFirstMaxBytes`, so it streams to ICAP as it arrives and is spooled to a temp file. "idle" is the RSS just before the transfer (processes run through tsx); "peak" is the highest RSS sampled every 100 ms or the kernel\'s VmHWM. c-icap\'s virus_scan is not in this table: test/support/peers/cicap.ts configures `virus_scan.MaxObjectSize 5M` (and its clamd `StreamMaxLength 20M`), so a 100 MiB body would pass c-icap unscanned.',
    '',
    ...transferTable(results.scenarios),
    '',
    '## Memory under a slow and a fast client (backpressure)',
    '',
    'One large download through dlp-proxy (passthrough, a fresh proxy process each), the proxy\'s RSS (/proc) and heap (process.memoryUsage over IPC) sampled every 200 ms.',
    '',
    ...(results.memory.length > 0 ? memoryTable(results.memory) : ['Not run in this run (`--no-memory`).']),
    '',
  ];
  for (const profile of results.profiles) {
    out.push(`## Where the time goes: CPU profile of \`${profile.scenario}\``, '', `V8 sampling profile of the proxy process over the measured phase of a second run of the scenario (a full run profiles the pass and the scan path, \`passthrough-http-1k\` and \`scanned-upload-cicap-cold\`, and keeps them; \`npm run bench -- --profile NAME\` any other); self time, share of busy time; then what the same window allocated per request (V8's sampling heap profile, one sample per 32 KiB, collected objects included). The whole profile, for Chrome DevTools or speedscope: [results/${profile.scenario}.cpuprofile](results/${profile.scenario}.cpuprofile).`, '', '```', ...profile.lines, ...(profile.allocation?.lines ?? []), '```', '');
  }
  out.push(
    '## Method',
    '',
    '- Processes: the load generator (this script), the origin (node:http and node:https in a child process), and the proxy under test (dlp-proxy via `startApp` in a child process with `workers: 1`, one process as the "processes" count after each row checks; `node dist/src/main.js start` for the `workers-` rows; or `squid -N`), all on 127.0.0.1. On a small machine they share the cores: the ceiling is the origin plus the generator, not the origin alone.',
    '- Plain HTTP load: autocannon, keep-alive connections, absolute-form requests to the proxy. HTTPS load: bench/lib/node-load.ts (CONNECT, then TLS inside the tunnel, keep-alive), because autocannon cannot CONNECT. Latency percentiles come from one histogram type for both (±1 %).',
    '- dlp-proxy runs its default logging (one JSON access line per exchange, to a file); squid writes its access log to a file too. squid runs with `cache deny all`.',
    '- The bare node:http proxy rows (bench/lib/node-proxy-child.mjs, ~150 lines, no logging, no limits; one also sends each upload by REQMOD to the run\'s c-icap) are references: the gap between them and squid is Node\'s http stack, the gap between them and dlp-proxy is our code.',
    '- dlp-proxy runs with its admin listener on (a free port), as deployed; its /metrics is read before and after each measured phase.',
    '- Scanned scenarios first prove they scan (probe: the EICAR test file or a card-number upload is refused with 403, a clean one passes); a row that cannot run shows "not available" with the reason, a row whose target breaks shows "failed" with it.',
    '- c-icap 0.5 (one instance for the run: srv_cfg_filter as `dlp`, virus_scan through a private clamd as `av`, from test/support/peers/cicap.ts) serves both dlp-proxy (`vendor: c-icap`) and squid (test/support/peers/squid.ts, ICAP preview 1024, persistent ICAP connections). Uploads are text (bench/lib/upload-body.ts); cold uploads carry a per-request id (autocannon `idReplacement`), cold downloads come from the origin\'s /unique/N.',
    '- A quick run (`--quick`, CI) cuts the large transfers to 16 MiB and the uploads sent again to 40 bodies, and skips the rows marked full-only (200 MiB transfers, the squid 64 KiB stall, the bare node:http proxy, the `workers` throughput pairs and the one-worker control, the slow-origin downloads) and the CPU profiles.',
    '',
  );
  if (standalone.length > 0) {
    out.push('## Standalone benches', '', 'Not part of `npm run bench`; each keeps its last full result in its own file:', '');
    for (const r of standalone) out.push(`- [${r.title}](${r.file})`);
    out.push('');
  }
  return out.join('\n');
}
