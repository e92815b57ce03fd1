// Issue 12's bench: the helpers of the new scenarios (repeated uploads, the `npm start` launch, the
// patience client) and the report that judges the targets. Pure functions, no sockets.
import { describe, expect, it } from 'vitest';
import { renderPatiencePage, renderPatienceStatus } from '../../../src/enforce/patience-page.js';
import type { ProfileSummary } from '../../../bench/lib/cpu-profile.js';
import { cliProxyReady } from '../../../bench/lib/dlp-proxy-cli.js';
import { accessLinesPerWorker } from '../../../bench/lib/icap-count.js';
import { letters, repeatBody } from '../../../bench/lib/repeat-upload-load.js';
import { costTargetRows, cpuPerThousand, deliveryTable, workersTable } from '../../../bench/lib/report-cost.js';
import { renderResultsMarkdown, type RunResults } from '../../../bench/lib/report.js';
import { deliveryKeyMissing } from '../../../bench/lib/scan-config.js';
import { modeNotInEffect, readPatiencePage, readPatienceStatus } from '../../../bench/lib/slow-download.js';
import { renderThroughputSvg } from '../../../bench/lib/svg-chart.js';
import type { DeliveryMode, ScenarioResult } from '../../../bench/lib/types.js';

const MiB = 2 ** 20;
const load = (reqPerSec: number, durationS = 5) => ({ requests: Math.round(reqPerSec * durationS), errors: 0, non2xx: 0, durationS, reqPerSec, bytesPerSec: reqPerSec * 1024, p50Ms: 1, p99Ms: 5, maxMs: 9, connections: 50, protocol: 'http' as const, path: '/x', generator: 'autocannon' as const });
/** A row of `reqPerSec` for 5 s whose proxy spent `cpuMsPer1k` ms of CPU per 1,000 requests. */
const row = (name: string, reqPerSec: number, cpuMsPer1k: number, extra: Partial<ScenarioResult> = {}): ScenarioResult => ({
  name,
  title: name,
  target: name.startsWith('squid') ? 'squid' : 'dlp-proxy',
  status: 'ok',
  load: load(reqPerSec),
  proxy: { rssPeakBytes: 150 * MiB, cpuSeconds: (reqPerSec * 5 * cpuMsPer1k) / 1e6 },
  processes: 1,
  ...extra,
});
const slow = (mode: DeliveryMode, delivery: ScenarioResult['delivery'], extra: Partial<ScenarioResult> = {}): ScenarioResult => ({
  name: `slow-download-${mode}-40m`,
  title: `slow ${mode}`,
  target: 'dlp-proxy',
  status: 'ok',
  load: load(0.1, 10),
  proxy: { rssPeakBytes: 180 * MiB, cpuSeconds: 1.5 },
  slowDownload: { sizeBytes: 40 * MiB, rateBytesPerSec: 4 * MiB, mode },
  delivery,
  ...extra,
});

const rows: ScenarioResult[] = [
  row('passthrough-http-1k', 15_000, 100),
  row('squid-http-1k', 18_000, 54),
  row('node-proxy-http-1k', 14_000, 72),
  row('node-proxy-undici-http-1k', 16_000, 60),
  row('passthrough-upload-16k', 2_000, 500),
  row('scanned-upload-cicap-cold', 1_000, 900, { processes: undefined }),
  row('squid-cicap-upload-16k', 900, 600),
  row('node-proxy-cicap-upload-16k', 810, 450),
  row('scanned-upload-cicap-warm', 1_700, 600),
  row('workers-1-passthrough-http-1k', 10_000, 120),
  row('workers-2-passthrough-http-1k', 15_000, 130, { processes: 3, exchangesPerWorker: [37_000, 38_000] }),
  row('workers-1-scanned-upload-cicap-warm', 1_500, 600),
  { name: 'workers-2-scanned-upload-cicap-warm', title: 'w2 warm', target: 'dlp-proxy', status: 'failed', reason: 'setup: dlp-proxy start exited (1) | boom' },
  row('workers-2-repeat-upload-cicap', 60, 3000, { processes: 3, exchangesPerWorker: [240, 240], icap: { transactions: 180, perRequest: 0.375, source: 'proxy metrics', cache: { hits: 300, misses: 180, joins: 0, hitRate: 0.625 } } }),
  slow('hold', { headersMs: 10_030, firstByteMs: 10_030, lastByteMs: 10_530, longestSilenceMs: 10_030 }),
  slow('trickle', { headersMs: 260, firstByteMs: 262, lastByteMs: 10_400, longestSilenceMs: 610 }),
  slow('patience', undefined, { status: 'not-available', reason: 'this build has no policy rule key `delivery`', load: undefined, proxy: undefined }),
];

const profile: ProfileSummary = { scenario: 'passthrough-http-1k', totalMs: 5000, busyMs: 4200, topFunctions: [{ name: 'writev', where: '', selfMs: 420, share: 0.1 }], byOrigin: [], lines: ['profile of passthrough-http-1k'] };

describe('issue 12 targets', () => {
  const targets = costTargetRows(rows, [profile]).join('\n');

  it('judges the pass path against squid by req/s and by CPU per request, naming the processes of each', () => {
    expect(targets).toContain("≥ 0.75× squid's req/s, one process each (passthrough-http-1k 1, squid-http-1k 1) | **met** (0.83×) |");
    expect(targets).toContain("CPU per request ≤ 1.5× squid's | **not met** (1.85×: 100 against 54 ms per 1k requests) |");
    expect(targets).toContain('the floor of Node: a bare node:http keep-alive proxy, same load (no goal) | 14,000 req/s (0.78× squid), 72 ms CPU per 1k requests (dlp-proxy 100, squid 54); dlp-proxy at 1.07× its req/s |');
    expect(targets).toContain('through undici as dlp-proxy does (no goal) | 16,000 req/s (0.89× squid), 60 ms CPU per 1k requests (dlp-proxy 100, squid 54); dlp-proxy at 0.94× its req/s |');
    const cluster = rows.map((r) => (r.name === 'passthrough-http-1k' ? { ...r, processes: 3 } : r));
    expect(costTargetRows(cluster, []).join('\n')).toContain('| **met** (0.83×); **not one process each**: passthrough-http-1k 3 |');
  });

  it('judges scanned uploads against squid + c-icap and the warm ones against our unscanned POST', () => {
    expect(targets).toContain('through c-icap ≥ 1.0× squid + c-icap | **met** (1.11×) |');
    expect(targets).toContain('REQMOD to the same c-icap, same load (no goal) | 810 req/s (0.90× squid), 450 ms CPU per 1k requests (dlp-proxy 900, squid 600); dlp-proxy at 1.23× its req/s |');
    expect(targets).toContain('unscanned POST: c-icap | **met** (0.85×) |');
    expect(targets).toContain('unscanned POST: built-in service | not measured in this run |');
  });

  it("splits a scanned upload's CPU into the proxy's, its system part and c-icap's, for each scanning row", () => {
    const measured = rows.map((r) =>
      r.name === 'scanned-upload-cicap-cold' ? { ...r, proxy: { ...r.proxy!, systemSeconds: 0.6 }, cicapCpuSeconds: 2 } : r.name === 'squid-cicap-upload-16k' ? { ...r, proxy: { ...r.proxy!, systemSeconds: 0.9 }, cicapCpuSeconds: 1.8 } : r,
    );
    const cell = costTargetRows(measured, []).join('\n');
    // 1,000 req/s for 5 s: 900 µs per upload, 0.6 s of system CPU is 120 µs, 2 s of c-icap's 400
    expect(cell).toContain('| scanned-upload-cicap-cold 900 µs (system 120), c-icap 400 µs; squid-cicap-upload-16k 600 µs (system 200), c-icap 400 µs; node-proxy-cicap-upload-16k 450 µs (system ?), c-icap ? µs |');
    expect(costTargetRows(measured.filter((r) => r.name !== 'squid-cicap-upload-16k'), []).join('\n')).toContain('squid-cicap-upload-16k: not measured in this run');
  });

  it('sets workers: 2 against workers: 1, and names the failed row when one failed', () => {
    expect(targets).toContain('passthrough 1 KiB GET (no goal) | 1.50× (10,000 → 15,000 req/s; CPU per 1k requests 120 → 130 ms) |');
    expect(targets).toContain('c-icap (no goal) | `workers-2-scanned-upload-cicap-warm` failed: setup: dlp-proxy start exited (1) / boom |');
  });

  it('judges the hit rate across workers only when the load reached two workers', () => {
    expect(targets).toContain('| **not met** (62.5 %: 300 hits, 180 misses, 0 joins; ICAP tx per repeat 0.38; 3 processes; uploads per worker 240 / 240) |');
    const oneWorker = rows.map((r) => (r.name === 'workers-2-repeat-upload-cicap' ? { ...r, exchangesPerWorker: [480], icap: { ...r.icap!, cache: { hits: 480, misses: 0, joins: 0, hitRate: 1 } } } : r));
    expect(costTargetRows(oneWorker, []).join('\n')).toContain('| **not judged** (the load did not reach two workers) (100.0 %');
    const shared = rows.map((r) => (r.name === 'workers-2-repeat-upload-cicap' ? { ...r, icap: { ...r.icap!, cache: { hits: 480, misses: 0, joins: 0, hitRate: 1 } } } : r));
    expect(costTargetRows(shared, []).join('\n')).toContain('| **met** (100.0 %');
    const unknown = shared.map((r) => (r.name === 'workers-2-repeat-upload-cicap' ? { ...r, exchangesPerWorker: undefined } : r));
    expect(costTargetRows(unknown, []).join('\n')).toContain('3 processes; uploads per worker unknown (no access line named its worker)) |');
  });

  it('gives each delivery mode its first byte and judges the longest silence against a 5 s read timeout', () => {
    expect(targets).toContain('40 MiB scanned download from a 4 MiB/s origin: hold, trickle, patience (no goal) | hold 10.0 s, last byte 10.5 s; trickle 0.26 s, last byte 10.4 s; patience: not available: this build has no policy rule key `delivery` |');
    expect(targets).toContain('(longest silence under it) | hold **no** (10.0 s); trickle **yes** (0.61 s); patience: not available');
  });

  it('says which profiles were kept, and when none were', () => {
    expect(targets).toContain('| `passthrough-http-1k` (4.2 s busy; top: writev 10.0 %): below |');
    expect(costTargetRows(rows, []).join('\n')).toContain('| CPU profiles of the pass and scan paths kept | not taken in this run |');
  });

  it('takes CPU per 1k requests only from rows that ran', () => {
    expect(cpuPerThousand(rows[0])).toBeCloseTo(100);
    expect(cpuPerThousand(rows.find((r) => r.status === 'failed'))).toBeUndefined();
    expect(cpuPerThousand(undefined)).toBeUndefined();
  });
});

describe('workers and slow-download tables', () => {
  it('lists the workers rows with processes, hit rate and the exchanges per worker', () => {
    const table = workersTable(rows).join('\n');
    expect(table).toContain('| workers-2-passthrough-http-1k (`workers-2-passthrough-http-1k`) | 3 | 15,000 | 5.0 | 130 | 150 |  |  | 37,000 / 38,000 |');
    expect(table).toContain('| w2 warm (`workers-2-scanned-upload-cicap-warm`) | **failed**: setup: dlp-proxy start exited (1) / boom |');
    expect(table).toContain('| 0.38 | 62.5 % | 240 / 240 |');
    expect(table).not.toContain('passthrough-http-1k (`passthrough-http-1k`)');
  });

  it('shows each slow download with the origin alone as the floor, the page only under patience', () => {
    const table = deliveryTable(rows).join('\n');
    expect(table).toContain('| slow hold (`slow-download-hold-40m`) | hold | 40 | 4 | 10.0 | 10.0 |  | 10.0 | 10.5 | 10.0 |  | 180 | 1.5 |');
    expect(table).toContain('| slow trickle (`slow-download-trickle-40m`) | trickle | 40 | 4 | 10.0 | 0.26 |  | 0.26 | 10.4 | 0.61 |');
    expect(table).toContain('| slow patience (`slow-download-patience-40m`) | patience | 40 | 4 | 10.0 | **not available**: this build has no policy rule key `delivery` |');
  });

  it('keeps slow downloads out of the req/s table and the chart, and renders the new sections', () => {
    const results: RunResults = {
      machine: { date: '2026-12-06T15:00:00.000Z', cores: 2, cpuModel: 'cpu', memoryGiB: 4, node: 'v20.0.0', kernel: '6.1', platform: 'linux x64', squid: '5.7', revision: 'abc1234', loadAverage: 0.1 },
      mode: 'full',
      durationMs: 5000,
      warmupMs: 1000,
      wallSeconds: 300,
      scenarios: rows,
      memory: [],
      profiles: [profile],
    };
    const md = renderResultsMarkdown(results, 'results/x.json');
    expect(md).toContain('| target (issue 12) | this run |');
    expect(md).toContain('## Workers: `npm start` with one and with two processes');
    expect(md).toContain('## First bytes of a large scanned download from a slow origin');
    expect(md).toContain('## Where the time goes: CPU profile of `passthrough-http-1k`');
    expect(md).not.toContain('| slow hold (`slow-download-hold-40m`) | 0 |');
    expect(renderThroughputSvg(results)).not.toContain('slow hold');
  });
});

describe('repeated uploads', () => {
  it('names bodies in letters, so no DLP rule for digit runs fires, and sizes them exactly', () => {
    expect([0, 25, 26, 27, 26 * 26].map(letters)).toEqual(['a', 'z', 'ba', 'bb', 'baa']);
    const a = repeatBody('qwerty', 0, 16 * 1024);
    const b = repeatBody('qwerty', 1, 16 * 1024);
    expect(a.length).toBe(16 * 1024);
    expect(a.equals(b)).toBe(false);
    expect(a.equals(repeatBody('qwerty', 0, 16 * 1024))).toBe(true);
    expect(/\d/.test(a.toString('latin1'))).toBe(false);
  });

  it("counts a cluster's access lines per worker, ignoring other lines and lines without a worker", () => {
    const text = [
      '{"level":30,"pid":1,"worker":2,"log":"access","status":200}',
      '{"level":30,"pid":1,"worker":1,"log":"access","status":200}',
      '{"level":30,"pid":1,"worker":2,"log":"access","status":200}',
      '{"level":30,"pid":1,"worker":2,"log":"cluster","msg":"worker listening"}',
      '{"level":30,"pid":1,"log":"access","status":200}',
      '{"level": 30, "worker": 1, "log": "access"}',
      '{"level":30,"worker":2,"log":"access","sta',
      'not json',
    ].join('\n');
    expect(accessLinesPerWorker(text)).toEqual([2, 2]);
    expect(accessLinesPerWorker('')).toEqual([]);
  });
});

describe('`npm start` readiness', () => {
  it("waits for the primary's `cluster started` with workers, for `proxy listening` without", () => {
    const listening = '{"level":30,"log":"proxy","msg":"proxy listening"}\n';
    const started = '{"level":30,"role":"primary","log":"cluster","msg":"cluster started"}\n';
    expect(cliProxyReady(listening, 1)).toBe(true);
    expect(cliProxyReady(listening, 2)).toBe(false);
    expect(cliProxyReady(listening + started, 2)).toBe(true);
    expect(cliProxyReady('{"msg":"proxy lis', 1)).toBe(false);
  });
});

describe('the patience client', () => {
  const fileUrl = 'http://127.0.0.1:4000/stream/41943040?rate=4194304';
  const token = 'A'.repeat(43);

  it("reads the status URL, the file URL and the poll pace from the proxy's own page", () => {
    const page = renderPatiencePage({
      host: '127.0.0.1',
      fileName: '41943040',
      totalBytes: 40 * MiB,
      receivedBytes: 0,
      statusUrl: `/stream/41943040?rate=4194304&dlp-proxy-patience=status.${token}`,
      fileUrl: `/stream/41943040?rate=4194304&dlp-proxy-patience=file.${token}`,
      pollMs: 750,
    }).body.toString('utf8');
    expect(readPatiencePage(page, fileUrl)).toEqual({ statusUrl: `${fileUrl}&dlp-proxy-patience=status.${token}`, fileUrl: `${fileUrl}&dlp-proxy-patience=file.${token}`, pollMs: 750 });
    expect(readPatiencePage('<html>a block page</html>', fileUrl)).toBeUndefined();
  });

  it('reads the state and the absolute file URL from a status document', () => {
    const doc = renderPatienceStatus({ state: 'ready', receivedBytes: 5, totalBytes: 5, statusUrl: `${fileUrl}&dlp-proxy-patience=status.${token}`, fileUrl: `${fileUrl}&dlp-proxy-patience=file.${token}` }, 1000);
    expect(readPatienceStatus(doc.body.toString('utf8'), fileUrl)).toEqual({ state: 'ready', fileUrl: `${fileUrl}&dlp-proxy-patience=file.${token}` });
    expect(() => readPatienceStatus('<html>', fileUrl)).toThrow();
  });

  it('tells a mode that was not in effect: patience without a page, trickle with no byte before the origin finished', () => {
    const spec = (mode: DeliveryMode) => ({ sizeBytes: 40 * MiB, rateBytesPerSec: 4 * MiB, mode });
    const held = { headersMs: 10_020, firstByteMs: 10_020, lastByteMs: 10_650, longestSilenceMs: 10_020 };
    expect(modeNotInEffect(spec('patience'), held)).toMatch(/not a patience page/);
    expect(modeNotInEffect(spec('trickle'), held)).toMatch(/no byte before the origin's last \(first byte at 10\.0 s\)/);
    expect(modeNotInEffect(spec('hold'), held)).toBeUndefined();
    expect(modeNotInEffect(spec('trickle'), { ...held, headersMs: 300, firstByteMs: 301 })).toBeUndefined();
    expect(modeNotInEffect(spec('patience'), { ...held, headersMs: 40, pageMs: 45, polls: 11 })).toBeUndefined();
  });

  it('knows when the build cannot set a delivery mode', () => {
    expect(deliveryKeyMissing('trickle')).toBeUndefined();
    expect(deliveryKeyMissing('sideways' as DeliveryMode)).toMatch(/no policy rule key `delivery: \{ mode: sideways \}`.*policy\[0\]\.delivery\.mode/);
  });
});
