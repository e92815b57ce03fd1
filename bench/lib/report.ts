// Results for people: a progress line per scenario, and bench/RESULTS.md (machine facts, the table
// with ratios against the ceiling and against squid, the issue's targets, the memory check and,
// when one was taken, the CPU profile summary). RESULTS.md is generated whole from the run's JSON.
import type { ProfileSummary } from './cpu-profile.js';
import type { MachineFacts } from './machine.js';
import type { ScenarioResult } from './types.js';
import type { MemoryCheckResult } from '../slow-client.js';

export interface RunResults {
  machine: MachineFacts;
  mode: 'quick' | 'full';
  durationMs: number;
  warmupMs: number;
  wallSeconds: number;
  scenarios: ScenarioResult[];
  memory: MemoryCheckResult[];
  profiles: ProfileSummary[];
}

const MiB = 1024 * 1024;
const int = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => (n < 10 ? n.toFixed(2) : n.toFixed(1));
const mib = (n: number) => (n / MiB).toFixed(0);

export function formatRow(row: ScenarioResult): string {
  if (row.status !== 'ok' || !row.load) return `${row.status === 'failed' ? 'FAILED' : 'not available'}: ${row.reason ?? ''}`;
  const l = row.load;
  const proxy = row.proxy ? `, RSS ${mib(row.proxy.rssPeakBytes)} MiB, CPU ${row.proxy.cpuSeconds.toFixed(1)} s` : '';
  const origin = row.origin ? `, origin conns ${row.origin.connections}` : '';
  return `${int(l.reqPerSec).padStart(7)} req/s  p50 ${ms(l.p50Ms)} ms  p99 ${ms(l.p99Ms)} ms  errors ${l.errors + l.non2xx}${proxy}${origin}`;
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
    '| scenario | req/s | MiB/s | p50 ms | p99 ms | errors | proxy RSS peak MiB | proxy CPU s | CPU ms / 1k req | origin conns | × direct | × squid | load |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const r of rows) {
    if (r.status !== 'ok' || !r.load) {
      out.push(`| ${r.title} (\`${r.name}\`) | **${r.status === 'failed' ? 'failed' : 'not available'}**: ${(r.reason ?? '').replace(/\|/g, '/')} | | | | | | | | | | | |`);
      continue;
    }
    const l = r.load;
    const cpuPerK = r.proxy && l.requests > 0 ? ((r.proxy.cpuSeconds * 1000) / l.requests) * 1000 : undefined;
    out.push(
      `| ${r.title} (\`${r.name}\`) | ${int(l.reqPerSec)} | ${(l.bytesPerSec / MiB).toFixed(1)} | ${ms(l.p50Ms)} | ${ms(l.p99Ms)} | ${l.errors + l.non2xx} | ${r.proxy ? mib(r.proxy.rssPeakBytes) : ''} | ${r.proxy ? r.proxy.cpuSeconds.toFixed(1) : ''} | ${cpuPerK === undefined ? '' : cpuPerK.toFixed(0)} | ${r.origin?.connections ?? ''} | ${times(ratio(rows, r, r.baseline?.direct))} | ${times(ratio(rows, r, r.baseline?.squid))} | ${r.loadAverage ?? ''} |`,
    );
  }
  return out;
}

function targets(results: RunResults): string[] {
  const rows = results.scenarios;
  const verdict = (x: number | undefined, goal: number) => (x === undefined ? 'not measured in this run' : x >= goal ? `**met** (${x.toFixed(2)}×)` : `**not met** (${x.toFixed(2)}×)`);
  const vsSquid = (name: string) => {
    const row = rows.find((r) => r.name === name);
    return row ? ratio(rows, row, row.baseline?.squid) : undefined;
  };
  const between = (name: string, other: string) => {
    const row = rows.find((r) => r.name === name);
    return row ? ratio(rows, row, other) : undefined;
  };
  const slow = results.memory.find((m) => m.name === 'slow-client');
  return [
    '| target (issue 6 and 2) | this run |',
    '|---|---|',
    `| passthrough HTTP 1 KiB ≥ 1.0× squid | ${verdict(vsSquid('passthrough-http-1k'), 1)} |`,
    `| passthrough HTTP 64 KiB ≥ 1.0× squid | ${verdict(vsSquid('passthrough-http-64k'), 1)} |`,
    `| intercepted HTTPS vs squid ssl-bump (no goal set; for the record) | ${times(vsSquid('intercept-https-1k')) || 'not measured in this run'} |`,
    '| scanned cold ≥ 2× squid with c-icap | not measured yet: no c-icap scenario in the suite |',
    `| scanned warm (built-in service) ≥ 0.8× our own passthrough | ${verdict(between('scanned-download-builtin-warm', 'passthrough-http-1k'), 0.8)} |`,
    '| 100 MiB scanned transfers, peak RSS ≤ 200 MiB | not measured yet: no 100 MiB scanned scenario in the suite |',
    `| slow-client download: proxy memory flat (RSS growth < 64 MiB) | ${slow ? (slow.status === 'ok' ? (slow.flat ? `**met** (+${mib(slow.peakRssBytes - slow.baselineRssBytes)} MiB over ${mib(slow.sizeBytes)} MiB)` : `**not met** (+${mib(slow.peakRssBytes - slow.baselineRssBytes)} MiB)`) : `failed: ${slow.reason}`) : 'not measured in this run'} |`,
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

export function renderResultsMarkdown(results: RunResults, jsonFile: string): string {
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
    `Each scenario: ${(results.warmupMs / 1000).toFixed(1)} s warm-up, then ${(results.durationMs / 1000).toFixed(1)} s measured; the whole run took ${results.wallSeconds.toFixed(0)} s.`,
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
    '## Targets',
    '',
    ...targets(results),
    '',
    '## Memory under a slow and a fast client (backpressure)',
    '',
    'One large download through dlp-proxy (passthrough, a fresh proxy process each), the proxy\'s RSS (/proc) and heap (process.memoryUsage over IPC) sampled every 200 ms.',
    '',
    ...(results.memory.length > 0 ? memoryTable(results.memory) : ['Not run in this run (`--no-memory`).']),
    '',
  ];
  for (const profile of results.profiles) {
    out.push(`## Where the time goes: CPU profile of \`${profile.scenario}\``, '', 'V8 sampling profile of the proxy process over the measured phase (`npm run bench -- --profile NAME`); self time, share of busy time.', '', '```', ...profile.lines, '```', '');
  }
  out.push(
    '## Method',
    '',
    '- Processes: the load generator (this script), the origin (node:http and node:https in a child process), and the proxy under test (dlp-proxy via `startApp` in a child process, or `squid -N`), all on 127.0.0.1. On a small machine they share the cores: the ceiling is the origin plus the generator, not the origin alone.',
    '- Plain HTTP load: autocannon, keep-alive connections, absolute-form requests to the proxy. HTTPS load: bench/lib/https-load.ts (CONNECT, then TLS inside the tunnel, keep-alive), because autocannon cannot CONNECT. Latency percentiles come from one histogram type for both (±1 %).',
    '- dlp-proxy runs its default logging (one JSON access line per exchange, to a file); squid writes its access log to a file too. squid runs with `cache deny all`.',
    '- The bare node:http proxy row (bench/lib/node-proxy-child.ts, ~50 lines, no logging) is a reference: the gap between it and squid is Node\'s http stack, the gap between it and dlp-proxy is our code.',
    '- Scanned scenarios (RESPMOD/REQMOD, cold and warm cache, c-icap virus_scan, 100 MiB) are added as files under bench/scenarios/; a scenario that cannot run shows "not available" with the reason.',
    '',
  );
  return out.join('\n');
}
