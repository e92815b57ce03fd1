// The chunked decoder reads a bare size line and the CRLF after the data from the bytes when they
// are whole in one input, and every other line through the general path: any encoding (hex of
// either case, leading zeros, extensions, ieof, trailers, bare LF), cut anywhere, decodes to the
// same data and end as the whole input at once, and malformed size lines fail the same way.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChunkedDecoder } from '../../../src/icap/codec/chunked.js';

const LIMITS = { maxChunkLineBytes: 4096, maxTrailerBytes: 65536 };

function decode(pieces: Buffer[]): { data: Buffer; end: unknown; error?: string } {
  const d = new ChunkedDecoder(LIMITS);
  const out: Buffer[] = [];
  try {
    for (const piece of pieces) {
      let at = 0;
      while (at < piece.length) {
        const step = d.push(piece, at);
        out.push(...step.data.map((x) => Buffer.from(x)));
        at += step.consumed;
        if (step.end) return { data: Buffer.concat(out), end: step.end };
        if (step.consumed === 0) break;
      }
    }
  } catch (err) {
    return { data: Buffer.concat(out), end: undefined, error: (err as { reason?: string }).reason ?? String(err) };
  }
  return { data: Buffer.concat(out), end: undefined };
}

const chunk = fc.record({
  data: fc.uint8Array({ minLength: 1, maxLength: 300 }),
  upper: fc.boolean(),
  zeros: fc.integer({ min: 0, max: 3 }),
  extension: fc.constantFrom('', '', '', '; name=value', ';x', ' '),
  lf: fc.constantFrom('\r\n', '\r\n', '\r\n', '\n'),
});
const encoding = fc.record({
  chunks: fc.array(chunk, { maxLength: 8 }),
  last: fc.constantFrom('0\r\n\r\n', '0; ieof\r\n\r\n', '000\r\n\r\n', '0\r\nX-Trailer: 1\r\n\r\n', '0\n\n'),
});

type Encoding = typeof encoding extends fc.Arbitrary<infer T> ? T : never;

function wire(e: Encoding): Buffer {
  const parts: Buffer[] = [];
  for (const c of e.chunks) {
    const hex = '0'.repeat(c.zeros) + c.data.length.toString(16);
    parts.push(Buffer.from(`${c.upper ? hex.toUpperCase() : hex}${c.extension}${c.lf}`, 'latin1'), Buffer.from(c.data), Buffer.from(c.lf, 'latin1'));
  }
  parts.push(Buffer.from(e.last, 'latin1'));
  return Buffer.concat(parts);
}

function cut(bytes: Buffer, at: number[]): Buffer[] {
  const points = [...new Set(at.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const p of points) {
    out.push(bytes.subarray(from, p));
    from = p;
  }
  out.push(bytes.subarray(from));
  return out.filter((b) => b.length > 0);
}

describe('chunked decoder lines', () => {
  it('decodes any encoding cut anywhere as it decodes the whole input', () => {
    fc.assert(
      fc.property(encoding, fc.array(fc.nat(), { maxLength: 12 }), (e, at) => {
        const bytes = wire(e);
        const whole = decode([bytes]);
        expect(whole.error).toBeUndefined();
        expect(whole.data.equals(Buffer.concat(e.chunks.map((c) => Buffer.from(c.data))))).toBe(true);
        const pieces = decode(cut(bytes, at));
        expect(pieces.data.equals(whole.data)).toBe(true);
        expect(pieces.end).toEqual(whole.end);
      }),
      { numRuns: 500 },
    );
  });

  it.each([
    ['13 hex digits', '1000000000000\r\n'],
    ['a letter past f', '1g\r\n'],
    ['no digits', '\r\n'],
    ['a sign', '-1\r\n'],
  ])('refuses a size line of %s, whole or cut', (_name, line) => {
    expect(decode([Buffer.from(line)]).error).toBe('chunk-size');
    expect(decode([...Buffer.from(line)].map((b) => Buffer.from([b]))).error).toBe('chunk-size');
  });

  it('refuses data longer than its size, whole or cut', () => {
    const bytes = Buffer.from('3\r\nabcd\r\n0\r\n\r\n');
    expect(decode([bytes]).error).toBe('chunk-data');
    expect(decode([...bytes].map((b) => Buffer.from([b]))).error).toBe('chunk-data');
  });
});
