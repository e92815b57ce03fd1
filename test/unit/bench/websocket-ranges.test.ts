// The pure parts of bench/websocket-ranges.ts: the file pattern and the range checks the bench
// trusts to say a proxy's answer is right (a checker that accepts anything would make every row
// look correct), the clean unique WebSocket messages, and the report's ratios and failed rows.
import { describe, expect, it } from 'vitest';
import { boundaryOf, checkRangeAnswer, middleSpan, multipartBody, parseMultipartByteranges, parseRangeHeader, patternBytes, rangeHeader, threeSpans, type ByteSpan } from '../../../bench/lib/byte-ranges.js';
import { wrongPath } from '../../../bench/lib/range-rows.js';
import { renderRangeTable, renderWsTable, versusRelay, type RangeRow, type WsRow } from '../../../bench/lib/websocket-ranges-report.js';
import { ID_LETTERS, letterId, messageSource } from '../../../bench/lib/ws-echo-load.js';

const SIZE = 4099; // not a multiple of 4: the pattern's last word is cut
const file = patternBytes(0, SIZE);
const slice = (s: ByteSpan) => file.subarray(s.start, s.end + 1);

function multipart(spans: ByteSpan[], boundary = 'b0und4ry'): { status: number; headers: Record<string, string>; body: Buffer } {
  return { status: 206, headers: { 'content-type': `multipart/byteranges; boundary=${boundary}` }, body: Buffer.concat(multipartBody(spans, SIZE, 'application/octet-stream', boundary, slice)) };
}

describe('the bench file pattern', () => {
  it('gives the same bytes at an offset whatever the start of the read', () => {
    expect(file.length).toBe(SIZE);
    for (const [start, end] of [[0, 1], [1, 2], [3, 9], [1021, 4099], [4098, 4099]] as const) {
      expect(patternBytes(start, end).equals(file.subarray(start, end))).toBe(true);
    }
    expect(patternBytes(10, 10).length).toBe(0);
  });

  it('is not constant: ranges at different offsets differ', () => {
    expect(patternBytes(0, 64).equals(patternBytes(64, 128))).toBe(false);
    expect(new Set(file).size).toBeGreaterThan(200);
  });
});

describe('Range headers', () => {
  it('are made for the middle and for three pieces, within the file', () => {
    expect(middleSpan(100, 10)).toEqual({ start: 50, end: 59 });
    expect(middleSpan(100, 80)).toEqual({ start: 50, end: 99 });
    expect(threeSpans(1000, 10)).toEqual([{ start: 100, end: 109 }, { start: 500, end: 509 }, { start: 900, end: 909 }]);
    expect(rangeHeader([{ start: 1, end: 2 }, { start: 5, end: 9 }])).toBe('bytes=1-2,5-9');
  });

  it('are read by the origin as RFC 9110 §14.1.2 says', () => {
    expect(parseRangeHeader('bytes=0-9', 100)).toEqual([{ start: 0, end: 9 }]);
    expect(parseRangeHeader('bytes=90-', 100)).toEqual([{ start: 90, end: 99 }]);
    expect(parseRangeHeader('bytes=-5', 100)).toEqual([{ start: 95, end: 99 }]);
    expect(parseRangeHeader('bytes=95-200, 0-0', 100)).toEqual([{ start: 95, end: 99 }, { start: 0, end: 0 }]);
    expect(parseRangeHeader('bytes=100-', 100)).toEqual([]);
    expect(parseRangeHeader('bytes=9-3', 100)).toBeUndefined();
    expect(parseRangeHeader('items=0-1', 100)).toBeUndefined();
    expect(parseRangeHeader('bytes=-', 100)).toBeUndefined();
  });
});

describe('multipart/byteranges', () => {
  it('round-trips, even when a part contains the boundary', () => {
    const spans = [{ start: 0, end: 9 }, { start: 100, end: 1099 }];
    const boundary = file.subarray(200, 210).toString('latin1'); // occurs inside the second part
    const { body, headers } = multipart(spans, boundary);
    expect(boundaryOf(headers['content-type'])).toBe(boundary);
    const parts = parseMultipartByteranges(body, boundary);
    expect(parts.map((p) => p.span)).toEqual(spans);
    expect(parts.every((p) => p.size === SIZE)).toBe(true);
    expect(parts[1]!.data.equals(file.subarray(100, 1100))).toBe(true);
  });

  it('reads a quoted boundary', () => {
    expect(boundaryOf('multipart/byteranges; boundary="a b"')).toBe('a b');
    expect(boundaryOf('application/octet-stream')).toBeUndefined();
  });

  it('refuses a body cut short, a part without Content-Range and a missing closing boundary', () => {
    const { body } = multipart([{ start: 0, end: 9 }, { start: 20, end: 29 }]);
    const tail = '\r\n--b0und4ry--\r\n'.length;
    expect(() => parseMultipartByteranges(body.subarray(0, body.length - tail - 4), 'b0und4ry')).toThrow(/part 2: body cut short/);
    expect(() => parseMultipartByteranges(body.subarray(0, body.length - tail), 'b0und4ry')).toThrow(/part 2: not followed by the boundary/);
    expect(() => parseMultipartByteranges(body.subarray(0, body.length - tail - 30), 'b0und4ry')).toThrow(/part 2: no header block/);
    expect(() => parseMultipartByteranges(Buffer.from(body.toString('latin1').replace('Content-Range', 'X-Range'), 'latin1'), 'b0und4ry')).toThrow(/Content-Range/);
    expect(() => parseMultipartByteranges(body, 'other')).toThrow(/without its boundary/);
  });
});

describe('checkRangeAnswer', () => {
  const one = { start: 10, end: 19 };

  it('accepts the right answers: 200 whole, 206 one range, multipart for several', () => {
    expect(checkRangeAnswer([], SIZE, { status: 200, headers: {}, body: file })).toBeUndefined();
    expect(checkRangeAnswer([one], SIZE, { status: 206, headers: { 'content-range': `bytes 10-19/${SIZE}` }, body: slice(one) })).toBeUndefined();
    const three = threeSpans(SIZE, 100);
    expect(checkRangeAnswer(three, SIZE, multipart(three))).toBeUndefined();
  });

  it('refuses a wrong status, a wrong Content-Range, one wrong byte, a missing part and the whole for a range', () => {
    expect(checkRangeAnswer([one], SIZE, { status: 200, headers: {}, body: file })).toMatch(/status 200/);
    expect(checkRangeAnswer([one], SIZE, { status: 206, headers: { 'content-range': `bytes 10-19/5000` }, body: slice(one) })).toMatch(/Content-Range/);
    const flipped = Buffer.from(slice(one));
    flipped[3]! ^= 1;
    expect(checkRangeAnswer([one], SIZE, { status: 206, headers: { 'content-range': `bytes 10-19/${SIZE}` }, body: flipped })).toMatch(/differ/);
    expect(checkRangeAnswer([], SIZE, { status: 200, headers: {}, body: file.subarray(1) })).toMatch(/bytes, expected/);
    const three = threeSpans(SIZE, 100);
    expect(checkRangeAnswer(three, SIZE, multipart(three.slice(0, 2)))).toMatch(/2 parts, expected 3/);
    expect(checkRangeAnswer(three, SIZE, { status: 206, headers: { 'content-type': 'application/octet-stream' }, body: file })).toMatch(/multipart/);
    const shifted = three.map((s) => ({ start: s.start + 1, end: s.end + 1 }));
    expect(checkRangeAnswer(three, SIZE, multipart(shifted))).toMatch(/part 1 is bytes/);
  });
});

describe('WebSocket messages', () => {
  it('ids are letters only, fixed length and distinct', () => {
    const ids = Array.from({ length: 2000 }, (_, i) => letterId(i * 7919));
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(new RegExp(`^[a-z]{${ID_LETTERS}}$`));
  });

  it('warm repeats one message; cold never repeats one, also across sources, and carries no digit', () => {
    const warm = messageSource(1024, false);
    expect(warm.next().equals(warm.next())).toBe(true);
    const a = messageSource(1024, true);
    const b = messageSource(1024, true);
    const seen = new Set<string>([warm.next().toString('latin1')]);
    for (let i = 0; i < 500; i++) {
      for (const m of [a.next(), b.next()]) {
        expect(m.length).toBe(1024);
        expect(m.toString('latin1')).not.toMatch(/\d/);
        seen.add(m.toString('latin1'));
      }
    }
    expect(seen.size).toBe(1001);
  });
});

describe('report', () => {
  const ws = (mode: WsRow['mode'], p50: number, perSec: number, cpu?: number, deflate = false): WsRow => ({
    sizeBytes: 1024, deflate, mode, status: 'ok',
    latency: { messages: 100, p50Ms: p50, p99Ms: p50 * 2 },
    throughput: { messages: perSec, seconds: 1, perSec, p50Ms: 1, p99Ms: 2 },
    ...(cpu === undefined ? {} : { proxyCpuMsPer1k: cpu, icapCpuMsPer1k: 0, icapTxPerMessage: mode === 'scanned-cold' ? 1 : 0, cacheHitsPerMessage: 0 }),
  });

  it('takes ratios against the relay of the same group only', () => {
    const rows = [ws('relay', 1, 1000, 400), ws('scanned-cold', 3, 400, 1200), ws('relay', 10, 10, 10, true), ws('direct', 0.5, 2000)];
    expect(versusRelay(rows, rows[1]!, (r) => r.latency?.p50Ms)).toBeCloseTo(3);
    expect(versusRelay(rows, rows[1]!, (r) => r.proxyCpuMsPer1k)).toBeCloseTo(3);
    expect(versusRelay(rows, rows[3]!, (r) => r.throughput?.perSec)).toBeCloseTo(2);
    expect(versusRelay(rows, rows[3]!, (r) => r.proxyCpuMsPer1k)).toBeUndefined();
    expect(versusRelay([rows[1]!], rows[1]!, (r) => r.latency?.p50Ms)).toBeUndefined();
    const table = renderWsTable(rows, 16);
    expect(table[0]).toContain('msg/s, 16 clients');
    expect(table[3]).toContain('| 3.00× | 0.40× | 3.00× |');
  });

  it('keeps a failed row with its reason, every row with the header\'s column count', () => {
    const failedWs: WsRow = { sizeBytes: 65536, deflate: true, mode: 'scanned-warm', status: 'failed', reason: 'connection closed 1008 | x' };
    const failedRange: RangeRow = { downloads: 'scanned', request: 'one range', range: 'bytes=1-2', status: 'failed', reason: 'status 403' };
    const okRange: RangeRow = { downloads: 'not scanned', request: 'whole file', range: '', status: 'ok', clientBytes: 10, ttfbMs: 1, ttlbMs: 2, originBytes: 10, originRanges: [], proxyRssStartedBytes: 2 ** 20, proxyRssBeforeBytes: 2 ** 21, proxyRssPeakBytes: 3 * 2 ** 20, proxyCpuSeconds: 0.1, icapCpuSeconds: 0, icapTransactions: 0, cacheHits: 0 };
    const columns = (line: string) => line.replace(/\\\|/g, '').split('|').length;
    const wsTable = renderWsTable([ws('relay', 1, 1000, 400), failedWs], 4);
    expect(wsTable[3]).toContain('failed: connection closed 1008 \\| x');
    expect(wsTable.map(columns)).toEqual(wsTable.map(() => columns(wsTable[0]!)));
    const rangeTable = renderRangeTable([failedRange, okRange]);
    expect(rangeTable[2]).toContain('failed: status 403');
    expect(rangeTable[3]).toContain('| none (whole file) | 0.001 | 0.002 | 1 → 2 → 3 |');
    expect(rangeTable.map(columns)).toEqual(rangeTable.map(() => columns(rangeTable[0]!)));
  });
});

describe('wrongPath', () => {
  const row = (over: Partial<RangeRow>): RangeRow => ({ downloads: 'scanned', request: 'r', range: 'bytes=5-9', status: 'ok', originRanges: [], icapTransactions: 1, cacheHits: 0, ...over });

  it('wants a scanned download fetched whole with one verdict, an unscanned one with its Range passed on', () => {
    expect(wrongPath(row({}))).toBeUndefined();
    expect(wrongPath(row({ icapTransactions: 0, cacheHits: 1 }))).toBeUndefined();
    expect(wrongPath(row({ originRanges: ['bytes=5-9'] }))).toMatch(/not stripped/);
    expect(wrongPath(row({ icapTransactions: 0 }))).toMatch(/expected one verdict/);
    expect(wrongPath(row({ icapTransactions: 2 }))).toMatch(/expected one verdict/);
    expect(wrongPath(row({ downloads: 'not scanned', originRanges: ['bytes=5-9'], icapTransactions: 0 }))).toBeUndefined();
    expect(wrongPath(row({ downloads: 'not scanned', originRanges: [], icapTransactions: 0 }))).toMatch(/expected bytes=5-9/);
    expect(wrongPath(row({ downloads: 'not scanned', originRanges: ['bytes=5-9'], icapTransactions: 1 }))).toMatch(/unscanned download/);
  });
});
