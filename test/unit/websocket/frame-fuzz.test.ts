// Property tests (fast-check) of the WebSocket codec, as the ICAP codec is fuzzed: on random and
// mutated input the decoder only returns frames or a protocol error (never throws), gives the same
// result at any chunking, and holds no more than a header and one frame; valid frames survive an
// encode → decode round trip at any split; the assembler rebuilds messages with control frames
// interleaved anywhere; the boundary tracker agrees with the decoder. Case counts: WS_FUZZ_RUNS,
// or 10x more when CI=true.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameBoundaryTracker } from '../../../src/pipeline/websocket/frame-boundary-tracker.js';
import { encodeFrame, MessageAssembler, Opcode, type FrameDecoderOptions } from '../../../src/pipeline/websocket/index.js';
import { decoder, feed, whole } from './frame-helpers.js';

const ci = process.env.CI === 'true' || process.env.CI === '1';
const scale = Number(process.env.WS_FUZZ_RUNS ?? (ci ? 100_000 : 10_000)) / 100_000;
const runs = (n: number) => Math.max(50, Math.round(n * scale));

const LIMIT = 300;
const splits = fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 8 });
const options: fc.Arbitrary<FrameDecoderOptions> = fc.record({
  from: fc.constantFrom('client' as const, 'server' as const),
  rsv1Allowed: fc.boolean(),
  maxFramePayloadBytes: fc.constant(LIMIT),
  oversizeFrames: fc.constantFrom('error' as const, 'stream' as const),
});

interface Spec {
  opcode: number;
  fin: boolean;
  rsv1: boolean;
  payload: Uint8Array;
  key: Uint8Array | undefined;
}

/** A frame that is valid on its own (control frames final and ≤ 125 bytes; RSV1 only on text/binary). */
const frameSpec = (masked: boolean): fc.Arbitrary<Spec> =>
  fc
    .record({
      opcode: fc.constantFrom(0, 1, 2, 8, 9, 10),
      fin: fc.boolean(),
      rsv1: fc.boolean(),
      payload: fc.uint8Array({ maxLength: 700 }),
      key: masked ? fc.uint8Array({ minLength: 4, maxLength: 4 }) : fc.constant(undefined),
    })
    .map((s) => ((s.opcode & 8) !== 0 ? { ...s, fin: true, rsv1: false, payload: s.payload.subarray(0, 125) } : s.opcode === Opcode.continuation ? { ...s, rsv1: false } : s));

const encode = (s: Spec) => encodeFrame({ opcode: s.opcode, fin: s.fin, rsv1: s.rsv1, payload: Buffer.from(s.payload), mask: s.key ? Buffer.from(s.key) : false });

type Mutation = { at: number; byte: number; kind: 'flip' | 'insert' | 'delete' | 'truncate' };
const mutation: fc.Arbitrary<Mutation> = fc.record({
  at: fc.nat(),
  byte: fc.constantFrom(0x00, 0x7e, 0x7f, 0x80, 0x81, 0x88, 0x89, 0xc1, 0xff, 0x03, 0x0b, 0x09),
  kind: fc.constantFrom('flip', 'insert', 'delete', 'truncate'),
});

function mutate(input: Buffer, mutations: Mutation[]): Buffer {
  let b = input;
  for (const m of mutations) {
    if (b.length === 0) break;
    const at = m.at % b.length;
    if (m.kind === 'flip') {
      b = Buffer.from(b);
      b[at] = m.byte;
    } else if (m.kind === 'insert') b = Buffer.concat([b.subarray(0, at), Buffer.from([m.byte]), b.subarray(at)]);
    else if (m.kind === 'delete') b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1)]);
    else b = b.subarray(0, at);
  }
  return b;
}

/** Never throws; the same frames and error at any split; raw bytes are a prefix of the input; bounded. */
function survive(opts: FrameDecoderOptions, input: Buffer, sizes: number[]): void {
  const started = performance.now();
  const once = feed(decoder(opts), input);
  const split = feed(decoder(opts), input, sizes);
  expect(whole(split.frames)).toEqual(whole(once.frames));
  expect(split.error?.closeCode).toBe(once.error?.closeCode);
  const raw = Buffer.concat(split.frames.map((f) => f.raw));
  expect(raw.equals(input.subarray(0, raw.length))).toBe(true);
  expect(split.maxBuffered).toBeLessThanOrEqual(14 + LIMIT);
  expect(performance.now() - started).toBeLessThan(1000);
}

describe('frame decoder properties', () => {
  it('random bytes at random splits: frames or a protocol error, the same at any split', () => {
    fc.assert(fc.property(options, fc.uint8Array({ maxLength: 800 }), splits, (opts, input, sizes) => survive(opts, Buffer.from(input), sizes)), { numRuns: runs(20_000) });
  });

  it('mutated valid streams: frames or a protocol error, the same at any split', () => {
    fc.assert(
      fc.property(options, fc.array(frameSpec(true), { maxLength: 5 }), fc.array(frameSpec(false), { maxLength: 5 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), splits, (opts, masked, unmasked, mutations, sizes) => {
        const input = Buffer.concat((opts.from === 'client' ? masked : unmasked).map(encode));
        survive(opts, mutate(input, mutations), sizes);
      }),
      { numRuns: runs(30_000) },
    );
  });

  it('encode → decode round trip at any split, whole or streamed', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.array(frameSpec(true), { maxLength: 6 }), fc.array(frameSpec(false), { maxLength: 6 }), fc.constantFrom('error' as const, 'stream' as const), splits, (fromClient, masked, unmasked, oversizeFrames, sizes) => {
        const specs = fromClient ? masked : unmasked;
        const input = Buffer.concat(specs.map(encode));
        const fed = feed(decoder({ from: fromClient ? 'client' : 'server', rsv1Allowed: true, maxFramePayloadBytes: oversizeFrames === 'stream' ? 50 : 1 << 20, oversizeFrames }), input, sizes);
        expect(fed.error).toBeUndefined();
        expect(whole(fed.frames)).toEqual(
          specs.map((s, i) => ({ fin: s.fin, rsv1: s.rsv1, opcode: s.opcode, masked: fromClient, payload: Buffer.from(s.payload).toString('hex'), raw: encode(specs[i]!).toString('hex') })),
        );
        expect(Buffer.concat(fed.frames.map((f) => f.raw)).equals(input)).toBe(true);
      }),
      { numRuns: runs(20_000) },
    );
  });

  it('the boundary tracker sees frame ends and Close codes where the decoder does', () => {
    fc.assert(
      fc.property(fc.array(frameSpec(true), { maxLength: 6 }), splits, (specs, sizes) => {
        const input = Buffer.concat(specs.map(encode));
        const ends = new Set<number>([0]);
        let at = 0;
        for (const s of specs) ends.add((at += encode(s).length));
        const tracker = new FrameBoundaryTracker();
        const codes: number[] = [];
        let i = 0;
        let k = 0;
        while (i < input.length) {
          const n = sizes[k++ % sizes.length]!;
          const chunk = input.subarray(i, i + n);
          // byte by byte inside the chunk would be too slow: check at chunk ends
          codes.push(...tracker.push(chunk));
          i += chunk.length;
          expect(tracker.atFrameBoundary).toBe(ends.has(i));
        }
        const closes = specs.filter((s) => s.opcode === Opcode.close).map((s) => (s.payload.length === 0 ? 1005 : s.payload.length === 1 ? 1002 : Buffer.from(s.payload).readUInt16BE(0)));
        expect(codes).toEqual(closes);
      }),
      { numRuns: runs(10_000) },
    );
  });
});

describe('message assembler properties', () => {
  const message = fc.record({
    kind: fc.constantFrom(Opcode.text, Opcode.binary),
    compressed: fc.boolean(),
    fragments: fc.array(fc.uint8Array({ maxLength: 60 }), { minLength: 1, maxLength: 5 }),
  });
  const control = fc.record({ opcode: fc.constantFrom(Opcode.ping, Opcode.pong), payload: fc.uint8Array({ maxLength: 20 }) });

  it('rebuilds every message with control frames interleaved at random points, in order', () => {
    fc.assert(
      fc.property(fc.array(message, { maxLength: 5 }), fc.array(fc.tuple(fc.nat(), control), { maxLength: 8 }), splits, (messages, inserts, sizes) => {
        // each frame with the label a control frame must come out with (undefined for data frames)
        const frames: [Buffer, string | undefined][] = [];
        for (const m of messages) {
          m.fragments.forEach((f, i) =>
            frames.push([encodeFrame({ opcode: i === 0 ? m.kind : Opcode.continuation, fin: i === m.fragments.length - 1, rsv1: i === 0 && m.compressed, payload: Buffer.from(f), mask: true }), undefined]),
          );
        }
        for (const [at, c] of inserts) {
          frames.splice(at % (frames.length + 1), 0, [encodeFrame({ opcode: c.opcode, payload: Buffer.from(c.payload), mask: true }), `${c.opcode}:${Buffer.from(c.payload).toString('hex')}`]);
        }
        const fed = feed(decoder({ from: 'client', rsv1Allowed: true, maxFramePayloadBytes: 25, oversizeFrames: 'stream' }), Buffer.concat(frames.map(([b]) => b)), sizes);
        expect(fed.error).toBeUndefined();
        const assembler = new MessageAssembler();
        const rebuilt: { kind: number; compressed: boolean; payload: string }[] = [];
        const seenControls: string[] = [];
        let parts: Buffer[] = [];
        for (const f of fed.frames) {
          const step = assembler.push(f);
          if (step.type === 'error') throw step.error;
          if (step.type === 'control') seenControls.push(`${f.opcode}:${f.payload.toString('hex')}`);
          else {
            parts.push(f.payload);
            if (step.last) {
              rebuilt.push({ kind: step.message.kind === 'text' ? Opcode.text : Opcode.binary, compressed: step.message.compressed, payload: Buffer.concat(parts).toString('hex') });
              expect(step.message.index).toBe(rebuilt.length - 1);
              parts = [];
            }
          }
        }
        expect(rebuilt).toEqual(messages.map((m) => ({ kind: m.kind, compressed: m.compressed, payload: Buffer.concat(m.fragments.map((f) => Buffer.from(f))).toString('hex') })));
        expect(seenControls).toEqual(frames.flatMap(([, label]) => (label === undefined ? [] : [label])));
        expect(assembler.current).toBeUndefined();
      }),
      { numRuns: runs(10_000) },
    );
  });
});
