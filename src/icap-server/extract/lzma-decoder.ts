// The LZMA decoder (range coder, literal and match models) as LZMA2 uses it (xz's format
// documentation, and the LZMA SDK's LzmaDec.c, whose structure this follows). decodeChunk() runs
// on one LZMA2 chunk whose packed bytes (≤ 64 KiB) are all here and produces its unpacked bytes
// (≤ 2 MiB) into the dictionary (lzma-window.ts), which copies them out as they are made.
//
// Speed: as LzmaDec.c does with its macros, the range coder (range, code, input position) and the
// window's position live in locals of decodeChunk(), written back once per chunk, and every bit
// decode is written out in place: kept in object fields, read and written on every bit, they made
// this decoder ~4x slower than `xz -d`. Each bit decode is the same four lines (normalize, bound,
// then the 0 or 1 branch that updates the probability). Every decision normalizes first: a chunk's
// packed size counts exactly the bytes read that way, so normalizing after the last bit would read
// past the chunk. Arithmetic ends in `>>> 0` (Math.imul for the bound, below 2^32) so that the
// range coder stays in unsigned 32-bit integers.
import { LzmaWindow } from './lzma-window.js';

/** Below this the range takes the next input byte (LzmaDec.c kTopValue). */
const TOP = 0x1000000;
const PROB_INIT = 1024;
const END_POS_MODEL = 14;

// The probabilities, one array laid out as LzmaDec.c's (12 states, up to 16 pos states).
const IS_MATCH = 0;
const IS_REP = IS_MATCH + (12 << 4);
const IS_REP_G0 = IS_REP + 12;
const IS_REP_G1 = IS_REP_G0 + 12;
const IS_REP_G2 = IS_REP_G1 + 12;
const IS_REP0_LONG = IS_REP_G2 + 12;
const POS_SLOT = IS_REP0_LONG + (12 << 4);
const SPEC_POS = POS_SLOT + (4 << 6);
const ALIGN = SPEC_POS + 128 - END_POS_MODEL;
// A length coder: two choices, then low and mid trees (8 symbols per pos state) and a high tree.
const LEN_CHOICE2 = 1;
const LEN_LOW = 2;
const LEN_MID = LEN_LOW + (16 << 3);
const LEN_HIGH = LEN_MID + (16 << 3);
const LEN_CODER = ALIGN + 16;
const REP_LEN_CODER = LEN_CODER + LEN_HIGH + 256;
const LITERAL = REP_LEN_CODER + LEN_HIGH + 256;

const ended = (): Error => new Error('lzma: chunk ended early');

export class LzmaDecoder {
  private lc = 3;
  private lp = 0;
  private pb = 2;
  private probs = new Uint16Array(LITERAL + (0x300 << 3));
  private state = 0;
  private rep0 = 0;
  private rep1 = 0;
  private rep2 = 0;
  private rep3 = 0;
  private readonly window: LzmaWindow;

  constructor(dictSize: number) {
    this.window = new LzmaWindow(dictSize);
  }

  resetDictionary(): void {
    this.window.reset();
  }

  /** lc/lp/pb from an LZMA2 properties byte; false when they are out of range. */
  setProperties(props: number): boolean {
    if (props > (4 * 5 + 4) * 9 + 8) return false;
    this.lc = props % 9;
    this.lp = Math.floor(props / 9) % 5;
    this.pb = Math.floor(props / 45);
    if (this.lc + this.lp > 4) return false;
    this.probs = new Uint16Array(LITERAL + (0x300 << (this.lc + this.lp)));
    return true;
  }

  resetState(): void {
    this.state = 0;
    this.rep0 = this.rep1 = this.rep2 = this.rep3 = 0;
    this.probs.fill(PROB_INIT);
  }

  /** An LZMA2 uncompressed chunk: into the dictionary, and out. */
  copy(data: Buffer): Buffer[] {
    return this.window.copy(data);
  }

  /** Decodes one LZMA chunk; the unpacked bytes, in pieces. Throws on corrupt input. */
  decodeChunk(input: Buffer, unpacked: number): Buffer[] {
    if (input.length < 5 || input[0] !== 0) throw new Error('lzma: bad range coder start');
    const probs = this.probs;
    const win = this.window;
    win.begin();
    const inEnd = input.length;
    let range = 0xffffffff;
    let code = input.readUInt32BE(1);
    let at = 5;
    let dict = win.dict;
    let pos = win.pos;
    let full = win.full;
    let state = this.state;
    let rep0 = this.rep0;
    let rep1 = this.rep1;
    let rep2 = this.rep2;
    let rep3 = this.rep3;
    const lc = this.lc;
    const pbMask = (1 << this.pb) - 1;
    const lpMask = (1 << this.lp) - 1;
    // The position for pos and literal states: only its low bits count (masks of ≤ 4 bits).
    const posBase = win.total & 0xffff;
    let n = 0;
    let i: number;
    let p: number;
    let bound: number;
    let bit: number;
    while (n < unpacked) {
      const posState = (posBase + n) & pbMask;
      i = IS_MATCH + (state << 4) + posState;
      p = probs[i]!;
      if (range < TOP) { if (at === inEnd) throw ended(); range = (range << 8) >>> 0; code = ((code << 8) | input[at++]!) >>> 0; }
      bound = Math.imul(range >>> 11, p) >>> 0;
      if (code < bound) {
        range = bound;
        probs[i] = p + ((2048 - p) >>> 5);
        // A literal: 8 bits through a tree picked by the previous byte and the position; after a
        // match, guided by the byte at rep0 while the bits agree (LzmaDec.c's matched literal).
        const prev = full > 0 ? dict[pos === 0 ? dict.length - 1 : pos - 1]! : 0;
        const base = LITERAL + 0x300 * ((((posBase + n) & lpMask) << lc) + (prev >>> (8 - lc)));
        let symbol = 1;
        if (state < 7) {
          do {
            i = base + symbol;
            p = probs[i]!;
            if (range < TOP) { if (at === inEnd) throw ended(); range = (range << 8) >>> 0; code = ((code << 8) | input[at++]!) >>> 0; }
            bound = Math.imul(range >>> 11, p) >>> 0;
            if (code < bound) { range = bound; probs[i] = p + ((2048 - p) >>> 5); symbol <<= 1; }
            else { range = (range - bound) >>> 0; code = (code - bound) >>> 0; probs[i] = p - (p >>> 5); symbol = (symbol << 1) | 1; }
          } while (symbol < 0x100);
        } else {
          let from = pos - rep0 - 1;
          if (from < 0) from += dict.length;
          let match = dict[from]!;
          // 0x100 while the decoded bits agree with the match byte's, then 0.
          let offs = 0x100;
          do {
            match <<= 1;
            const agreed = offs;
            offs &= match;
            i = base + offs + agreed + symbol;
            p = probs[i]!;
            if (range < TOP) { if (at === inEnd) throw ended(); range = (range << 8) >>> 0; code = ((code << 8) | input[at++]!) >>> 0; }
            bound = Math.imul(range >>> 11, p) >>> 0;
            if (code < bound) { range = bound; probs[i] = p + ((2048 - p) >>> 5); symbol <<= 1; offs ^= agreed; }
            else { range = (range - bound) >>> 0; code = (code - bound) >>> 0; probs[i] = p - (p >>> 5); symbol = (symbol << 1) | 1; }
          } while (symbol < 0x100);
        }
        if (pos === dict.length) {
          win.pos = pos;
          win.makeRoom();
          dict = win.dict;
          pos = win.pos;
        }
        dict[pos++] = symbol;
        if (full < dict.length) full++;
        n++;
        state = state < 4 ? 0 : state < 10 ? state - 3 : state - 6;
        continue;
      }
      range = (range - bound) >>> 0;
      code = (code - bound) >>> 0;
      probs[i] = p - (p >>> 5);

      // A match (new distance) or a repeat of one of the last four distances.
      i = IS_REP + state;
      p = probs[i]!;
      if (range < TOP) { if (at === inEnd) throw ended(); range = (range << 8) >>> 0; code = ((code << 8) | input[at++]!) >>> 0; }
      bound = Math.imul(range >>> 11, p) >>> 0;
      if (code < bound) { range = bound; probs[i] = p + ((2048 - p) >>> 5); bit = 0; }
      else { range = (range - bound) >>> 0; code = (code - bound) >>> 0; probs[i] = p - (p >>> 5); bit = 1; }
      const isRep = bit;
      if (isRep === 1) {
        i = IS_REP_G0 + state;
        p = probs[i]!;
        if (range < TOP) { if (at === inEnd) throw ended(); range = (range << 8) >>> 0; code = ((code << 8) | input[at++]!) >>> 0; }
        bound = Math.imul(range >>> 11, p) >>> 0;
        if (code < bound) { range = bound; probs[i] = p + ((2048 - p) >>> 5); bit = 0; }
        else { range = (range - bound) >>> 0; code = (code - bound) >>> 0; probs[i] = p - (p >>> 5); bit = 1; }
        if (bit === 0) {
          i = IS_REP0_LONG + (state << 4) + posState;
          p = probs[i]!;
          if (range < TOP) { if (at === inEnd) throw ended(); range = (range << 8) >>> 0; code = ((code << 8) | input[at++]!) >>> 0; }
          bound = Math.imul(range >>> 11, p) >>> 0;
          if (code < bound) { range = bound; probs[i] = p + ((2048 - p) >>> 5); bit = 0; }
          else { range = (range - bound) >>> 0; code = (code - bound) >>> 0; probs[i] = p - (p >>> 5); bit = 1; }
          if (bit === 0) {
            // A short repeat: one byte from rep0.
            if (rep0 >= full) throw new Error('lzma: distance past the dictionary');
            let from = pos - rep0 - 1;
            if (from < 0) from += dict.length;
            const byte = dict[from]!;
            if (pos === dict.length) {
              win.pos = pos;
              win.makeRoom();
              dict = win.dict;
              pos = win.pos;
            }
            dict[pos++] = byte;
            if (full < dict.length) full++;
            n++;
            state = state < 7 ? 9 : 11;
            continue;
          }
        } else {
          i = IS_REP_G1 + state;
          p = probs[i]!;
          if (range < TOP) { if (at === inEnd) throw ended(); range = (range << 8) >>> 0; code = ((code << 8) | input[at++]!) >>> 0; }
          bound = Math.imul(range >>> 11, p) >>> 0;
          if (code < bound) { range = bound; probs[i] = p + ((2048 - p) >>> 5); bit = 0; }
          else { range = (range - bound) >>> 0; code = (code - bound) >>> 0; probs[i] = p - (p >>> 5); bit = 1; }
          let distance = rep1;
          if (bit === 1) {
            i = IS_REP_G2 + state;
            p = probs[i]!;
            if (range < TOP) { if (at === inEnd) throw ended(); range = (range << 8) >>> 0; code = ((code << 8) | input[at++]!) >>> 0; }
            bound = Math.imul(range >>> 11, p) >>> 0;
            if (code < bound) { range = bound; probs[i] = p + ((2048 - p) >>> 5); distance = rep2; }
            else { range = (range - bound) >>> 0; code = (code - bound) >>> 0; probs[i] = p - (p >>> 5); distance = rep3; rep3 = rep2; }
            rep2 = rep1;
          }
          rep1 = rep0;
          rep0 = distance;
        }
      }

      // The length (2..273): a choice of the low, mid or high tree of the match's length coder.
      const coder = isRep === 1 ? REP_LEN_CODER : LEN_CODER;
      i = coder;
      p = probs[i]!;
      if (range < TOP) { if (at === inEnd) throw ended(); range = (range << 8) >>> 0; code = ((code << 8) | input[at++]!) >>> 0; }
      bound = Math.imul(range >>> 11, p) >>> 0;
      if (code < bound) { range = bound; probs[i] = p + ((2048 - p) >>> 5); bit = 0; }
      else { range = (range - bound) >>> 0; code = (code - bound) >>> 0; probs[i] = p - (p >>> 5); bit = 1; }
      let tree = coder + LEN_LOW + (posState << 3);
      let limit = 8;
      let length = 2;
      if (bit === 1) {
        i = coder + LEN_CHOICE2;
        p = probs[i]!;
        if (range < TOP) { if (at === inEnd) throw ended(); range = (range << 8) >>> 0; code = ((code << 8) | input[at++]!) >>> 0; }
        bound = Math.imul(range >>> 11, p) >>> 0;
        if (code < bound) { range = bound; probs[i] = p + ((2048 - p) >>> 5); tree = coder + LEN_MID + (posState << 3); length = 10; }
        else { range = (range - bound) >>> 0; code = (code - bound) >>> 0; probs[i] = p - (p >>> 5); tree = coder + LEN_HIGH; limit = 256; length = 18; }
      }
      let m = 1;
      do {
        i = tree + m;
        p = probs[i]!;
        if (range < TOP) { if (at === inEnd) throw ended(); range = (range << 8) >>> 0; code = ((code << 8) | input[at++]!) >>> 0; }
        bound = Math.imul(range >>> 11, p) >>> 0;
        if (code < bound) { range = bound; probs[i] = p + ((2048 - p) >>> 5); m <<= 1; }
        else { range = (range - bound) >>> 0; code = (code - bound) >>> 0; probs[i] = p - (p >>> 5); m = (m << 1) | 1; }
      } while (m < limit);
      length += m - limit;

      if (isRep === 0) {
        state = state < 7 ? 7 : 10;
        // The distance: a 6-bit slot (by length), then its low bits.
        tree = POS_SLOT + ((length < 5 ? length - 2 : 3) << 6);
        m = 1;
        do {
          i = tree + m;
          p = probs[i]!;
          if (range < TOP) { if (at === inEnd) throw ended(); range = (range << 8) >>> 0; code = ((code << 8) | input[at++]!) >>> 0; }
          bound = Math.imul(range >>> 11, p) >>> 0;
          if (code < bound) { range = bound; probs[i] = p + ((2048 - p) >>> 5); m <<= 1; }
          else { range = (range - bound) >>> 0; code = (code - bound) >>> 0; probs[i] = p - (p >>> 5); m = (m << 1) | 1; }
        } while (m < 64);
        const slot = m - 64;
        let distance = slot;
        if (slot >= 4) {
          const direct = (slot >>> 1) - 1;
          let reverseBits = direct;
          if (slot < END_POS_MODEL) {
            distance = (2 | (slot & 1)) << direct;
            tree = SPEC_POS + distance - slot - 1;
          } else {
            // Direct bits at probability 1/2, then the low 4 through the align tree.
            let high = 2 | (slot & 1);
            for (let k = direct - 4; k > 0; k--) {
              if (range < TOP) { if (at === inEnd) throw ended(); range = (range << 8) >>> 0; code = ((code << 8) | input[at++]!) >>> 0; }
              range >>>= 1;
              if (code >= range) { code = (code - range) >>> 0; high = (high << 1) | 1; }
              else high <<= 1;
            }
            distance = (high << 4) >>> 0;
            tree = ALIGN;
            reverseBits = 4;
          }
          m = 1;
          for (let k = 0; k < reverseBits; k++) {
            i = tree + m;
            p = probs[i]!;
            if (range < TOP) { if (at === inEnd) throw ended(); range = (range << 8) >>> 0; code = ((code << 8) | input[at++]!) >>> 0; }
            bound = Math.imul(range >>> 11, p) >>> 0;
            if (code < bound) { range = bound; probs[i] = p + ((2048 - p) >>> 5); m <<= 1; }
            else { range = (range - bound) >>> 0; code = (code - bound) >>> 0; probs[i] = p - (p >>> 5); m = (m << 1) | 1; distance = (distance + (1 << k)) >>> 0; }
          }
        }
        rep3 = rep2;
        rep2 = rep1;
        rep1 = rep0;
        rep0 = distance;
      } else {
        state = state < 7 ? 8 : 11;
      }

      // The copy: a span at a time, forward byte by byte within a span, so a match that overlaps
      // what it writes (distance < length) repeats its bytes as LZ77 means.
      if (rep0 >= full) throw new Error('lzma: distance past the dictionary');
      let count = Math.min(length, unpacked - n);
      n += count;
      while (count > 0) {
        if (pos === dict.length) {
          win.pos = pos;
          win.makeRoom();
          dict = win.dict;
          pos = win.pos;
        }
        let from = pos - rep0 - 1;
        if (from < 0) from += dict.length;
        const span = Math.min(count, dict.length - pos, dict.length - from);
        const stop = pos + span;
        while (pos < stop) dict[pos++] = dict[from++]!;
        full += span;
        if (full > dict.length) full = dict.length;
        count -= span;
      }
    }
    this.state = state;
    this.rep0 = rep0;
    this.rep1 = rep1;
    this.rep2 = rep2;
    this.rep3 = rep3;
    return win.finish(pos, full, n);
  }
}
