import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { codeOrigin, heapProfileFile, summariseCpuProfile, summariseHeapProfile } from '../../../bench/lib/cpu-profile.js';
import { mergeConfig } from '../../../bench/lib/dlp-proxy.js';
import { LatencyHistogram } from '../../../bench/lib/histogram.js';
import { processTree, snapshot } from '../../../bench/lib/proc-stats.js';
import { formatRow, ratio, renderResultsMarkdown, type RunResults } from '../../../bench/lib/report.js';
import { warmedUp } from '../../../bench/lib/run-scenario.js';
import { renderThroughputSvg } from '../../../bench/lib/svg-chart.js';
import type { ScenarioResult } from '../../../bench/lib/types.js';
import { parseBytes } from '../../../bench/slow-client.js';
import { tempDir } from '../../support/temp-dir.js';

const load = (reqPerSec: number) => ({ requests: reqPerSec * 2, errors: 0, non2xx: 0, durationS: 2, reqPerSec, bytesPerSec: reqPerSec * 1024, p50Ms: 1, p99Ms: 5, maxMs: 9, connections: 50, protocol: 'http' as const, path: '/bytes/1024', generator: 'autocannon' as const });

const rows: ScenarioResult[] = [
  { name: 'direct-http-1k', title: 'direct', target: 'direct', status: 'ok', load: load(20_000) },
  { name: 'passthrough-http-1k', title: 'ours <fast>', target: 'dlp-proxy', status: 'ok', load: load(5_000), proxy: { rssPeakBytes: 100 * 2 ** 20, cpuSeconds: 1.5 }, baseline: { direct: 'direct-http-1k', squid: 'squid-http-1k' } },
  { name: 'squid-http-1k', title: 'squid', target: 'squid', status: 'ok', load: load(4_000), proxy: { rssPeakBytes: 30 * 2 ** 20, cpuSeconds: 1 }, baseline: { direct: 'direct-http-1k' } },
  { name: 'scanned', title: 'scanned', target: 'dlp-proxy', status: 'not-available', reason: 'scanning is not wired | yet', baseline: { squid: 'squid-http-1k' } },
];

const results: RunResults = {
  machine: { date: '2026-01-02T03:04:05.000Z', cores: 2, cpuModel: 'cpu', memoryGiB: 4, node: 'v20.0.0', kernel: '6.1', platform: 'linux x64', squid: '5.7', revision: 'abc1234', loadAverage: 0.1 },
  mode: 'full',
  durationMs: 8000,
  warmupMs: 1500,
  wallSeconds: 100,
  scenarios: rows,
  memory: [],
  profiles: [],
};

describe('LatencyHistogram', () => {
  it('gives percentiles within 2 % of the exact ones', () => {
    const h = new LatencyHistogram();
    for (let i = 1; i <= 10_000; i++) h.record(i / 100); // 0.01 .. 100 ms, uniform
    expect(h.count).toBe(10_000);
    expect(h.percentile(0.5)).toBeGreaterThan(50 * 0.98);
    expect(h.percentile(0.5)).toBeLessThan(50 * 1.02);
    expect(h.percentile(0.99)).toBeGreaterThan(99 * 0.98);
    expect(h.percentile(0.99)).toBeLessThanOrEqual(100);
    expect(h.max).toBe(100);
  });

  it('answers 0 when empty', () => {
    expect(new LatencyHistogram().percentile(0.99)).toBe(0);
  });
});

describe('report', () => {
  it('computes ratios only between rows that both ran', () => {
    expect(ratio(rows, rows[1]!, 'squid-http-1k')).toBeCloseTo(1.25);
    expect(ratio(rows, rows[1]!, 'direct-http-1k')).toBeCloseTo(0.25);
    expect(ratio(rows, rows[3]!, 'squid-http-1k')).toBeUndefined();
    expect(ratio(rows, rows[1]!, 'missing')).toBeUndefined();
  });

  it('keeps a row that could not run, with its reason, in the table and the chart', () => {
    const md = renderResultsMarkdown(results, 'results/2026-01-02.json');
    expect(md).toContain('| 1.25× |');
    expect(md).toContain('**not available**: scanning is not wired / yet');
    expect(md).toContain('passthrough HTTP 1 KiB ≥ 1.0× squid | **met** (1.25×)');
    expect(md).not.toContain('Noise warning');
    const svg = renderThroughputSvg(results);
    expect(svg).toContain('ours &lt;fast&gt;');
    expect(svg).toContain('not available: scanning is not wired | yet');
    expect(svg.match(/<rect /g)?.length).toBe(1 + 3 + 4); // background, three bars, four legend keys
  });
});

describe('warm-up until the JIT settles', () => {
  it('goes on while a cycle costs 10 % less CPU per request than every cycle before, and stops once it does not', () => {
    // dlp-proxy's pass path on this machine: the JIT compiles for three cycles
    const proxy = [1798, 888, 390, 244, 230];
    expect(proxy.map((_, k) => warmedUp(proxy.slice(0, k + 1)))).toEqual([false, false, false, false, true]);
    // squid: noise, no trend
    expect(warmedUp([119, 167])).toBe(true);
    expect(warmedUp([3555])).toBe(false);
    // a cycle that is cheaper again after a worse one is measured against the best
    expect(warmedUp([900, 1000, 850])).toBe(true);
    expect(warmedUp([900, 1000, 700])).toBe(false);
  });

  it("shows each row's warm-up cycles beside its figures", () => {
    const row = { name: 'x', title: 'x', target: 'dlp-proxy' as const, status: 'ok' as const, load: { requests: 1, errors: 0, non2xx: 0, durationS: 5, reqPerSec: 1000, bytesPerSec: 0, p50Ms: 1, p99Ms: 2, maxMs: 3, connections: 50, protocol: 'http' as const, path: '/', generator: 'autocannon' as const } };
    expect(formatRow({ ...row, warmup: { cycles: 3, cpuUsPerRequest: [900, 400, 390] } })).toContain('warm-up 900 → 400 → 390 µs CPU/req');
    expect(formatRow({ ...row, warmup: { cycles: 1, cpuUsPerRequest: [900] } })).not.toContain('warm-up');
  });
});

describe('helpers', () => {
  it('parses sizes with binary units', () => {
    expect(parseBytes('1GiB')).toBe(1024 ** 3);
    expect(parseBytes('256MiB')).toBe(256 * 1024 ** 2);
    expect(parseBytes('12')).toBe(12);
    expect(() => parseBytes('12MB')).toThrow(/not a size/);
  });

  it('merges a scenario config over the base, replacing arrays and keeping siblings', () => {
    const merged = mergeConfig({ proxy: { host: '127.0.0.1', port: 0 }, policy: [{ name: 'a' }] }, { proxy: { port: 5 }, policy: [{ name: 'b' }] });
    expect(merged).toEqual({ proxy: { host: '127.0.0.1', port: 5 }, policy: [{ name: 'b' }] });
  });

  it('reads its own process from /proc', () => {
    const s = snapshot(process.pid);
    expect(s.rssBytes).toBeGreaterThan(10 * 2 ** 20);
    expect(s.hwmBytes).toBeGreaterThanOrEqual(s.rssBytes * 0.5);
    expect(s.cpuSeconds).toBeGreaterThan(0);
    expect(processTree(process.pid)[0]).toBe(process.pid);
  });
});

describe('cpu profile summary', () => {
  it('sums self time per function and per origin of the code, leaving idle out', () => {
    const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 0, columnNumber: 0, scriptId: '0' });
    const profile = {
      nodes: [
        { id: 1, callFrame: frame('(idle)', '') },
        { id: 2, callFrame: frame('redact', 'file:///x/node_modules/@pinojs/redact/index.js') },
        { id: 3, callFrame: frame('forward', 'file:///x/src/pipeline/exchange-pipeline.ts') },
      ],
      samples: [1, 2, 3, 3, 3],
      timeDeltas: [1000, 1000, 1000, 1000, 1000],
    };
    const file = path.join(tempDir('bench-test-'), 'p.cpuprofile');
    fs.writeFileSync(file, JSON.stringify(profile));
    const summary = summariseCpuProfile(file, 'x');
    expect(summary.busyMs).toBe(4);
    expect(summary.topFunctions[0]).toMatchObject({ name: 'forward', selfMs: 3, share: 0.75 });
    expect(summary.byOrigin.map((o) => o.origin)).toEqual(['src/pipeline/', 'npm:@pinojs/redact']);
    expect(codeOrigin(frame('(garbage collector)', ''))).toBe('(garbage collector)');
    expect(codeOrigin(frame('x', 'node:internal/streams/readable'))).toBe('node:internal');
  });
});

describe('summariseHeapProfile', () => {
  it('sums the sampled bytes of the whole tree per request, and names the functions that allocated them', () => {
    const node = (functionName: string, url: string, selfSize: number, children: unknown[] = []) => ({ callFrame: { functionName, url, lineNumber: 9 }, selfSize, children });
    const heap = {
      head: node('(root)', '', 0, [node('scanBody', 'file:///x/src/pipeline/body-scan.js', 3072, [node('Spool', 'file:///x/src/body/spool.js', 1024)]), node('', 'file:///x/src/log/access-log.js', 2048, [node('scanBody', 'file:///x/src/pipeline/body-scan.js', 1024)])]),
    };
    const file = path.join(tempDir('bench-test-'), 'p.cpuprofile');
    fs.writeFileSync(heapProfileFile(file), JSON.stringify(heap));
    const summary = summariseHeapProfile(heapProfileFile(file), 4);
    expect(heapProfileFile(file)).toMatch(/p\.heapprofile$/);
    expect(summary.bytesPerRequest).toBe(1792);
    expect(summary.topFunctions.map((f) => [f.name, f.bytesPerRequest])).toEqual([
      ['scanBody', 1024],
      ['(anonymous)', 512],
      ['Spool', 256],
    ]);
    expect(summary.topFunctions[0]!.where).toBe('src/pipeline/body-scan.js:10');
    expect(summary.lines[0]).toContain('1.75 KiB per request (4 requests');
  });
});

describe('RESULTS.md links the standalone benches', () => {
  it('lists each standalone result with its title, so a full run does not drop them', () => {
    const text = renderResultsMarkdown(results, 'results/x.json', [{ file: 'results/websocket-ranges.md', title: 'WebSocket inspection and ranged downloads' }]);
    expect(text).toContain('## Standalone benches');
    expect(text).toContain('- [WebSocket inspection and ranged downloads](results/websocket-ranges.md)');
  });
});
