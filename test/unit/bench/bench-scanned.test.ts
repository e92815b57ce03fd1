import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CicapLogCounter, counterDelta, countCicapTransactions, parseProxyCounters, sumMetric } from '../../../bench/lib/icap-count.js';
import { renderResultsMarkdown, type RunResults } from '../../../bench/lib/report.js';
import { cacheEffectTable, targetRows, transferTable } from '../../../bench/lib/report-targets.js';
import { renderThroughputSvg } from '../../../bench/lib/svg-chart.js';
import type { ScenarioResult } from '../../../bench/lib/types.js';
import { ID_PLACEHOLDER, textBody, uploadBody } from '../../../bench/lib/upload-body.js';
import { tempDir } from '../../support/temp-dir.js';

const MiB = 2 ** 20;

const METRICS = `# HELP dlp_proxy_icap_transactions_total ICAP transactions
# TYPE dlp_proxy_icap_transactions_total counter
dlp_proxy_icap_transactions_total{service="av",server="icap://127.0.0.1:1/av",method="RESPMOD",status="204"} 40
dlp_proxy_icap_transactions_total{service="av",server="icap://127.0.0.1:1/av",method="RESPMOD",status="200"} 2
dlp_proxy_icap_transactions_total_extra 1000
dlp_proxy_verdict_cache_hits_total 7
dlp_proxy_verdict_cache_misses_total 42
dlp_proxy_verdict_cache_joins_total 1
`;

describe('ICAP transaction counts', () => {
  it('sums every label set of a counter and only that counter', () => {
    expect(sumMetric(METRICS, 'dlp_proxy_icap_transactions_total')).toBe(42);
    expect(sumMetric(METRICS, 'dlp_proxy_absent_total')).toBe(0);
    const before = parseProxyCounters(METRICS);
    expect(before).toEqual({ transactions: 42, hits: 7, misses: 42, joins: 1 });
    const after = parseProxyCounters(METRICS.replace(' 40\n', ' 140\n').replace('hits_total 7', 'hits_total 9'));
    expect(counterDelta(before, after)).toEqual({ transactions: 100, hits: 2, misses: 0, joins: 0 });
  });

  it("counts REQMOD and RESPMOD lines of c-icap's access log appended after the counter began", () => {
    const dir = tempDir('bench-cicap-log-');
    const file = path.join(dir, 'access.log');
    const line = (method: string, service: string, status: number) => `21/Nov/2026:11:13:52 +0000, 127.0.0.1 127.0.0.1 ${method} ${service} ${status}\n`;
    fs.writeFileSync(file, line('OPTIONS', 'av', 200) + line('RESPMOD', 'av', 204));
    const counter = new CicapLogCounter(file);
    expect(counter.count()).toBe(0);
    fs.appendFileSync(file, line('OPTIONS', 'dlp', 200) + line('REQMOD', 'dlp', 200) + line('RESPMOD', 'av', 204) + line('RESPMOD', 'av', 204));
    expect(counter.count()).toBe(3);
    expect(countCicapTransactions(fs.readFileSync(file, 'utf8'))).toBe(4);
    expect(new CicapLogCounter(path.join(dir, 'missing.log')).count()).toBe(0);
  });
});

describe('upload bodies', () => {
  it('are text of the exact size, clean of digit runs a DLP service would flag', () => {
    const body = textBody(16 * 1024);
    expect(body.length).toBe(16 * 1024);
    expect(body.equals(textBody(16 * 1024))).toBe(true);
    expect(/^[a-z \n]+$/.test(body.toString('latin1'))).toBe(true);
  });

  it('reach the size once autocannon puts its 33-character id in place of the placeholder', () => {
    const warm = uploadBody(16 * 1024, false);
    expect(warm.length).toBe(16 * 1024);
    expect(warm).not.toContain(ID_PLACEHOLDER);
    const cold = uploadBody(16 * 1024, true);
    expect(cold.startsWith(ID_PLACEHOLDER)).toBe(true);
    // autocannon 9 sizes content-length as body + 27 per placeholder (hyperid, fixed length 33)
    expect(cold.replace(ID_PLACEHOLDER, 'x'.repeat(33)).length).toBe(16 * 1024);
    expect(cold.length + 27).toBe(16 * 1024);
  });
});

const load = (reqPerSec: number, durationS = 2) => ({ requests: Math.round(reqPerSec * durationS), errors: 0, non2xx: 0, durationS, reqPerSec, bytesPerSec: reqPerSec * 1024, p50Ms: 1, p99Ms: 5, maxMs: 9, connections: 50, protocol: 'http' as const, path: '/x', generator: 'autocannon' as const });
const icap = (perRequest: number, hitRate?: number) => ({ transactions: perRequest * 100, perRequest, source: 'proxy metrics' as const, ...(hitRate === undefined ? {} : { cache: { hits: hitRate * 100, misses: (1 - hitRate) * 100, joins: 0, hitRate } }) });
const proxy = { rssStartBytes: 150 * MiB, rssPeakBytes: 180 * MiB, cpuSeconds: 1 };

const rows: ScenarioResult[] = [
  { name: 'passthrough-http-1k', title: 'pass', target: 'dlp-proxy', status: 'ok', load: load(2000), proxy },
  { name: 'squid-cicap-download-1k', title: 'squid c-icap', target: 'squid', status: 'ok', load: load(1000), icap: { transactions: 100, perRequest: 1, source: 'c-icap access log' } },
  { name: 'scanned-download-cicap-cold', title: 'cold', target: 'dlp-proxy', status: 'ok', load: load(2500), proxy, icap: icap(1, 0), baseline: { squid: 'squid-cicap-download-1k' } },
  { name: 'scanned-download-cicap-warm', title: 'warm', target: 'dlp-proxy', status: 'ok', load: load(1500), proxy, icap: icap(0, 1) },
  { name: 'squid-cicap-download-64k', title: 'squid 64k', target: 'squid', status: 'failed', reason: 'no request completed (50 errors): squid bug 5352' },
  { name: 'scanned-download-cicap-64k', title: 'ours 64k', target: 'dlp-proxy', status: 'ok', load: load(300), proxy, icap: icap(1, 0) },
  { name: 'scanned-upload-cicap-cold', title: 'up cold', target: 'dlp-proxy', status: 'not-available', reason: 'c-icap | missing' },
  { name: 'large-download-builtin-100m', title: 'large down', target: 'dlp-proxy', status: 'ok', load: load(0.25, 4), proxy, transfer: { direction: 'download', sizeBytes: 100 * MiB }, icap: icap(1, 0) },
  { name: 'large-upload-builtin-100m', title: 'large up', target: 'dlp-proxy', status: 'ok', load: load(0.25, 4), proxy: { ...proxy, rssPeakBytes: 230 * MiB }, icapService: { rssStartBytes: 100 * MiB, rssPeakBytes: 130 * MiB, cpuSeconds: 2 }, transfer: { direction: 'upload', sizeBytes: 100 * MiB } },
  { name: 'large-upload-builtin-16m', title: 'quick up', target: 'dlp-proxy', status: 'ok', load: load(1, 1), proxy, transfer: { direction: 'upload', sizeBytes: 16 * MiB } },
];

describe('targets and the scanned tables', () => {
  const targets = targetRows(rows).join('\n');

  it('judges scanned cold against squid with the same c-icap, and names why a ratio is missing', () => {
    expect(targets).toContain('downloads, virus_scan, 1 KiB | **met** (2.50×) |');
    expect(targets).toContain('uploads, srv_cfg_filter, 16 KiB | `scanned-upload-cicap-cold` not available: c-icap / missing |');
    expect(targets).toContain('squid 5.7 cannot | **met**: squid fails (bug 5352), dlp-proxy 300 req/s |');
  });

  it('judges scanned warm against our own passthrough', () => {
    expect(targets).toContain('downloads, c-icap, 1 KiB | **not met** (0.75×) |');
    expect(targets).toContain('uploads, built-in, 16 KiB | not measured in this run |');
  });

  it('judges each large transfer by its peak RSS, and a quick-size one not at all', () => {
    expect(targets).toContain('`large-download-builtin-100m` | **met** (100 MiB, peak 180 MiB from 150 MiB idle) |');
    expect(targets).toContain('`large-upload-builtin-100m` | **not met** (100 MiB, peak 230 MiB from 150 MiB idle) |');
    expect(targets).toContain('`large-upload-builtin-16m` | not measured at 100 MiB in this run (16 MiB: peak 180 MiB) |');
  });

  it('sets cold against warm with ICAP transactions per request and the hit rate', () => {
    const table = cacheEffectTable(rows).join('\n');
    expect(table).toContain('| downloads, c-icap virus_scan, 1 KiB | 2,500 | 1,500 | 0.60× | 1.00 | 0.00 | 100.0 % |');
    expect(table).not.toContain('built-in');
  });

  it('lists transfers in their own table and keeps them out of the req/s table and the chart', () => {
    const transfers = transferTable(rows).join('\n');
    expect(transfers).toContain('| large down (`large-download-builtin-100m`) | 100 | 4.0 | 0 | 150 → 180 | 1.0 | in the proxy |  | 100 |');
    expect(transfers).toContain('| large up (`large-upload-builtin-100m`) | 100 | 4.0 | 0 | 150 → 230 | 1.0 | 100 → 130 | 2.0 |  |');
    const results: RunResults = {
      machine: { date: '2026-01-02T03:04:05.000Z', cores: 2, cpuModel: 'cpu', memoryGiB: 4, node: 'v20.0.0', kernel: '6.1', platform: 'linux x64', squid: '5.7', revision: 'abc1234', loadAverage: 0.1 },
      mode: 'full', durationMs: 5000, warmupMs: 1000, wallSeconds: 100, scenarios: rows, memory: [], profiles: [],
    };
    const md = renderResultsMarkdown(results, 'results/x.json');
    expect(md).toContain('| cold (`scanned-download-cicap-cold`) | 2,500 |');
    expect(md).toContain('| 1.00 (cache hits 0 %) |');
    expect(md).not.toContain('| large down (`large-download-builtin-100m`) | 0 |');
    expect(renderThroughputSvg(results)).not.toContain('large down');
  });
});
