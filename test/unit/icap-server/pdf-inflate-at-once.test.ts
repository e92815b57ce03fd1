// A whole Flate stream of a PDF inflated at once (inflateAtOnce, pdf-filters.ts) by engines kept
// between streams and reset: what each gives is what node:zlib's one-shot inflate of that stream
// alone gives (zlib or raw deflate, cut, followed by other bytes, broken, past the ratio limit),
// whatever the streams before it did to the engine, and with inflates running side by side.
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DecodeBudget } from '../../../src/icap-server/decode/byte-sink.js';
import { Findings } from '../../../src/icap-server/detectors/findings.js';
import { inflateAtOnce } from '../../../src/icap-server/extract/pdf-filters.js';

function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 8) / 2 ** 24;
}

const budget = (findings = new Findings()) => new DecodeBudget({ maxDecodedBytes: 1 << 30, maxRatio: 100, maxEntries: 10 }, findings);

/** What node:zlib's one-shot inflate of `data` alone gives, as inflateAtOnce answers. */
function expected(data: Buffer): { out: Buffer; rest: Buffer } | 'stopped' | 'broken' {
  const maxOutputLength = Math.max(1024 * 1024, 100 * data.length) + 1;
  for (const inflate of [zlib.inflateSync, zlib.inflateRawSync]) {
    try {
      const { buffer, engine } = inflate(data, { maxOutputLength, finishFlush: zlib.constants.Z_SYNC_FLUSH, info: true }) as unknown as { buffer: Buffer; engine: { bytesWritten: number } };
      return { out: buffer, rest: data.subarray(engine.bytesWritten) };
    } catch (err) {
      if (err instanceof RangeError) return 'stopped';
    }
  }
  return 'broken';
}

const same = (got: Awaited<ReturnType<typeof inflateAtOnce>>, want: ReturnType<typeof expected>) => {
  if (typeof want === 'string' || typeof got === 'string') expect(got).toBe(want);
  else {
    expect(got.out.equals(want.out)).toBe(true);
    expect(got.rest.equals(want.rest)).toBe(true);
  }
};

/** Streams of every kind: zlib and raw, whole, cut, with bytes after them, damaged, empty, not deflate, a bomb past the ratio. */
function streams(rand: () => number, count: number): Buffer[] {
  const out: Buffer[] = [];
  for (let k = 0; k < count; k++) {
    const text = Buffer.from(`BT /F1 9 Tf [<0003${k.toString(16).padStart(4, '0')}> -12 (4111 1111 1111 1111)] TJ ET\n`.repeat(1 + Math.floor(rand() * 400)));
    const packed = rand() < 0.5 ? zlib.deflateSync(text) : zlib.deflateRawSync(text);
    const kind = Math.floor(rand() * 7);
    if (kind === 0) out.push(packed.subarray(0, Math.floor(rand() * packed.length)));
    else if (kind === 1) out.push(Buffer.concat([packed, Buffer.from(rand() < 0.5 ? '\r\n' : 'appended text 4111 1111 1111 1111')]));
    else if (kind === 2) {
      const damaged = Buffer.from(packed);
      const at = Math.floor(rand() * damaged.length);
      damaged[at] = (damaged[at] as number) ^ 0xff;
      out.push(damaged);
    } else if (kind === 3) out.push(rand() < 0.5 ? Buffer.alloc(0) : Buffer.from('not deflate at all, a card 4111 1111 1111 1111'));
    else if (kind === 4 && rand() < 0.2) out.push(zlib.deflateSync(Buffer.alloc(2 * 1024 * 1024 + Math.floor(rand() * 4096))));
    else out.push(packed);
  }
  return out;
}

describe('inflateAtOnce with engines kept between streams', () => {
  it('each stream, one after another through the same engines, gives what a one-shot inflate of it alone gives', async () => {
    const all = streams(random(1), 400);
    const kinds = new Set<string>();
    for (const data of all) {
      const want = expected(data);
      kinds.add(typeof want === 'string' ? want : want.rest.length > 0 ? 'rest' : 'whole');
      same(await inflateAtOnce(data, budget(), 100), want);
    }
    expect([...kinds].sort()).toEqual(['broken', 'rest', 'stopped', 'whole']);
  });

  it('into scratch memory, each stream gives the same, written there when it fits and past it when it does not', async () => {
    const rand = random(3);
    const scratch = Buffer.alloc(256 * 1024);
    const large = Buffer.from(Array.from({ length: 300 * 1024 }, () => Math.floor(rand() * 16).toString(16)).join(''));
    const all = [...streams(rand, 200), zlib.deflateSync(large), zlib.deflateRawSync(large.subarray(0, 256 * 1024)), ...streams(rand, 20)];
    const placed = new Set<string>();
    for (const data of all) {
      const want = expected(data);
      const got = await inflateAtOnce(data, budget(), 100, scratch);
      same(got, want);
      if (typeof got !== 'string' && got.out.length > 0) placed.add(got.out.buffer === scratch.buffer ? 'scratch' : 'own');
    }
    expect([...placed].sort()).toEqual(['own', 'scratch']);
  });

  it('inflates running side by side each get an engine of their own', async () => {
    const all = streams(random(2), 120);
    const got = await Promise.all(all.map((data) => inflateAtOnce(data, budget(), 100)));
    all.forEach((data, k) => same(got[k] as Awaited<ReturnType<typeof inflateAtOnce>>, expected(data)));
  });

  it('a stream past the ratio limit is reported as the ratio stopping it, and the next stream reads whole', async () => {
    const findings = new Findings();
    const b = budget(findings);
    expect(await inflateAtOnce(zlib.deflateSync(Buffer.alloc(4 * 1024 * 1024)), b, 100)).toBe('stopped');
    expect(findings.count('decode-limit:ratio')).toBe(1);
    const text = Buffer.from('after the bomb 4111 1111 1111 1111');
    same(await inflateAtOnce(zlib.deflateSync(text), budget(), 100), { out: text, rest: Buffer.alloc(0) });
  });
});
