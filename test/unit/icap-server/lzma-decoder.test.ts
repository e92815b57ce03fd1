// The LZMA/LZMA2 decoder (lzma-decoder.ts, lzma-window.ts, through xz-decoder.ts), differential:
// files written by the reference `xz` (presets 0, 6, 9e; small dictionaries that wrap many times
// within a chunk; odd lc/lp/pb; several blocks; incompressible stretches, which xz stores as
// uncompressed chunks followed by state resets) and by the repository's literal-only xz writer
// must decode to the original bytes at every chunking of the input (1..7 bytes, 64 KiB, whole).
// Damage must end cleanly: a cut leaves a prefix of the original and hands the rest on as
// leftover, garbage throws or yields exactly the chunk's declared size, and a distance past the
// declared dictionary is refused rather than read from stale memory.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { type ByteSink, DecodeBudget } from '../../../src/icap-server/decode/byte-sink.js';
import { Findings } from '../../../src/icap-server/detectors/findings.js';
import { LzmaDecoder } from '../../../src/icap-server/extract/lzma-decoder.js';
import { xzDecoder } from '../../../src/icap-server/extract/xz-decoder.js';
import { xz as literalXz } from '../../corpus/writers/archive-writers.js';
import { ensureBinary } from '../../support/peers/common.js';
import { chunked } from './extract-fixtures.js';

/** A seeded generator (mulberry32), so every run decodes the same inputs. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ['invoice', 'total', 'the', 'of', 'shipment', 'depot', 'order', 'card', 'Falcon', 'ledger', '\n', 'account', '4111', 'é', '—'];

/**
 * Text from a small vocabulary (literals, short matches), with stretches copied from far back
 * (long distances, past a 64 KiB dictionary), random bytes (stored chunks) and runs (long overlapping matches).
 */
function sample(seed: number, bytes: number, mixed: boolean): Buffer {
  const next = random(seed);
  const parts: Buffer[] = [];
  let size = 0;
  while (size < bytes) {
    const pick = next();
    let part: Buffer;
    if (!mixed || pick < 0.7) part = Buffer.from(Array.from({ length: 20 + Math.floor(next() * 200) }, () => WORDS[Math.floor(next() * WORDS.length)]).join(' '));
    else if (pick < 0.8 && size > 1000) {
      const whole = Buffer.concat(parts);
      const from = Math.floor(next() * (whole.length - 500));
      part = whole.subarray(from, from + 100 + Math.floor(next() * 400));
    } else if (pick < 0.9) part = Buffer.from(Array.from({ length: Math.floor(next() * 3000) }, () => Math.floor(next() * 256)));
    else part = Buffer.alloc(Math.floor(next() * 2000), Math.floor(next() * 256));
    parts.push(part);
    size += part.length;
  }
  return Buffer.concat(parts).subarray(0, bytes);
}

function xzTool(data: Buffer, args: string[]): Buffer {
  const r = spawnSync(ensureBinary('xz', ['xz-utils']), ['-c', ...args], { input: data, maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`xz failed: ${r.stderr.toString()}`);
  return r.stdout;
}

interface Decoded {
  out: Buffer;
  /** Writes to the leftover sink (a damaged or cut file hands its undecoded bytes on there). */
  leftoverWrites: number;
}

async function decode(pieces: Buffer[], maxDecodedBytes = 1 << 30): Promise<Decoded> {
  const out: Buffer[] = [];
  let leftoverWrites = 0;
  const budget = new DecodeBudget({ maxDecodedBytes, maxRatio: 1e9, maxEntries: 1 }, new Findings());
  const sink = xzDecoder(
    { write: async (c) => void out.push(Buffer.from(c)), end: async () => undefined },
    budget,
    { write: async () => void leftoverWrites++, end: async () => undefined } satisfies ByteSink,
  );
  for (const piece of pieces) await sink.write(piece);
  await sink.end();
  return { out: Buffer.concat(out), leftoverWrites };
}

const small = sample(1, 6_000, false);
const smallMixed = sample(2, 9_000, true);
const large = sample(3, 700_000, true);
const cases: [string, Buffer, Buffer][] = [
  ['xz -0, text', small, xzTool(small, ['-0'])],
  ['xz -6, text', small, xzTool(small, ['-6'])],
  ['xz -9e, mixed', smallMixed, xzTool(smallMixed, ['-9e'])],
  ['xz lc=0 lp=4 pb=4, mixed', smallMixed, xzTool(smallMixed, ['--lzma2=preset=6,lc=0,lp=4,pb=4'])],
  ['xz lc=4 lp=0 pb=0, mixed', smallMixed, xzTool(smallMixed, ['--lzma2=preset=6,lc=4,lp=0,pb=0'])],
  ['xz dict=4KiB, mixed', smallMixed, xzTool(smallMixed, ['--lzma2=preset=6,dict=4KiB'])],
  ['literal-only writer, mixed', smallMixed, literalXz(smallMixed)],
  ['xz -6, one byte', Buffer.from('x'), xzTool(Buffer.from('x'), ['-6'])],
  ['xz -6, empty', Buffer.alloc(0), xzTool(Buffer.alloc(0), ['-6'])],
  ['xz -0, large', large, xzTool(large, ['-0'])],
  ['xz -6, large', large, xzTool(large, ['-6'])],
  ['xz -9e, large', large, xzTool(large, ['-9e'])],
  ['xz dict=64KiB, large (wraps)', large, xzTool(large, ['--lzma2=preset=6,dict=64KiB'])],
  ['xz dict=4KiB, large (wraps in every chunk)', large, xzTool(large, ['--lzma2=preset=6,dict=4KiB'])],
  ['xz -6 in 100 KiB blocks, large', large, xzTool(large, ['-6', '--block-size=100KiB'])],
  ['literal-only writer, large', large, literalXz(large)],
];

describe('LZMA2 in xz, byte for byte against the original', () => {
  it.each(cases)('%s, whole and at 64 KiB', async (_, original, packed) => {
    for (const size of [packed.length || 1, 65_536, 4_093]) {
      const { out, leftoverWrites } = await decode(chunked(packed, size));
      expect(leftoverWrites).toBe(0);
      expect(out.equals(original)).toBe(true);
    }
  });

  it('a file of many blocks and 64 KiB chunks, a byte at a time', async () => {
    const [, original, packed] = cases.find(([name]) => name === 'xz -6 in 100 KiB blocks, large')!;
    const { out, leftoverWrites } = await decode(chunked(packed, 1));
    expect(leftoverWrites).toBe(0);
    expect(out.equals(original)).toBe(true);
  });

  it('streams decoded at once, interleaved chunk by chunk, keep their own dictionaries and probabilities', async () => {
    const pairs = cases.filter(([name]) => ['xz dict=64KiB, large (wraps)', 'xz -6, large', 'xz -9e, mixed'].includes(name));
    expect(pairs).toHaveLength(3);
    const outs = pairs.map(() => [] as Buffer[]);
    const budget = new DecodeBudget({ maxDecodedBytes: 1 << 30, maxRatio: 1e9, maxEntries: 1 }, new Findings());
    const discard: ByteSink = { write: async () => expect.unreachable('nothing is left over'), end: async () => undefined };
    const sinks = pairs.map((_, k) => xzDecoder({ write: async (c) => void outs[k]!.push(Buffer.from(c)), end: async () => undefined }, budget, discard));
    const pieces = pairs.map(([, , packed]) => chunked(packed, 997));
    for (let i = 0; i < Math.max(...pieces.map((p) => p.length)); i++) {
      for (let k = 0; k < pairs.length; k++) if (i < pieces[k]!.length) await sinks[k]!.write(pieces[k]![i]!);
    }
    for (const sink of sinks) await sink.end();
    pairs.forEach(([, original], k) => expect(Buffer.concat(outs[k]!).equals(original)).toBe(true));
  });

  it.each(cases.filter(([, , packed]) => packed.length < 12_000))('%s, at chunks of 1..7 bytes', async (_, original, packed) => {
    for (let size = 1; size <= 7; size++) {
      const { out, leftoverWrites } = await decode(chunked(packed, size));
      expect(leftoverWrites).toBe(0);
      expect(out.equals(original)).toBe(true);
    }
  });
});

describe('damaged LZMA2 ends cleanly', () => {
  const packed = xzTool(smallMixed, ['-6']);

  it('a cut anywhere leaves a prefix of the original and hands the rest on', async () => {
    for (let cut = 0; cut < packed.length; cut++) {
      const { out, leftoverWrites } = await decode(chunked(packed.subarray(0, cut), 3 + (cut % 5) * 997));
      expect(leftoverWrites).toBe(1);
      expect(out.equals(smallMixed.subarray(0, out.length))).toBe(true);
    }
  });

  it('a flipped byte anywhere ends the decode, within the byte budget', async () => {
    const next = random(4);
    for (let at = 12; at < packed.length; at++) {
      const damaged = Buffer.from(packed);
      damaged[at] = (damaged[at] as number) ^ (1 + Math.floor(next() * 255));
      const { out } = await decode([damaged], 4 * 1024 * 1024);
      expect(out.length).toBeLessThanOrEqual(4 * 1024 * 1024);
    }
  });

  it('garbage in a chunk throws, or yields exactly the chunk’s declared size', () => {
    const next = random(5);
    let threw = 0;
    for (let round = 0; round < 300; round++) {
      const decoder = new LzmaDecoder(4096 << Math.floor(next() * 8));
      const lc = Math.floor(next() * 5);
      const lp = Math.floor(next() * (5 - lc));
      expect(decoder.setProperties((Math.floor(next() * 5) * 5 + lp) * 9 + lc)).toBe(true);
      decoder.resetState();
      const input = Buffer.from(Array.from({ length: 5 + Math.floor(next() * 3000) }, () => Math.floor(next() * 256)));
      input[0] = 0;
      const unpacked = 1 + Math.floor(next() * 300_000);
      try {
        const pieces = decoder.decodeChunk(input, unpacked);
        expect(pieces.reduce((sum, piece) => sum + piece.length, 0)).toBe(unpacked);
      } catch (error) {
        expect((error as Error).message).toMatch(/^lzma: /);
        threw++;
      }
    }
    expect(threw).toBeGreaterThan(0);
  });

  it('a match before the first byte is refused, not read from the empty dictionary', () => {
    // Code above every bound: is-match, then is-rep and the rep choices all decode as 1 (rep3 = 0, distance 1).
    for (const dictSize of [4096, 1 << 20]) {
      const decoder = new LzmaDecoder(dictSize);
      expect(decoder.setProperties(0x5d)).toBe(true);
      decoder.resetState();
      expect(() => decoder.decodeChunk(Buffer.from([0, ...Array<number>(64).fill(0xff)]), 10)).toThrow(/^lzma: distance past the dictionary$/);
    }
  });

  it('properties out of range are refused', () => {
    const decoder = new LzmaDecoder(4096);
    expect(decoder.setProperties(225)).toBe(false);
    // lc=4 lp=1: lc + lp > 4 (LZMA2's limit).
    expect(decoder.setProperties(4 + 9)).toBe(false);
  });

  it('a distance past the declared dictionary is refused, what came before stands', async () => {
    // Written with a 64 KiB dictionary, declared as 4 KiB: the first match reaching past 4 KiB must throw.
    const far = xzTool(large, ['--lzma2=preset=6,dict=64KiB']);
    // Block header after the 12-byte stream header: size, flags (no sizes), filter 0x21, 1 property byte, dictionary.
    expect([...far.subarray(13, 16)]).toEqual([0x00, 0x21, 0x01]);
    const lied = Buffer.from(far);
    lied[16] = 0;
    const { out, leftoverWrites } = await decode(chunked(lied, 65_536));
    // From the failing chunk on, every write goes on to the leftover.
    expect(leftoverWrites).toBeGreaterThan(0);
    expect(out.length).toBeLessThan(large.length);
    expect(out.equals(large.subarray(0, out.length))).toBe(true);
  });
});
