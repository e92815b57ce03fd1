// The parts of RESULTS.md that judge issue 12 (per-exchange cost): its targets with this run's
// figure (req/s and CPU per request against squid, one process each, the bare node:http proxy as
// the floor; scanned uploads against squid + c-icap, with the bare proxy scanning through the same
// c-icap as their floor, and against our own unscanned POST; workers: 2
// against workers: 1 and the verdict cache's hit rate across workers; first bytes of a large
// scanned download from a slow origin under each delivery mode; the CPU profiles), the workers
// table and the slow-download table. Pure functions of the run's rows.
import type { ProfileSummary } from './cpu-profile.js';
import { between, missingWhy, ratioCell, transferCell } from './report-targets.js';
import type { DeliveryMode, ScenarioResult } from './types.js';

const MiB = 1024 * 1024;
const int = (n: number) => Math.round(n).toLocaleString('en-US');
const seconds = (ms: number | undefined) => (ms === undefined ? '' : (ms / 1000).toFixed(ms < 10_000 ? 2 : 1));
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const find = (rows: readonly ScenarioResult[], name: string) => rows.find((r) => r.name === name);

/** A client's read timeout that the slow-download rows are judged against (issue 12: 5 s). */
export const READ_TIMEOUT_MS = 5_000;
/** The hit-rate target of one verdict cache per host. */
export const HIT_RATE_GOAL = 0.99;
const MODES: readonly DeliveryMode[] = ['hold', 'trickle', 'patience'];

/** Proxy CPU milliseconds per 1,000 requests of a row that ran, or undefined. */
export function cpuPerThousand(row: ScenarioResult | undefined): number | undefined {
  if (row?.status !== 'ok' || !row.proxy || !row.load || row.load.requests === 0) return undefined;
  return (row.proxy.cpuSeconds * 1e6) / row.load.requests;
}

function processes(rows: readonly ScenarioResult[], ...names: string[]): string {
  return names.map((n) => `${n} ${find(rows, n)?.processes ?? '?'}`).join(', ');
}

/** The pass-path comparison holds only between one process each (dlp-proxy `workers: 1`, `squid -N`). */
function oneProcessEach(rows: readonly ScenarioResult[], ...names: string[]): string {
  const more = names.filter((n) => (find(rows, n)?.processes ?? 1) !== 1);
  return more.length === 0 ? '' : `; **not one process each**: ${processes(rows, ...more)}`;
}

function cpuCell(rows: readonly ScenarioResult[], name: string, other: string, goal: number): string {
  const why = missingWhy(rows, name, other);
  if (why) return why;
  const a = cpuPerThousand(find(rows, name));
  const b = cpuPerThousand(find(rows, other));
  if (a === undefined || b === undefined || b === 0) return 'not measured in this run';
  return `${a / b <= goal ? '**met**' : '**not met**'} (${(a / b).toFixed(2)}×: ${a.toFixed(0)} against ${b.toFixed(0)} ms per 1k requests)`;
}

/** A bare node:http proxy's row (`floor`) against squid's (`squid`), and ours (`ours`) against it. */
function floorCell(rows: readonly ScenarioResult[], floor: string, squid: string, ours: string): string {
  const node = find(rows, floor);
  const why = missingWhy(rows, floor);
  if (why || !node?.load) return why ?? 'not measured in this run';
  const ratio = between(rows, floor, squid);
  const distance = between(rows, ours, floor);
  const cpu = (row: ScenarioResult | undefined) => cpuPerThousand(row)?.toFixed(0) ?? '?';
  return `${int(node.load.reqPerSec)} req/s${ratio === undefined ? '' : ` (${ratio.toFixed(2)}× squid)`}, ${cpu(node)} ms CPU per 1k requests (dlp-proxy ${cpu(find(rows, ours))}, squid ${cpu(find(rows, squid))}); dlp-proxy at ${distance?.toFixed(2) ?? '–'}× its req/s`;
}

function hitRateCell(rows: readonly ScenarioResult[]): string {
  const row = find(rows, 'workers-2-repeat-upload-cicap');
  const why = missingWhy(rows, 'workers-2-repeat-upload-cicap');
  if (why || !row) return why ?? 'not measured in this run';
  const cache = row.icap?.cache;
  if (!cache) return '**not met**: the proxy reported no verdict cache lookups';
  const spread = row.exchangesPerWorker ? `; uploads per worker ${row.exchangesPerWorker.map(int).join(' / ')}` : '; uploads per worker unknown (no access line named its worker)';
  const oneWorker = row.exchangesPerWorker !== undefined && row.exchangesPerWorker.length < 2;
  const verdict = oneWorker ? '**not judged** (the load did not reach two workers)' : cache.hitRate >= HIT_RATE_GOAL ? '**met**' : '**not met**';
  return `${verdict} (${pct(cache.hitRate)}: ${int(cache.hits)} hits, ${int(cache.misses)} misses, ${int(cache.joins)} joins; ICAP tx per repeat ${row.icap!.perRequest.toFixed(2)}; ${row.processes ?? '?'} processes${spread})`;
}

function deliveryRow(rows: readonly ScenarioResult[], mode: DeliveryMode): ScenarioResult | undefined {
  return rows.find((r) => r.slowDownload?.mode === mode);
}

function deliveryCell(rows: readonly ScenarioResult[], show: (r: ScenarioResult) => string): string {
  const cells = MODES.map((mode) => {
    const r = deliveryRow(rows, mode);
    if (!r) return undefined;
    if (r.status !== 'ok' || !r.delivery) return `${mode}: ${r.status === 'failed' ? 'failed' : 'not available'}: ${(r.reason ?? '').replace(/\|/g, '/')}`;
    return `${mode} ${show(r)}`;
  }).filter((c) => c !== undefined);
  return cells.length > 0 ? cells.join('; ') : 'not measured in this run';
}

function profilesCell(profiles: readonly ProfileSummary[]): string {
  if (profiles.length === 0) return 'not taken in this run';
  return profiles.map((p) => `\`${p.scenario}\` (${(p.busyMs / 1000).toFixed(1)} s busy; top: ${p.topFunctions[0]?.name ?? '–'} ${p.topFunctions[0] ? pct(p.topFunctions[0].share) : ''})`).join(', ') + ': below';
}

export function costTargetRows(rows: readonly ScenarioResult[], profiles: readonly ProfileSummary[]): string[] {
  const slow = deliveryRow(rows, 'hold')?.slowDownload ?? deliveryRow(rows, 'trickle')?.slowDownload;
  const slowLabel = slow ? `${(slow.sizeBytes / MiB).toFixed(0)} MiB scanned download from a ${(slow.rateBytesPerSec / MiB).toFixed(0)} MiB/s origin` : 'large scanned download from a slow origin';
  return [
    `| passthrough HTTP 1 KiB GET ≥ 0.75× squid's req/s, one process each (${processes(rows, 'passthrough-http-1k', 'squid-http-1k')}) | ${ratioCell(rows, 'passthrough-http-1k', 'squid-http-1k', 0.75)}${oneProcessEach(rows, 'passthrough-http-1k', 'squid-http-1k')} |`,
    `| passthrough HTTP 1 KiB GET: CPU per request ≤ 1.5× squid's | ${cpuCell(rows, 'passthrough-http-1k', 'squid-http-1k', 1.5)} |`,
    `| the floor of Node: a bare node:http keep-alive proxy, same load (no goal) | ${floorCell(rows, 'node-proxy-http-1k', 'squid-http-1k', 'passthrough-http-1k')} |`,
    `| the floor of our stack: the same bare proxy reaching the origin through undici as dlp-proxy does (no goal) | ${floorCell(rows, 'node-proxy-undici-http-1k', 'squid-http-1k', 'passthrough-http-1k')} |`,
    `| scanned unique 16 KiB uploads through c-icap ≥ 1.0× squid + c-icap | ${ratioCell(rows, 'scanned-upload-cicap-cold', 'squid-cicap-upload-16k', 1)} |`,
    `| the floor of a scanning proxy: the bare node:http proxy sending each upload by REQMOD to the same c-icap, same load (no goal) | ${floorCell(rows, 'node-proxy-cicap-upload-16k', 'squid-cicap-upload-16k', 'scanned-upload-cicap-cold')} |`,
    `| CPU per scanned upload, the proxy (of it system) and c-icap: dlp-proxy, squid, the floor (no goal) | ${scanCpuCell(rows, ['scanned-upload-cicap-cold', 'squid-cicap-upload-16k', 'node-proxy-cicap-upload-16k'])} |`,
    `| the same 16 KiB body again and again ≥ 0.8× our own unscanned POST: c-icap | ${ratioCell(rows, 'scanned-upload-cicap-warm', 'passthrough-upload-16k', 0.8)} |`,
    `| the same 16 KiB body again and again ≥ 0.8× our own unscanned POST: built-in service | ${ratioCell(rows, 'scanned-upload-builtin-warm', 'passthrough-upload-16k', 0.8)} |`,
    `| \`workers: 2\` against \`workers: 1\` (\`npm start\`), passthrough 1 KiB GET (no goal) | ${workersCell(rows, 'passthrough-http-1k')} |`,
    `| \`workers: 2\` against \`workers: 1\` (\`npm start\`), scanned warm 16 KiB uploads, c-icap (no goal) | ${workersCell(rows, 'scanned-upload-cicap-warm')} |`,
    `| warm-cache hit rate across workers ≥ 99 % (\`workers: 2\`, each upload again on new connections) | ${hitRateCell(rows)} |`,
    `| time to first byte of a ${slowLabel}: hold, trickle, patience (no goal) | ${deliveryCell(rows, (r) => `${seconds(r.delivery!.firstByteMs)} s${r.delivery!.pageMs === undefined ? '' : ` (page ${seconds(r.delivery!.pageMs)} s)`}, last byte ${seconds(r.delivery!.lastByteMs)} s`)} |`,
    `| the same download: a client with a ${READ_TIMEOUT_MS / 1000} s read timeout succeeds (longest silence under it) | ${deliveryCell(rows, (r) => `${r.delivery!.longestSilenceMs < READ_TIMEOUT_MS ? '**yes**' : '**no**'} (${seconds(r.delivery!.longestSilenceMs)} s)`)} |`,
    `| \`npm start\` as shipped: a 100 MiB scanned download under 200 MiB RSS (\`large-download-builtin-inproc-100m\`) | ${transferCell(find(rows, 'large-download-builtin-inproc-100m'))} |`,
    `| CPU profiles of the pass and scan paths kept | ${profilesCell(profiles)} |`,
  ];
}

/** µs of CPU per request: the proxy's, of it system, and the run's c-icap's meanwhile, per row. */
function scanCpuCell(rows: readonly ScenarioResult[], names: readonly string[]): string {
  const per = (seconds: number | undefined, row: ScenarioResult) => (seconds === undefined ? '?' : ((seconds * 1e6) / row.load!.requests).toFixed(0));
  return names
    .map((name) => {
      const row = find(rows, name);
      if (row?.status !== 'ok' || !row.load || row.load.requests === 0 || !row.proxy) return `${name}: not measured in this run`;
      return `${name} ${per(row.proxy.cpuSeconds, row)} µs (system ${per(row.proxy.systemSeconds, row)}), c-icap ${per(row.cicapCpuSeconds, row)} µs`;
    })
    .join('; ');
}

function workersCell(rows: readonly ScenarioResult[], stem: string): string {
  const [one, two] = [`workers-1-${stem}`, `workers-2-${stem}`];
  const why = missingWhy(rows, two, one);
  if (why) return why;
  const x = between(rows, two, one);
  if (x === undefined) return 'not measured in this run';
  const cpu = [cpuPerThousand(find(rows, one)), cpuPerThousand(find(rows, two))];
  return `${x.toFixed(2)}× (${int(find(rows, one)!.load!.reqPerSec)} → ${int(find(rows, two)!.load!.reqPerSec)} req/s; CPU per 1k requests ${cpu.map((c) => c?.toFixed(0) ?? '?').join(' → ')} ms)`;
}

/** `npm start` with one and two workers side by side: rate, CPU, processes, the cache across workers. */
export function workersTable(rows: readonly ScenarioResult[]): string[] {
  const out = ['| scenario | processes | req/s | p99 ms | CPU ms / 1k req | proxy RSS peak MiB | ICAP tx / req | cache hit rate | exchanges per worker | load |', '|---|--:|--:|--:|--:|--:|--:|--:|---|--:|'];
  for (const r of rows.filter((x) => x.name.startsWith('workers-'))) {
    if (r.status !== 'ok' || !r.load) {
      out.push(`| ${r.title} (\`${r.name}\`) | **${r.status === 'failed' ? 'failed' : 'not available'}**: ${(r.reason ?? '').replace(/\|/g, '/')} | | | | | | | | |`);
      continue;
    }
    const cache = r.icap?.cache;
    out.push(
      `| ${r.title} (\`${r.name}\`) | ${r.processes ?? ''} | ${int(r.load.reqPerSec)} | ${r.load.p99Ms.toFixed(1)} | ${cpuPerThousand(r)?.toFixed(0) ?? ''} | ${r.proxy ? (r.proxy.rssPeakBytes / MiB).toFixed(0) : ''} | ${r.icap ? r.icap.perRequest.toFixed(2) : ''} | ${cache ? pct(cache.hitRate) : ''} | ${r.exchangesPerWorker?.map(int).join(' / ') ?? ''} | ${r.loadAverage ?? ''} |`,
    );
  }
  return out;
}

/** The slow-origin downloads: when the client saw the head, the first and the last byte, the longest silence. */
export function deliveryTable(rows: readonly ScenarioResult[]): string[] {
  const out = ['| scenario | mode | size MiB | origin MiB/s | origin alone s | head s | patience page s | first byte of the file s | last byte s | longest silence s | status polls | proxy RSS peak MiB | proxy CPU s | load |', '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|'];
  for (const r of rows.filter((x) => x.slowDownload)) {
    const s = r.slowDownload!;
    const lead = `| ${r.title} (\`${r.name}\`) | ${s.mode} | ${(s.sizeBytes / MiB).toFixed(0)} | ${(s.rateBytesPerSec / MiB).toFixed(0)} | ${(s.sizeBytes / s.rateBytesPerSec).toFixed(1)}`;
    const d = r.delivery;
    if (r.status !== 'ok' || !d) {
      out.push(`${lead} | **${r.status === 'failed' ? 'failed' : 'not available'}**: ${(r.reason ?? '').replace(/\|/g, '/')} | | | | | | | | |`);
      continue;
    }
    out.push(`${lead} | ${seconds(d.headersMs)} | ${seconds(d.pageMs)} | ${seconds(d.firstByteMs)} | ${seconds(d.lastByteMs)} | ${seconds(d.longestSilenceMs)} | ${d.polls ?? ''} | ${r.proxy ? (r.proxy.rssPeakBytes / MiB).toFixed(0) : ''} | ${r.proxy?.cpuSeconds.toFixed(1) ?? ''} | ${r.loadAverage ?? ''} |`);
  }
  return out;
}
