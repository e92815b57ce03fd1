// Property tests (fast-check): on random and mutated input the decoders only ever return events
// or throw IcapParseError, finish each case quickly, and never hold more than their limits; valid
// messages survive an encode → decode round trip at any split. Case counts: ICAP_FUZZ_RUNS, or
// 100k+ in total when CI=true.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { HeaderList, HttpHead } from '../../../src/core/types.js';
import {
  IcapParseError,
  IcapRequestDecoder,
  IcapResponseDecoder,
  encodeChunk,
  encodeIcapRequest,
  encodeIcapResponse,
  encodeLastChunk,
  type DecoderLimits,
  type IcapRequestEvent,
} from '../../../src/icap/codec/index.js';
import { summarise } from './codec-helpers.js';

const ci = process.env.CI === 'true' || process.env.CI === '1';
const scale = Number(process.env.ICAP_FUZZ_RUNS ?? (ci ? 100_000 : 10_000)) / 100_000;
const runs = (n: number) => Math.max(50, Math.round(n * scale));

const LIMITS: DecoderLimits = { maxHeadBytes: 2048, maxHttpHeadBytes: 4096, maxChunkLineBytes: 64, maxTrailerBytes: 512 };
// What a decoder may hold at most: its head limit (heads, held preview bytes) or the encapsulated
// heads, plus one chunk-size line and the trailers.
const MAX_HELD = Math.max(LIMITS.maxHeadBytes, LIMITS.maxHttpHeadBytes) + LIMITS.maxChunkLineBytes + LIMITS.maxTrailerBytes;

const token = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,15}$/);
const value = fc.stringMatching(/^[ -~]{0,40}$/).map((v) => v.trim());
const headers: fc.Arbitrary<HeaderList> = fc.array(fc.tuple(token, value), { maxLength: 6 });
const requestHead: fc.Arbitrary<HttpHead> = fc.record({
  kind: fc.constant('request' as const),
  method: fc.constantFrom('GET', 'POST', 'PUT'),
  target: fc.stringMatching(/^http:\/\/[a-z]{1,10}\.test\/[!-~]{0,30}$/),
  version: fc.constantFrom('1.0', '1.1'),
  headers,
});
const responseHead: fc.Arbitrary<HttpHead> = fc.record({
  kind: fc.constant('response' as const),
  status: fc.integer({ min: 100, max: 599 }),
  reason: fc.stringMatching(/^[ -~]{0,20}$/).map((r) => r.trim()),
  version: fc.constantFrom('1.0', '1.1'),
  headers,
});
const body = fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { maxLength: 4 });

/** A valid ICAP request with its body, and the preview split when one is used. */
const validRequest = fc
  .record({
    method: fc.constantFrom('REQMOD' as const, 'RESPMOD' as const),
    req: requestHead,
    res: responseHead,
    chunks: body,
    preview: fc.option(fc.integer({ min: 0, max: 400 }), { nil: undefined }),
  })
  .map(({ method, req, res, chunks, preview }) => {
    const hasBody = chunks.length > 0;
    const all = Buffer.concat(chunks);
    const head = encodeIcapRequest({
      method,
      uri: 'icap://127.0.0.1:1344/svc',
      reqHead: req,
      ...(method === 'RESPMOD' ? { resHead: res } : {}),
      hasBody,
      ...(hasBody && preview !== undefined ? { preview } : {}),
    });
    const parts: Buffer[] = [head];
    let previewEnd: 'none' | 'ieof' | 'more' = 'none';
    if (hasBody && preview !== undefined) {
      parts.push(...encodeChunk(all.subarray(0, preview)));
      previewEnd = all.length <= preview ? 'ieof' : 'more';
      parts.push(encodeLastChunk(previewEnd === 'ieof'));
    } else if (hasBody) {
      for (const c of chunks) parts.push(...encodeChunk(c));
      parts.push(encodeLastChunk());
    }
    const rest = previewEnd === 'more' ? Buffer.concat([...encodeChunk(all.subarray(preview)), encodeLastChunk()]) : Buffer.alloc(0);
    return { bytes: Buffer.concat(parts), rest, body: all, req, res, method, previewEnd, hasBody };
  });

const validResponse = fc.record({ status: fc.constantFrom(200, 204, 403, 500), res: responseHead, chunks: body }).map(({ status, res, chunks }) => {
  const hasBody = status === 200 && chunks.length > 0;
  const parts = [encodeIcapResponse({ status, headers: [['ISTag', '"x"']], ...(status === 200 ? { resHead: res } : {}), hasBody })];
  if (hasBody) {
    for (const c of chunks) parts.push(...encodeChunk(c));
    parts.push(encodeLastChunk());
  }
  return Buffer.concat(parts);
});

const splits = fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 8 });

type Mutation = { kind: 'flip' | 'insert' | 'delete' | 'truncate' | 'dup'; at: number; byte: number; len: number };
const mutation: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom('flip', 'insert', 'delete', 'truncate', 'dup'),
  at: fc.nat(),
  byte: fc.constantFrom(0x00, 0x0a, 0x0d, 0x20, 0x3a, 0x3b, 0x30, 0x39, 0x61, 0x66, 0xff, 0x09, 0x2c, 0x3d),
  len: fc.integer({ min: 1, max: 40 }),
});

function mutate(input: Buffer, mutations: Mutation[]): Buffer {
  let b = input;
  for (const m of mutations) {
    if (b.length === 0) break;
    const at = m.at % b.length;
    if (m.kind === 'flip') {
      b = Buffer.from(b);
      b[at] = m.byte;
    } else if (m.kind === 'insert') b = Buffer.concat([b.subarray(0, at), Buffer.alloc(m.len, m.byte), b.subarray(at)]);
    else if (m.kind === 'delete') b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.len)]);
    else if (m.kind === 'truncate') b = b.subarray(0, at);
    else b = Buffer.concat([b.subarray(0, at + m.len), b.subarray(at)]);
  }
  return b;
}

/** CPU time of this process in ms: what a decoder spends, not how long a loaded machine made it wait. */
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/** Feed input in the given sizes; only IcapParseError may escape; held bytes stay bounded. */
function survive(decoder: IcapRequestDecoder | IcapResponseDecoder, input: Buffer, sizes: number[]): void {
  const started = cpuMs();
  try {
    let i = 0;
    let k = 0;
    while (i < input.length) {
      const n = sizes[k++ % sizes.length]!;
      const events = decoder.push(input.subarray(i, i + n));
      i += n;
      // A plain check per push (expect() here was most of this file's run time); fails the same.
      if (decoder.bufferedBytes > MAX_HELD) expect.fail(`decoder holds ${decoder.bufferedBytes} bytes, more than ${MAX_HELD}`);
      // Server side: keep going after a preview as a server would, to reach the later states.
      if (decoder instanceof IcapRequestDecoder && events.some((e) => e.type === 'preview-end' && !e.ieof)) decoder.continueAfterPreview();
    }
    decoder.finish();
  } catch (err) {
    if (!(err instanceof IcapParseError)) throw err;
  }
  const spent = cpuMs() - started;
  if (spent >= 1000) expect.fail(`decoding ${input.length} bytes took ${Math.round(spent)} ms of CPU`);
}

describe('codec properties', () => {
  it('random bytes: response decoder returns events or IcapParseError', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), splits, (input, sizes) => survive(new IcapResponseDecoder(LIMITS), Buffer.from(input), sizes)), { numRuns: runs(15_000) });
  });

  it('random bytes: request decoder returns events or IcapParseError', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), splits, (input, sizes) => survive(new IcapRequestDecoder(LIMITS), Buffer.from(input), sizes)), { numRuns: runs(15_000) });
  });

  it('random text with ICAP-looking tokens: both decoders survive', () => {
    const piece = fc.constantFrom('ICAP/1.0 200 OK\r\n', 'REQMOD icap://h/s ICAP/1.0\r\n', 'Encapsulated: res-hdr=0, res-body=19\r\n', 'Encapsulated: req-hdr=0, null-body=', 'Preview: 3\r\n', '\r\n', '\r\n\r\n', 'HTTP/1.1 200 OK\r\n', '5\r\n', 'abcde', '0; ieof\r\n', '0\r\n\r\n', ' folded\r\n', '\t', 'ffffffffffff\r\n', 'X-A: b\r\n', '\0');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }), splits, (pieces, sizes) => {
        const input = Buffer.from(pieces.join(''), 'latin1');
        survive(new IcapResponseDecoder(LIMITS), input, sizes);
        survive(new IcapRequestDecoder(LIMITS), input, sizes);
      }),
      { numRuns: runs(15_000) },
    );
  });

  it('mutated valid requests and responses: only IcapParseError escapes', () => {
    fc.assert(
      fc.property(validRequest, validResponse, fc.array(mutation, { minLength: 1, maxLength: 4 }), splits, (req, res, mutations, sizes) => {
        survive(new IcapRequestDecoder(LIMITS), mutate(Buffer.concat([req.bytes, req.rest]), mutations), sizes);
        survive(new IcapResponseDecoder(LIMITS), mutate(res, mutations), sizes);
      }),
      { numRuns: runs(35_000) },
    );
  });

  it('valid requests round-trip at any split: heads and body come back unchanged', () => {
    fc.assert(
      fc.property(validRequest, splits, (msg, sizes) => {
        const d = new IcapRequestDecoder();
        const events: IcapRequestEvent[] = [];
        let i = 0;
        let k = 0;
        const input = msg.bytes;
        while (i < input.length) {
          const n = sizes[k++ % sizes.length]!;
          events.push(...d.push(input.subarray(i, i + n)));
          i += n;
        }
        if (msg.previewEnd === 'more') {
          events.push(...d.continueAfterPreview(), ...d.push(msg.rest));
        }
        expect(d.idle).toBe(true);
        const s = summarise(events);
        const heads = s.heads.filter((e) => e.type === 'http-head').map((e) => (e.type === 'http-head' ? e.head : null));
        expect(heads).toEqual(msg.method === 'RESPMOD' ? [msg.req, msg.res] : [msg.req]);
        expect(Buffer.from(s.bodies.join(''), 'latin1').equals(msg.body)).toBe(true);
        const expectEvents = msg.previewEnd === 'ieof' ? 'preview-end:ieof' : msg.previewEnd === 'more' ? 'preview-end' : undefined;
        if (expectEvents) expect(s.events).toContain(expectEvents);
        expect(s.events.at(-1)).toBe('end');
      }),
      { numRuns: runs(20_000) },
    );
  });
});
