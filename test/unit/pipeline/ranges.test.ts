import { describe, expect, it } from 'vitest';
import { parseRange, planRanges, rangeBody } from '../../../src/pipeline/ranges.js';

describe('parseRange (RFC 9110 §14.1.2)', () => {
  it.each([
    ['bytes=0-99', 1000, [{ start: 0, end: 99 }]],
    ['bytes=900-', 1000, [{ start: 900, end: 999 }]],
    ['bytes=-100', 1000, [{ start: 900, end: 999 }]],
    ['bytes=-5000', 1000, [{ start: 0, end: 999 }]],
    ['bytes=0-5000', 1000, [{ start: 0, end: 999 }]],
    ['BYTES = 0-0 , 10-10', 1000, [{ start: 0, end: 0 }, { start: 10, end: 10 }]],
    ['bytes=1000-', 1000, []],
    ['bytes=-0', 1000, []],
  ])('%s of %i', (header, size, expected) => {
    expect(parseRange(header, size)).toEqual(expected);
  });
  it.each(['items=0-1', 'bytes=', 'bytes=5-1', 'bytes=a-b', 'bytes=-', 'bytes=0-1-2'])('%s is not a range set', (header) => {
    expect(parseRange(header, 1000)).toBeUndefined();
  });
});

describe('planRanges', () => {
  it('If-Range: a strong ETag equal to the current one, or the same Last-Modified date', () => {
    const lm = 'Sun, 06 Dec 2026 10:00:00 GMT';
    expect(planRanges('bytes=0-1', '"a"', { etag: '"a"' }, 10).kind).toBe('ranges');
    expect(planRanges('bytes=0-1', '"a"', { etag: '"b"' }, 10).kind).toBe('full');
    expect(planRanges('bytes=0-1', 'W/"a"', { etag: 'W/"a"' }, 10).kind).toBe('full');
    expect(planRanges('bytes=0-1', '"a"', { etag: 'W/"a"' }, 10).kind).toBe('full');
    expect(planRanges('bytes=0-1', lm, { lastModified: lm }, 10).kind).toBe('ranges');
    expect(planRanges('bytes=0-1', lm, { lastModified: 'Sun, 06 Dec 2026 11:00:00 GMT' }, 10).kind).toBe('full');
  });
  it('more than 64 ranges: the whole instead', () => {
    const many = `bytes=${Array.from({ length: 65 }, (_, i) => `${i * 2}-${i * 2}`).join(',')}`;
    expect(planRanges(many, undefined, {}, 1000).kind).toBe('full');
  });
});

describe('rangeBody', () => {
  it('one range: Content-Range and the slice', () => {
    expect(rangeBody([{ start: 10, end: 19 }], 100, 'text/plain')).toEqual({ headers: [['Content-Range', 'bytes 10-19/100']], contentLength: 10, segments: [{ start: 10, end: 19 }] });
  });
  it('several: multipart/byteranges whose Content-Length is the bytes sent', () => {
    const body = rangeBody([{ start: 0, end: 4 }, { start: 10, end: 14 }], 100, 'text/plain');
    const boundary = /boundary=([0-9a-f]+)/.exec(body.headers[0]![1])![1]!;
    const file = Buffer.from('0123456789abcdefghij'.padEnd(100, '.'));
    const bytes = Buffer.concat(body.segments.map((s) => (Buffer.isBuffer(s) ? s : file.subarray(s.start, s.end + 1))));
    expect(bytes.length).toBe(body.contentLength);
    expect(bytes.toString()).toBe(
      `\r\n--${boundary}\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-4/100\r\n\r\n01234` +
        `\r\n--${boundary}\r\nContent-Type: text/plain\r\nContent-Range: bytes 10-14/100\r\n\r\nabcde\r\n--${boundary}--\r\n`,
    );
  });
});
