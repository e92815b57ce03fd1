// One ranged-download row of bench/websocket-ranges.ts: a GET of the bench file through a fresh
// dlp-proxy, with or without Range, on a path the policy scans (AV by RESPMOD) or passes. Besides
// the times, what the origin was asked for and sent (a scanned download must fetch the whole, an
// unscanned one passes Range on), the proxy's peak RSS and CPU, the ICAP service's CPU and the
// ICAP transactions. Every byte the client gets is checked against the file.
import fs from 'node:fs';
import { checkRangeAnswer, rangeHeader, type ByteSpan } from './byte-ranges.js';
import { counterDelta, scrapeProxyCounters } from './icap-count.js';
import type { NodeChild } from './children.js';
import type { ProxyProcess } from './dlp-proxy.js';
import { snapshot } from './proc-stats.js';
import { getThroughProxy } from './range-fetch.js';
import type { RangeRow } from './websocket-ranges-report.js';

export interface OriginStats {
  fileRequests: number;
  rangeHeaders: string[];
  fileBytesSent: number;
}

export interface RangeSpec {
  downloads: RangeRow['downloads'];
  request: string;
  spans: ByteSpan[];
  /** asked first through the same proxy, not measured (the "second range" row) */
  before?: ByteSpan[];
}

export interface RangeRowEnv {
  originPort: number;
  origin: NodeChild<unknown>;
  icapPid: number;
  fileBytes: number;
  deadlineMs: number;
}

/** The bench policy scans downloads under /scanned/ and passes those under /unscanned/. */
export function fileUrl(originPort: number, downloads: RangeRow['downloads'], fileBytes: number): string {
  return `http://127.0.0.1:${originPort}/${downloads === 'scanned' ? 'scanned' : 'unscanned'}/file/${fileBytes}`;
}

/**
 * Linux resets a process's VmHWM to its current RSS when "5" is written to its clear_refs
 * (proc(5)): the peak of one request in a process that served another before it.
 */
function resetPeakRss(pid: number): boolean {
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

async function fetchChecked(proxy: ProxyProcess, env: RangeRowEnv, downloads: RangeRow['downloads'], spans: ByteSpan[], fileBytes = env.fileBytes) {
  const range = spans.length === 0 ? undefined : rangeHeader(spans);
  const answer = await getThroughProxy(proxy.port, fileUrl(env.originPort, downloads, fileBytes), range, env.deadlineMs);
  const wrong = checkRangeAnswer(spans, fileBytes, answer);
  if (wrong) throw new Error(`${range ?? 'the whole file'}: ${wrong}`);
  return answer;
}

/**
 * A fresh proxy's first download pays for its ICAP connection, the service's OPTIONS and cold
 * code: a file of another size, scanned and not, through it first, so that a row measures only
 * its own request (and the first and second range rows compare).
 */
export async function warmUp(proxy: ProxyProcess, env: RangeRowEnv, fileBytes: number): Promise<void> {
  await fetchChecked(proxy, env, 'scanned', [], fileBytes);
  await fetchChecked(proxy, env, 'not scanned', [], fileBytes);
}

export async function measureRangeRow(proxy: ProxyProcess, env: RangeRowEnv, spec: RangeSpec): Promise<RangeRow> {
  const row: RangeRow = { downloads: spec.downloads, request: spec.request, range: spec.spans.length === 0 ? '' : rangeHeader(spec.spans), status: 'ok' };
  try {
    if (spec.before) await fetchChecked(proxy, env, spec.downloads, spec.before);
    const [originBefore, counters] = await Promise.all([env.origin.request<OriginStats>('stats'), scrapeProxyCounters(proxy.ready.adminPort)]);
    const exact = resetPeakRss(proxy.pid);
    const before = snapshot(proxy.pid, [proxy.pid]);
    const icapCpu = snapshot(env.icapPid, [env.icapPid]).cpuSeconds;
    // without clear_refs, a sampled peak (every 10 ms) stands in for the kernel's
    let sampledPeak = before.rssBytes;
    const sampler = exact ? undefined : setInterval(() => (sampledPeak = Math.max(sampledPeak, snapshot(proxy.pid, [proxy.pid]).rssBytes)), 10);
    const answer = await fetchChecked(proxy, env, spec.downloads, spec.spans).finally(() => clearInterval(sampler));
    const after = snapshot(proxy.pid, [proxy.pid]);
    const [originAfter, countersAfter] = await Promise.all([env.origin.request<OriginStats>('stats'), scrapeProxyCounters(proxy.ready.adminPort)]);
    Object.assign(row, {
      clientBytes: answer.body.length,
      ttfbMs: answer.ttfbMs,
      ttlbMs: answer.ttlbMs,
      originBytes: originAfter.fileBytesSent - originBefore.fileBytesSent,
      originRanges: originAfter.rangeHeaders.slice(originBefore.rangeHeaders.length),
      proxyRssBeforeBytes: before.rssBytes,
      proxyRssPeakBytes: exact ? Math.max(after.hwmBytes, before.rssBytes) : Math.max(sampledPeak, after.rssBytes),
      proxyCpuSeconds: after.cpuSeconds - before.cpuSeconds,
      icapCpuSeconds: snapshot(env.icapPid, [env.icapPid]).cpuSeconds - icapCpu,
      icapTransactions: counterDelta(counters, countersAfter).transactions,
      cacheHits: counterDelta(counters, countersAfter).hits,
    } satisfies Partial<RangeRow>);
    const wrong = wrongPath(row);
    if (wrong) Object.assign(row, { status: 'failed', reason: wrong });
  } catch (err) {
    row.status = 'failed';
    row.reason = err instanceof Error ? err.message : String(err);
  }
  return row;
}

/**
 * A scanned download fetches the whole and has one verdict (an ICAP transaction, or a cache hit
 * for a file small enough to be hashed before it is scanned); an unscanned one passes Range on.
 */
export function wrongPath(row: RangeRow): string | undefined {
  const ranges = row.originRanges ?? [];
  if (row.downloads === 'scanned') {
    if (ranges.length > 0) return `the origin was asked for ${ranges.join(', ')}: Range was not stripped`;
    if ((row.icapTransactions ?? 0) + (row.cacheHits ?? 0) !== 1) return `${row.icapTransactions} ICAP transactions and ${row.cacheHits} cache hits, expected one verdict`;
    return undefined;
  }
  if (row.range !== '' && (ranges.length !== 1 || ranges[0] !== row.range)) return `the origin saw Range ${ranges.join(', ') || 'none'}, expected ${row.range}`;
  if (row.icapTransactions !== 0) return `${row.icapTransactions} ICAP transactions on an unscanned download`;
  return undefined;
}
