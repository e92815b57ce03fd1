// Archives and compressed files: POSIX ustar (IEEE 1003.1-2008 pax "ustar" header), gzip via
// node:zlib, and two small encoders where Node has none: bzip2 (RLE1, Burrows-Wheeler by prefix
// doubling, MTF with RUNA/RUNB, two Huffman tables of equal lengths: valid, if not small) and xz
// (.xz container 1.1.0, LZMA2 chunks coded by a literal-only LZMA range encoder: entropy-coded,
// so no plain text shows through, and every xz decoder reads it).
import zlib from 'node:zlib';

export function tar(files: ReadonlyArray<{ name: string; data: Buffer | string }>): Buffer {
  const blocks: Buffer[] = [];
  for (const file of files) {
    const data = typeof file.data === 'string' ? Buffer.from(file.data, 'utf8') : file.data;
    const h = Buffer.alloc(512);
    const put = (text: string, at: number, len: number) => h.write(text, at, len, 'latin1');
    put(file.name, 0, 100);
    put('0000644\0', 100, 8);
    put('0001750\0', 108, 8);
    put('0001750\0', 116, 8);
    put(`${data.length.toString(8).padStart(11, '0')}\0`, 124, 12);
    put(`${(1715941351).toString(8).padStart(11, '0')}\0`, 136, 12);
    put('        ', 148, 8);
    put('0', 156, 1);
    put('ustar\0', 257, 6);
    put('00', 263, 2);
    put('jane', 265, 32);
    put('staff', 297, 32);
    let sum = 0;
    for (const b of h) sum += b;
    put(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
    blocks.push(h, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

export const gzip = (data: Buffer): Buffer => zlib.gzipSync(data);

class BitWriter {
  private readonly bytes: number[] = [];
  private acc = 0;
  private n = 0;
  write(bits: number, value: number): void {
    for (let i = bits - 1; i >= 0; i--) {
      this.acc = (this.acc << 1) | ((value >>> i) & 1);
      if (++this.n === 8) {
        this.bytes.push(this.acc);
        this.acc = 0;
        this.n = 0;
      }
    }
  }
  finish(): Buffer {
    if (this.n > 0) this.bytes.push(this.acc << (8 - this.n));
    return Buffer.from(this.bytes);
  }
}

/** The CRC of bzip2: CRC-32 (0x04c11db7) most significant bit first. */
const BZ_CRC = Array.from({ length: 256 }, (_, i) => {
  let c = i << 24;
  for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
  return c >>> 0;
});
function bzCrc(data: Buffer): number {
  let c = 0xffffffff;
  for (const b of data) c = ((c << 8) ^ (BZ_CRC[((c >>> 24) ^ b) & 0xff] as number)) >>> 0;
  return ~c >>> 0;
}

/** Sorted rotations of `s` by prefix doubling; returns the rotation start of each rank. */
function sortRotations(s: Buffer): Int32Array {
  const n = s.length;
  let rank = Int32Array.from(s);
  const order = Int32Array.from({ length: n }, (_, i) => i);
  for (let k = 1; ; k *= 2) {
    const key = (i: number) => rank[(i + k) % n] as number;
    order.sort((a, b) => (rank[a] as number) - (rank[b] as number) || key(a) - key(b));
    const next = new Int32Array(n);
    let distinct = 1;
    for (let i = 1; i < n; i++) {
      const a = order[i - 1] as number;
      const b = order[i] as number;
      if (rank[a] !== rank[b] || key(a) !== key(b)) distinct++;
      next[b] = distinct - 1;
    }
    rank = next;
    if (distinct === n || k >= n) return order;
  }
}

function bzBlock(out: BitWriter, block: Buffer): void {
  // RLE1: runs of 4 to 255 equal bytes become four bytes and a count.
  const rle: number[] = [];
  for (let i = 0; i < block.length; ) {
    let run = 1;
    while (run < 255 && i + run < block.length && block[i + run] === block[i]) run++;
    if (run >= 4) rle.push(block[i] as number, block[i] as number, block[i] as number, block[i] as number, run - 4);
    else for (let k = 0; k < run; k++) rle.push(block[i] as number);
    i += run;
  }
  const data = Buffer.from(rle);
  const n = data.length;
  const order = sortRotations(data);
  const last = Buffer.alloc(n);
  let origPtr = 0;
  for (let i = 0; i < n; i++) {
    const at = order[i] as number;
    if (at === 0) origPtr = i;
    last[i] = data[(at + n - 1) % n] as number;
  }
  const used = [...new Set(last)].sort((a, b) => a - b);
  const mtf = [...used];
  const symbols: number[] = [];
  let zeros = 0;
  const flush = () => {
    for (let r = zeros; r > 0; ) {
      if (r & 1) {
        symbols.push(0);
        r = (r - 1) >> 1;
      } else {
        symbols.push(1);
        r = (r - 2) >> 1;
      }
    }
    zeros = 0;
  };
  for (const b of last) {
    const j = mtf.indexOf(b);
    if (j === 0) {
      zeros++;
      continue;
    }
    flush();
    mtf.splice(j, 1);
    mtf.unshift(b);
    symbols.push(j + 1);
  }
  flush();
  const alphaSize = used.length + 2;
  symbols.push(alphaSize - 1); // EOB
  const bits = Math.max(1, Math.ceil(Math.log2(alphaSize)));

  out.write(24, 0x314159);
  out.write(24, 0x265359);
  out.write(32, bzCrc(block));
  out.write(1, 0);
  out.write(24, origPtr);
  const groups = new Set(used.map((b) => b >> 4));
  let map16 = 0;
  for (let g = 0; g < 16; g++) if (groups.has(g)) map16 |= 0x8000 >> g;
  out.write(16, map16);
  for (let g = 0; g < 16; g++) {
    if (!groups.has(g)) continue;
    let m = 0;
    for (const b of used) if (b >> 4 === g) m |= 0x8000 >> (b & 15);
    out.write(16, m);
  }
  const selectors = Math.ceil(symbols.length / 50);
  out.write(3, 2);
  out.write(15, selectors);
  for (let i = 0; i < selectors; i++) out.write(1, 0);
  for (let t = 0; t < 2; t++) {
    out.write(5, bits);
    for (let s = 0; s < alphaSize; s++) out.write(1, 0);
  }
  // Canonical codes of equal length are the symbol numbers themselves.
  for (const s of symbols) out.write(bits, s);
}

export function bzip2(data: Buffer): Buffer {
  const out = new BitWriter();
  out.write(32, 0x425a6839); // "BZh9"
  let combined = 0;
  const BLOCK = 400_000;
  for (let at = 0; at < data.length; at += BLOCK) {
    const block = data.subarray(at, at + BLOCK);
    combined = (((combined << 1) | (combined >>> 31)) ^ bzCrc(block)) >>> 0;
    bzBlock(out, block);
  }
  out.write(24, 0x177245);
  out.write(24, 0x385090);
  out.write(32, combined);
  return out.finish();
}

const le32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
};
const varint = (n: number) => {
  const out: number[] = [];
  for (; n >= 0x80; n = Math.floor(n / 128)) out.push((n & 0x7f) | 0x80);
  out.push(n);
  return Buffer.from(out);
};
const pad4 = (n: number) => Buffer.alloc((4 - (n % 4)) % 4);

/** The LZMA range encoder (LZMA SDK, LzmaEnc.c RangeEnc_*), probabilities of 11 bits. */
class RangeEncoder {
  private low = 0;
  private range = 0xffffffff;
  private cache = 0;
  private cacheSize = 1;
  readonly out: number[] = [];
  bit(probs: Uint16Array, i: number, bit: number): void {
    const p = probs[i] as number;
    const bound = (this.range >>> 11) * p;
    if (bit === 0) {
      this.range = bound;
      probs[i] = p + ((2048 - p) >>> 5);
    } else {
      this.low += bound;
      this.range = (this.range - bound) >>> 0;
      probs[i] = p - (p >>> 5);
    }
    while (this.range < 0x1000000) {
      this.range = (this.range * 256) >>> 0;
      this.shiftLow();
    }
  }
  private shiftLow(): void {
    if (this.low < 0xff000000 || this.low >= 0x100000000) {
      const carry = this.low >= 0x100000000 ? 1 : 0;
      let temp = this.cache;
      do {
        this.out.push((temp + carry) & 0xff);
        temp = 0xff;
      } while (--this.cacheSize !== 0);
      this.cache = Math.floor(this.low / 0x1000000) & 0xff;
    }
    this.cacheSize++;
    this.low = (this.low % 0x1000000) * 256;
  }
  flush(): Buffer {
    for (let i = 0; i < 5; i++) this.shiftLow();
    return Buffer.from(this.out);
  }
}

/** One LZMA2 chunk of literals only (lc=3, lp=0, pb=2): every isMatch bit 0, the state stays 0. */
function lzmaLiterals(data: Buffer, previous: number): Buffer {
  const rc = new RangeEncoder();
  const isMatch = new Uint16Array(12 * 16).fill(1024);
  const literal = new Uint16Array(0x300 * 8).fill(1024);
  let prev = previous;
  for (let pos = 0; pos < data.length; pos++) {
    rc.bit(isMatch, pos & 3, 0);
    const base = 0x300 * (prev >> 5);
    const byte = data[pos] as number;
    let symbol = 1;
    for (let i = 7; i >= 0; i--) {
      const b = (byte >> i) & 1;
      rc.bit(literal, base + symbol, b);
      symbol = (symbol << 1) | b;
    }
    prev = byte;
  }
  return rc.flush();
}

export function xz(data: Buffer): Buffer {
  const flags = Buffer.from([0x00, 0x01]); // check type 1: CRC32
  const header = Buffer.concat([Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), flags, le32(zlib.crc32(flags))]);
  // Block header: size, flags (one filter), LZMA2 (0x21) with one property byte (dictionary 8 MiB = 22), padding, CRC32.
  const bh = Buffer.concat([Buffer.from([0x02, 0x00, 0x21, 0x01, 22]), Buffer.alloc(3)]);
  const blockHeader = Buffer.concat([bh, le32(zlib.crc32(bh))]);
  const chunks: Buffer[] = [];
  for (let at = 0; at < data.length; at += 32768) {
    const piece = data.subarray(at, at + 32768);
    const packed = lzmaLiterals(piece, at === 0 ? 0 : (data[at - 1] as number));
    // LZMA2 control: 0xE0 = dictionary reset + new properties (first chunk), 0xA0 = state reset.
    const u = piece.length - 1;
    const p = packed.length - 1;
    const head = [at === 0 ? 0xe0 : 0xa0, u >> 8, u & 0xff, p >> 8, p & 0xff, ...(at === 0 ? [0x5d] : [])];
    chunks.push(Buffer.from(head), packed);
  }
  chunks.push(Buffer.from([0x00]));
  const compressed = Buffer.concat(chunks);
  const block = Buffer.concat([blockHeader, compressed, pad4(compressed.length), le32(zlib.crc32(data))]);
  const unpadded = blockHeader.length + compressed.length + 4;
  const indexBody = Buffer.concat([Buffer.from([0x00]), varint(1), varint(unpadded), varint(data.length)]);
  const indexPadded = Buffer.concat([indexBody, pad4(indexBody.length)]);
  const index = Buffer.concat([indexPadded, le32(zlib.crc32(indexPadded))]);
  const footerBody = Buffer.concat([le32(index.length / 4 - 1), flags]);
  const footer = Buffer.concat([le32(zlib.crc32(footerBody)), footerBody, Buffer.from('YZ')]);
  return Buffer.concat([header, block, index, footer]);
}
