// The parts of RESULTS.md that judge a run: the issue's targets (met or not, with the ratio), the
// verdict cache's effect (cold against warm, ICAP transactions per request) and the large scanned
// transfers (throughput and the proxy's peak RSS). Pure functions of the run's rows.
import type { ProcessUsage, ScenarioResult } from './types.js';

const MiB = 1024 * 1024;
const mib = (n: number) => (n / MiB).toFixed(0);
const int = (n: number) => Math.round(n).toLocaleString('en-US');

/** The memory goal of issue 6 for 100 MiB scanned transfers. */
export const TRANSFER_RSS_GOAL_BYTES = 200 * MiB;

const find = (rows: readonly ScenarioResult[], name: string) => rows.find((r) => r.name === name);

/** req/s of `name` over req/s of `other`, when both ran. */
export function between(rows: readonly ScenarioResult[], name: string, other: string): number | undefined {
  const a = find(rows, name);
  const b = find(rows, other);
  if (a?.status !== 'ok' || !a.load || b?.status !== 'ok' || !b.load || b.load.reqPerSec === 0) return undefined;
  return a.load.reqPerSec / b.load.reqPerSec;
}

const times = (x: number | undefined) => (x === undefined ? 'not measured in this run' : `${x.toFixed(2)}×`);

function judged(x: number | undefined, goal: number): string {
  if (x === undefined) return 'not measured in this run';
  return `${x >= goal ? '**met**' : '**not met**'} (${x.toFixed(2)}×)`;
}

/** Why a ratio could not be taken: the first of the two rows that did not run, with its reason. */
export function missingWhy(rows: readonly ScenarioResult[], ...names: string[]): string | undefined {
  for (const name of names) {
    const r = find(rows, name);
    if (!r) return undefined;
    if (r.status !== 'ok') return `\`${name}\` ${r.status === 'failed' ? 'failed' : 'not available'}: ${(r.reason ?? '').replace(/\|/g, '/')}`;
  }
  return undefined;
}

export function ratioCell(rows: readonly ScenarioResult[], name: string, other: string, goal: number): string {
  return missingWhy(rows, name, other) ?? judged(between(rows, name, other), goal);
}

export function transferCell(row: ScenarioResult | undefined): string {
  if (!row) return 'not measured in this run';
  if (row.status !== 'ok' || !row.proxy || !row.transfer) return `${row.status === 'failed' ? '**failed**' : 'not available'}: ${row.reason ?? ''}`;
  if (row.transfer.sizeBytes < 100 * MiB) return `not measured at 100 MiB in this run (${mib(row.transfer.sizeBytes)} MiB: peak ${mib(row.proxy.rssPeakBytes)} MiB)`;
  const met = row.proxy.rssPeakBytes <= TRANSFER_RSS_GOAL_BYTES;
  return `${met ? '**met**' : '**not met**'} (${mib(row.transfer.sizeBytes)} MiB, peak ${mib(row.proxy.rssPeakBytes)} MiB from ${mib(row.proxy.rssStartBytes ?? 0)} MiB idle)`;
}

export function targetRows(rows: readonly ScenarioResult[]): string[] {
  const squid64 = find(rows, 'squid-cicap-download-64k');
  const ours64 = find(rows, 'scanned-download-cicap-64k');
  const transfers = rows.filter((r) => r.transfer);
  return [
    `| passthrough HTTP 1 KiB ≥ 1.0× squid | ${ratioCell(rows, 'passthrough-http-1k', 'squid-http-1k', 1)} |`,
    `| passthrough HTTP 64 KiB ≥ 1.0× squid | ${ratioCell(rows, 'passthrough-http-64k', 'squid-http-64k', 1)} |`,
    `| intercepted HTTPS vs squid ssl-bump (no goal set; for the record) | ${missingWhy(rows, 'intercept-https-1k', 'squid-bump-https-1k') ?? times(between(rows, 'intercept-https-1k', 'squid-bump-https-1k'))} |`,
    `| scanned cold ≥ 2× squid with c-icap: downloads, virus_scan, 1 KiB | ${ratioCell(rows, 'scanned-download-cicap-cold', 'squid-cicap-download-1k', 2)} |`,
    `| scanned cold ≥ 2× squid with c-icap: uploads, srv_cfg_filter, 16 KiB | ${ratioCell(rows, 'scanned-upload-cicap-cold', 'squid-cicap-upload-16k', 2)} |`,
    `| scanned cold, downloads of 64 KiB (virus_scan): squid 5.7 cannot | ${squid64?.status === 'failed' && ours64?.status === 'ok' && ours64.load ? `**met**: squid fails (bug 5352), dlp-proxy ${int(ours64.load.reqPerSec)} req/s` : squid64 && ours64 ? `squid ${squid64.status}, dlp-proxy ${ours64.status}` : 'not measured in this run'} |`,
    `| scanned cold with the built-in service vs squid with c-icap (another scanner; for the record) | downloads ${between(rows, 'scanned-download-builtin-cold', 'squid-cicap-download-1k')?.toFixed(2) ?? '–'}×, uploads ${between(rows, 'scanned-upload-builtin-cold', 'squid-cicap-upload-16k')?.toFixed(2) ?? '–'}× |`,
    `| scanned warm ≥ 0.8× our own passthrough: downloads, built-in, 1 KiB | ${ratioCell(rows, 'scanned-download-builtin-warm', 'passthrough-http-1k', 0.8)} |`,
    `| scanned warm ≥ 0.8× our own passthrough: downloads, c-icap, 1 KiB | ${ratioCell(rows, 'scanned-download-cicap-warm', 'passthrough-http-1k', 0.8)} |`,
    `| scanned warm ≥ 0.8× our own passthrough: uploads, built-in, 16 KiB | ${ratioCell(rows, 'scanned-upload-builtin-warm', 'passthrough-upload-16k', 0.8)} |`,
    `| scanned warm ≥ 0.8× our own passthrough: uploads, c-icap, 16 KiB | ${ratioCell(rows, 'scanned-upload-cicap-warm', 'passthrough-upload-16k', 0.8)} |`,
    ...transfers.map((r) => `| 100 MiB scanned transfers with peak RSS ≤ 200 MiB: \`${r.name}\` | ${transferCell(r)} |`),
  ];
}

/** Cold against warm for each scanned pair: what the verdict cache buys. */
export function cacheEffectTable(rows: readonly ScenarioResult[]): string[] {
  const pairs: Array<[string, string]> = [
    ['downloads, built-in av, 1 KiB', 'scanned-download-builtin'],
    ['downloads, c-icap virus_scan, 1 KiB', 'scanned-download-cicap'],
    ['uploads, built-in dlp, 16 KiB', 'scanned-upload-builtin'],
    ['uploads, c-icap srv_cfg_filter, 16 KiB', 'scanned-upload-cicap'],
  ];
  const out = ['| scanned | cold req/s | warm req/s | warm / cold | ICAP tx / req cold | ICAP tx / req warm | cache hit rate warm |', '|---|--:|--:|--:|--:|--:|--:|'];
  for (const [label, stem] of pairs) {
    const cold = find(rows, `${stem}-cold`);
    const warm = find(rows, `${stem}-warm`);
    if (!cold && !warm) continue;
    const rps = (r: ScenarioResult | undefined) => (r?.status === 'ok' && r.load ? int(r.load.reqPerSec) : (r?.status ?? '–'));
    const tx = (r: ScenarioResult | undefined) => (r?.icap ? r.icap.perRequest.toFixed(2) : '–');
    const hits = warm?.icap?.cache ? `${(warm.icap.cache.hitRate * 100).toFixed(1)} %` : '–';
    out.push(`| ${label} | ${rps(cold)} | ${rps(warm)} | ${between(rows, `${stem}-warm`, `${stem}-cold`)?.toFixed(2) ?? '–'}× | ${tx(cold)} | ${tx(warm)} | ${hits} |`);
  }
  return out;
}

export function transferTable(rows: readonly ScenarioResult[]): string[] {
  const out = ['| scenario | size MiB | time s | MiB/s | proxy RSS idle → peak MiB | proxy CPU s | ICAP service RSS idle → peak MiB | ICAP service CPU s | ICAP transactions | load |', '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|'];
  for (const r of rows.filter((x) => x.transfer)) {
    const size = mib(r.transfer!.sizeBytes);
    if (r.status !== 'ok' || !r.load) {
      out.push(`| ${r.title} (\`${r.name}\`) | ${size} | **${r.status === 'failed' ? 'failed' : 'not available'}**: ${(r.reason ?? '').replace(/\|/g, '/')} | | | | | | | |`);
      continue;
    }
    const rss = (u: ProcessUsage | undefined) => (u ? `${mib(u.rssStartBytes ?? 0)} → ${mib(u.rssPeakBytes)}` : 'in the proxy');
    out.push(
      `| ${r.title} (\`${r.name}\`) | ${size} | ${r.load.durationS.toFixed(1)} | ${(r.load.bytesPerSec / MiB).toFixed(0)} | ${rss(r.proxy)} | ${r.proxy?.cpuSeconds.toFixed(1) ?? ''} | ${rss(r.icapService)} | ${r.icapService?.cpuSeconds.toFixed(1) ?? ''} | ${r.icap?.transactions ?? ''} | ${r.loadAverage ?? ''} |`,
    );
  }
  return out;
}
