// bzip2 files (the format of bzip2 1.0.x, multi-stream too), decoded block by block as they stream.
// A block is decoded once its compressed bytes are all here (at most ~1.3 × the block size
// buffered), its Burrows-Wheeler inverse kept in one Int32Array (the block size, ≤ 900 k entries),
// and its output produced lazily in 64 KiB pieces that are written (awaited) one at a time: an
// expanding block (a run-length bomb turns 45 bytes into 45 MB) never sits in memory, and the
// body's ratio and byte limits stop it piece by piece. CRCs are not checked: a damaged block reads
// as garbage text, never as a crash. Randomised blocks (deprecated since 0.9.5) are not decoded.
import type { ByteSink, DecodeBudget } from '../decode/byte-sink.js';

const BLOCK_MAGIC = 0x314159265359;
const END_MAGIC = 0x177245385090;
const MAX_CODE_LENGTH = 20;
const OUTPUT_BYTES = 64 * 1024;

/** Thrown when a block needs bytes that have not arrived. */
class NeedMore extends Error {}

class BitReader {
  pos = 0;
  constructor(public data: Buffer) {}

  bits(n: number): number {
    let value = 0;
    while (n > 0) {
      const byte = this.data[this.pos >>> 3];
      if (byte === undefined) throw new NeedMore();
      const avail = 8 - (this.pos & 7);
      const take = avail < n ? avail : n;
      value = value * (1 << take) + ((byte >>> (avail - take)) & ((1 << take) - 1));
      this.pos += take;
      n -= take;
    }
    return value;
  }

  bit(): number {
    const byte = this.data[this.pos >>> 3];
    if (byte === undefined) throw new NeedMore();
    const b = (byte >>> (7 - (this.pos & 7))) & 1;
    this.pos++;
    return b;
  }
}

interface Table {
  limit: Int32Array;
  base: Int32Array;
  perm: Int32Array;
  minLen: number;
  maxLen: number;
}

function decodeTable(lengths: number[]): Table {
  const minLen = Math.min(...lengths);
  const maxLen = Math.max(...lengths);
  const perm = new Int32Array(lengths.length);
  const base = new Int32Array(MAX_CODE_LENGTH + 2);
  const limit = new Int32Array(MAX_CODE_LENGTH + 2);
  let pp = 0;
  for (let i = minLen; i <= maxLen; i++) for (let j = 0; j < lengths.length; j++) if (lengths[j] === i) perm[pp++] = j;
  for (const length of lengths) base[length + 1]!++;
  for (let i = 1; i < base.length; i++) base[i]! += base[i - 1]!;
  let vec = 0;
  for (let i = minLen; i <= maxLen; i++) {
    vec += base[i + 1]! - base[i]!;
    limit[i] = vec - 1;
    vec <<= 1;
  }
  for (let i = minLen + 1; i <= maxLen; i++) base[i] = ((limit[i - 1]! + 1) << 1) - base[i]!;
  return { limit, base, perm, minLen, maxLen };
}

/**
 * The next Huffman symbol. Where four bytes are left, the code is read from a 32-bit window (at
 * least 25 bits of it valid, codes are at most 20) instead of bit by bit: a call per bit was most
 * of a bzip2 file's decoding.
 */
function symbol(r: BitReader, t: Table): number {
  const d = r.data;
  const pos = r.pos;
  const i = pos >>> 3;
  if (i + 4 > d.length) return symbolAtEnd(r, t);
  const window = ((d[i]! << 24) | (d[i + 1]! << 16) | (d[i + 2]! << 8) | d[i + 3]!) << (pos & 7);
  let n = t.minLen;
  let code = window >>> (32 - n);
  while (n <= t.maxLen && code > t.limit[n]!) {
    n++;
    code = window >>> (32 - n);
  }
  if (n > t.maxLen) throw new Error('bzip2: bad Huffman code');
  r.pos = pos + n;
  return t.perm[code - t.base[n]!]!;
}

/** The same, bit by bit, at the end of the data (where it may need bytes still to come). */
function symbolAtEnd(r: BitReader, t: Table): number {
  let n = t.minLen;
  let code = r.bits(n);
  while (n <= t.maxLen && code > t.limit[n]!) {
    n++;
    code = code * 2 + r.bit();
  }
  if (n > t.maxLen) throw new Error('bzip2: bad Huffman code');
  return t.perm[code - t.base[n]!]!;
}

/** Decodes one block's symbols into `tt` (bytes in the low 8 bits); returns its length and origin. */
function readBlock(r: BitReader, tt: Int32Array): { length: number; origin: number } {
  r.bits(32); // block CRC
  if (r.bit() !== 0) throw new Error('bzip2: randomised block');
  const origin = r.bits(24);
  const used = r.bits(16);
  const seqToUnseq: number[] = [];
  for (let i = 0; i < 16; i++) {
    if (!(used & (0x8000 >>> i))) continue;
    const bits = r.bits(16);
    for (let j = 0; j < 16; j++) if (bits & (0x8000 >>> j)) seqToUnseq.push(i * 16 + j);
  }
  if (seqToUnseq.length === 0) throw new Error('bzip2: empty symbol map');
  const alphaSize = seqToUnseq.length + 2;
  const groups = r.bits(3);
  const selectorCount = r.bits(15);
  if (groups < 2 || groups > 6 || selectorCount === 0) throw new Error('bzip2: bad tables');
  const mtfGroups = Array.from({ length: groups }, (_, i) => i);
  const selectors = new Uint8Array(selectorCount);
  for (let i = 0; i < selectorCount; i++) {
    let j = 0;
    while (r.bit()) if (++j >= groups) throw new Error('bzip2: bad selector');
    const g = mtfGroups[j] as number;
    mtfGroups.splice(j, 1);
    mtfGroups.unshift(g);
    selectors[i] = g;
  }
  const tables: Table[] = [];
  for (let g = 0; g < groups; g++) {
    const lengths: number[] = [];
    let length = r.bits(5);
    for (let s = 0; s < alphaSize; s++) {
      for (;;) {
        if (length < 1 || length > MAX_CODE_LENGTH) throw new Error('bzip2: bad code length');
        if (!r.bit()) break;
        length += r.bit() ? -1 : 1;
      }
      lengths.push(length);
    }
    tables.push(decodeTable(lengths));
  }
  // Move-to-front and the RUNA/RUNB run lengths (bzip2's second run-length stage).
  const mtf = Uint8Array.from(seqToUnseq);
  const counts = new Int32Array(256);
  const eob = alphaSize - 1;
  let length = 0;
  let run = 0;
  let runBit = 1;
  let selector = 0;
  let left = 0;
  let table = tables[0] as Table;
  const flushRun = () => {
    const byte = mtf[0] as number;
    if (length + run > tt.length) throw new Error('bzip2: block too long');
    counts[byte]! += run;
    for (; run > 0; run--) tt[length++] = byte;
    runBit = 1;
  };
  for (;;) {
    if (left === 0) {
      if (selector >= selectorCount) throw new Error('bzip2: out of selectors');
      table = tables[selectors[selector++] as number] as Table;
      left = 50;
    }
    left--;
    const sym = symbol(r, table);
    if (sym <= 1) {
      run += runBit << sym;
      runBit <<= 1;
      continue;
    }
    if (run > 0) flushRun();
    if (sym === eob) break;
    const index = sym - 1;
    if (index >= mtf.length) throw new Error('bzip2: bad symbol');
    const byte = mtf[index] as number;
    for (let k = index; k > 0; k--) mtf[k] = mtf[k - 1] as number;
    mtf[0] = byte;
    if (length >= tt.length) throw new Error('bzip2: block too long');
    counts[byte]!++;
    tt[length++] = byte;
  }
  if (origin >= length) throw new Error('bzip2: bad origin');
  // Inverse Burrows-Wheeler: each entry's high bits point to the next position.
  const start = new Int32Array(256);
  for (let i = 0, sum = 0; i < 256; i++) {
    start[i] = sum;
    sum += counts[i]!;
  }
  for (let i = 0; i < length; i++) {
    const byte = tt[i]! & 0xff;
    tt[start[byte]!++]! |= i << 8;
  }
  return { length, origin };
}

/**
 * A decoded block's bytes, produced a piece at a time: the inverse BWT (each entry's high bits
 * point to the next) and the first run-length stage (four equal bytes, then a count of 0-255
 * more). A loop that awaits keeps its variables in the heap; this one is synchronous.
 */
class BlockOutput {
  private done = 0;
  private pos: number;
  private last = -1;
  private same = 0;
  /** repeats of `last` still to write */
  private repeat = 0;

  constructor(
    private readonly table: Int32Array,
    private readonly length: number,
    origin: number,
  ) {
    this.pos = table[origin]! >>> 8;
  }

  /** Writes the next bytes into `out`, as many as fit; 0 when the block is over. */
  fill(out: Buffer): number {
    const table = this.table;
    const length = this.length;
    const size = out.length;
    let { done, pos, last, same, repeat } = this;
    let n = 0;
    while (n < size) {
      if (repeat > 0) {
        const k = Math.min(repeat, size - n);
        out.fill(last, n, n + k);
        n += k;
        repeat -= k;
        if (repeat === 0) last = -1;
        continue;
      }
      if (done === length) break;
      const entry = table[pos]!;
      const byte = entry & 0xff;
      pos = entry >>> 8;
      done++;
      if (same === 4) {
        repeat = byte;
        same = 0;
        if (repeat === 0) last = -1;
        continue;
      }
      same = byte === last ? same + 1 : 1;
      last = byte;
      out[n++] = byte;
    }
    this.done = done;
    this.pos = pos;
    this.last = last;
    this.same = same;
    this.repeat = repeat;
    return n;
  }
}

/** `leftover` takes what is not bzip2: the input from where it stops parsing (damage, a cut, trailing bytes). */
export function bzip2Decoder(downstream: ByteSink, budget: DecodeBudget, leftover: ByteSink): ByteSink {
  const meter = budget.ratio();
  let failed = false;
  let data: Buffer = Buffer.alloc(0);
  let reader = new BitReader(data);
  let tt: Int32Array | undefined;
  let blockBytes = 0;
  let state: 'header' | 'block' | 'done' = 'header';

  /** The inverse BWT and the first run-length stage, written in OUTPUT_BYTES pieces. */
  const emit = async (length: number, origin: number): Promise<boolean> => {
    const block = new BlockOutput(tt as Int32Array, length, origin);
    for (;;) {
      const out = Buffer.allocUnsafe(OUTPUT_BYTES);
      const n = block.fill(out);
      if (n === 0) return true;
      if (!meter.output(n)) return false;
      await downstream.write(n === OUTPUT_BYTES ? out : out.subarray(0, n));
    }
  };

  const consume = async (final: boolean): Promise<void> => {
    while (state !== 'done') {
      const mark = reader.pos;
      try {
        if (state === 'header') {
          if (reader.bits(24) !== 0x425a68) throw new Error('bzip2: no stream header');
          const level = reader.bits(8) - 0x30;
          if (level < 1 || level > 9) throw new Error('bzip2: bad level');
          blockBytes = level * 100_000;
          if (tt === undefined || tt.length < blockBytes) tt = new Int32Array(blockBytes);
          state = 'block';
          continue;
        }
        // Decode only once the whole block can be here, so a block is parsed once.
        if (!final && data.length - (reader.pos >>> 3) < blockBytes * 1.3 + 4096) return;
        const magic = reader.bits(48);
        if (magic === END_MAGIC) {
          reader.bits(32);
          reader.pos = (reader.pos + 7) & ~7;
          // pbzip2 and concatenated files: another stream may follow.
          if (data.length - (reader.pos >>> 3) < 4 && final) state = 'done';
          else state = 'header';
          continue;
        }
        if (magic !== BLOCK_MAGIC) throw new Error('bzip2: bad block magic');
        const { length, origin } = readBlock(reader, tt as Int32Array);
        if (!(await emit(length, origin))) state = 'done';
      } catch (err) {
        if (err instanceof NeedMore && !final) {
          reader.pos = mark;
          return;
        }
        // Damaged, truncated, not bzip2 after all, or bytes after the last stream: what was
        // decoded stands, and the rest is scanned as it is.
        state = 'done';
        failed = true;
        await leftover.write(data.subarray(mark >>> 3));
        return;
      }
      // Drop the bytes already read, keeping the bit offset within the current byte.
      const consumed = reader.pos >>> 3;
      if (consumed > 0) {
        data = data.subarray(consumed);
        reader = Object.assign(new BitReader(data), { pos: reader.pos & 7 });
      }
    }
  };

  return {
    async write(chunk) {
      if (failed) return leftover.write(chunk);
      if (state === 'done') return;
      meter.input(chunk.length);
      data = data.length === 0 ? chunk : Buffer.concat([data, chunk]);
      reader.data = data;
      await consume(false);
    },
    async end() {
      if (state !== 'done') await consume(true);
      await downstream.end();
      await leftover.end();
    },
  };
}
