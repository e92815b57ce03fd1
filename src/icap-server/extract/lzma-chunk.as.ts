// AssemblyScript, compiled to WebAssembly by `npm run build:wasm` into lzma-chunk-wasm.ts (tsc
// does not read this file). The LZMA decoding loop for one LZMA2 chunk (the LZMA SDK's LzmaDec.c,
// whose structure this follows; xz's format documentation), driven by lzma-decoder.ts, which owns
// the memory's layout and the window's growth and wrap:
//   [0, INPUT)        the probabilities (u16), laid out as LzmaDec.c's
//   [INPUT, DICT)     the chunk's packed bytes (≤ 64 KiB)
//   [DICT, DICT+len)  the dictionary, grown by the caller up to its declared size, then a ring
// As LzmaDec.c does with its macros, the range coder and the window position live in locals of
// run(), saved in globals only when it returns, and every bit decode is written out in place (the
// same four lines: normalize, bound, then the 0 or 1 branch that updates the probability). The
// same loop with the range coder in globals and the bit, tree and reverse-tree decodes as @inline
// functions (AssemblyScript has no macros, and a function cannot write its caller's locals) was
// 1.2x slower: WebAssembly globals are memory, and each bit waits on the last one's range. Every
// decision normalizes first: a chunk's packed size counts exactly the bytes read that way.

const INPUT: usize = 32768;
const DICT: usize = 98304;
const TOP: u32 = 0x1000000;
const PROB_INIT: u16 = 1024;
const END_POS_MODEL: u32 = 14;

const IS_MATCH: u32 = 0;
const IS_REP: u32 = IS_MATCH + (12 << 4);
const IS_REP_G0: u32 = IS_REP + 12;
const IS_REP_G1: u32 = IS_REP_G0 + 12;
const IS_REP_G2: u32 = IS_REP_G1 + 12;
const IS_REP0_LONG: u32 = IS_REP_G2 + 12;
const POS_SLOT: u32 = IS_REP0_LONG + (12 << 4);
const SPEC_POS: u32 = POS_SLOT + (4 << 6);
const ALIGN: u32 = SPEC_POS + 128 - END_POS_MODEL;
// A length coder: two choices, then low and mid trees (8 symbols per pos state) and a high tree.
const LEN_CHOICE2: u32 = 1;
const LEN_LOW: u32 = 2;
const LEN_MID: u32 = LEN_LOW + (16 << 3);
const LEN_HIGH: u32 = LEN_MID + (16 << 3);
const LEN_CODER: u32 = ALIGN + 16;
const REP_LEN_CODER: u32 = LEN_CODER + LEN_HIGH + 256;
const LITERAL: u32 = REP_LEN_CODER + LEN_HIGH + 256;

/** What run() returns. */
const DONE: i32 = 0; // the chunk's unpacked bytes are all in the window
const ROOM: i32 = 1; // the window is full (pos == its length): the caller grows or wraps it, and calls again
const ENDED: i32 = -1; // the packed bytes ran out
const DISTANCE: i32 = -2; // a distance past the bytes in the dictionary

let lc: u32 = 3;
let lpMask: u32 = 0;
/** Probabilities in use (the literal coders' count depends on lc + lp). */
let probCount: u32 = LITERAL + (0x300 << 3);
let pbMask: u32 = 3;
let state: u32 = 0;
let rep0: u32 = 0;
let rep1: u32 = 0;
let rep2: u32 = 0;
let rep3: u32 = 0;
let range: u32 = 0;
let code: u32 = 0;
let at: u32 = 0;
let inEnd: u32 = 0;
let unpacked: u32 = 0;
let produced: u32 = 0;
let posBase: u32 = 0;
/** Bytes of a match still to copy when run() returned ROOM. */
let pending: u32 = 0;
let dictLen: u32 = 0;
let pos: u32 = 0;
let full: u32 = 0;

@inline function prob(i: u32): u32 {
  return <u32>load<u16>(<usize>i << 1);
}

@inline function setProb(i: u32, p: u32): void {
  store<u16>(<usize>i << 1, <u16>p);
}

@inline function byte(i: u32): u32 {
  return <u32>load<u8>(DICT + <usize>i);
}

/** lc, lp, pb, checked by the caller (lc + lp ≤ 4: the probabilities fit below INPUT). */
export function setProperties(newLc: u32, lp: u32, pb: u32): void {
  lc = newLc;
  lpMask = (1 << lp) - 1;
  pbMask = (1 << pb) - 1;
  probCount = LITERAL + (0x300 << (lc + lp));
}

export function resetState(): void {
  state = 0;
  rep0 = rep1 = rep2 = rep3 = 0;
  for (let i: u32 = 0; i < probCount; i++) setProb(i, PROB_INIT);
}

/** The window as the caller left it (grown, wrapped or reset). */
export function setWindow(length: u32, position: u32, history: u32): void {
  dictLen = length;
  pos = position;
  full = history;
}

export function windowPos(): u32 {
  return pos;
}

export function windowFull(): u32 {
  return full;
}

export function producedBytes(): u32 {
  return produced;
}

/** Starts a chunk of `packed` bytes (at INPUT) making `size` bytes; `position` is LZMA's (bytes since the dictionary reset). */
export function begin(packed: u32, size: u32, position: u32): bool {
  if (packed < 5 || load<u8>(INPUT) != 0) return false;
  range = 0xffffffff;
  code = bswap<u32>(load<u32>(INPUT + 1));
  at = 5;
  inEnd = packed;
  unpacked = size;
  produced = 0;
  posBase = position & 0xffff;
  pending = 0;
  return true;
}

/** Decodes until the chunk is done, the window is full, or the input is bad (DONE, ROOM, ENDED, DISTANCE). */
export function run(): i32 {
  let range_ = range;
  let code_ = code;
  let at_ = at;
  let pos_ = pos;
  let full_ = full;
  let state_ = state;
  let r0 = rep0;
  let r1 = rep1;
  let r2 = rep2;
  let r3 = rep3;
  let n = produced;
  let result = DONE;
  let i: u32, p: u32, bound: u32, bit: u32;
  let count = pending;
  // A match cut short by a full window goes on first.
  while (true) {
    if (count > 0) {
      if (pos_ == dictLen) { result = ROOM; break; }
      let from = pos_ - r0 - 1;
      if (<i32>from < 0) from += dictLen;
      let span = min(count, dictLen - pos_);
      span = min(span, dictLen - from);
      const stop = pos_ + span;
      // Forward byte by byte: a match that overlaps what it writes repeats its bytes as LZ77 means.
      while (pos_ < stop) store<u8>(DICT + <usize>(pos_++), load<u8>(DICT + <usize>(from++)));
      full_ = min(full_ + span, dictLen);
      count -= span;
      continue;
    }
    if (n >= unpacked) break;
    if (pos_ == dictLen) { result = ROOM; break; }
    const posState = (posBase + n) & pbMask;
    i = IS_MATCH + (state_ << 4) + posState;
    p = prob(i);
    if (range_ < TOP) { if (at_ == inEnd) { result = ENDED; break; } range_ <<= 8; code_ = (code_ << 8) | <u32>load<u8>(INPUT + <usize>(at_++)); }
    bound = (range_ >> 11) * p;
    if (code_ < bound) {
      range_ = bound;
      setProb(i, p + ((2048 - p) >> 5));
      // A literal: 8 bits through a tree picked by the previous byte and the position; after a
      // match, guided by the byte at rep0 while the bits agree (LzmaDec.c's matched literal).
      const prev = full_ > 0 ? byte(pos_ == 0 ? dictLen - 1 : pos_ - 1) : 0;
      const base = LITERAL + 0x300 * ((((posBase + n) & lpMask) << lc) + (prev >> (8 - lc)));
      let symbol: u32 = 1;
      if (state_ < 7) {
        do {
          i = base + symbol;
          p = prob(i);
          if (range_ < TOP) { if (at_ == inEnd) { result = ENDED; break; } range_ <<= 8; code_ = (code_ << 8) | <u32>load<u8>(INPUT + <usize>(at_++)); }
          bound = (range_ >> 11) * p;
          if (code_ < bound) { range_ = bound; setProb(i, p + ((2048 - p) >> 5)); symbol <<= 1; }
          else { range_ -= bound; code_ -= bound; setProb(i, p - (p >> 5)); symbol = (symbol << 1) | 1; }
        } while (symbol < 0x100);
      } else {
        let from = pos_ - r0 - 1;
        if (<i32>from < 0) from += dictLen;
        // From a corrupt stream (a dictionary reset without a state reset), rep0 may point anywhere: kept inside the window.
        let match = from < dictLen ? byte(from) : 0;
        // 0x100 while the decoded bits agree with the match byte's, then 0.
        let offs: u32 = 0x100;
        do {
          match <<= 1;
          const agreed = offs;
          offs &= match;
          i = base + offs + agreed + symbol;
          p = prob(i);
          if (range_ < TOP) { if (at_ == inEnd) { result = ENDED; break; } range_ <<= 8; code_ = (code_ << 8) | <u32>load<u8>(INPUT + <usize>(at_++)); }
          bound = (range_ >> 11) * p;
          if (code_ < bound) { range_ = bound; setProb(i, p + ((2048 - p) >> 5)); symbol <<= 1; offs ^= agreed; }
          else { range_ -= bound; code_ -= bound; setProb(i, p - (p >> 5)); symbol = (symbol << 1) | 1; }
        } while (symbol < 0x100);
      }
      if (result != DONE) break;
      store<u8>(DICT + <usize>(pos_++), <u8>symbol);
      if (full_ < dictLen) full_++;
      n++;
      state_ = state_ < 4 ? 0 : state_ < 10 ? state_ - 3 : state_ - 6;
      continue;
    }
    range_ -= bound;
    code_ -= bound;
    setProb(i, p - (p >> 5));

    // A match (new distance) or a repeat of one of the last four distances.
    i = IS_REP + state_;
    p = prob(i);
    if (range_ < TOP) { if (at_ == inEnd) { result = ENDED; break; } range_ <<= 8; code_ = (code_ << 8) | <u32>load<u8>(INPUT + <usize>(at_++)); }
    bound = (range_ >> 11) * p;
    if (code_ < bound) { range_ = bound; setProb(i, p + ((2048 - p) >> 5)); bit = 0; }
    else { range_ -= bound; code_ -= bound; setProb(i, p - (p >> 5)); bit = 1; }
    const isRep = bit;
    if (isRep) {
      i = IS_REP_G0 + state_;
      p = prob(i);
      if (range_ < TOP) { if (at_ == inEnd) { result = ENDED; break; } range_ <<= 8; code_ = (code_ << 8) | <u32>load<u8>(INPUT + <usize>(at_++)); }
      bound = (range_ >> 11) * p;
      if (code_ < bound) { range_ = bound; setProb(i, p + ((2048 - p) >> 5)); bit = 0; }
      else { range_ -= bound; code_ -= bound; setProb(i, p - (p >> 5)); bit = 1; }
      if (bit == 0) {
        i = IS_REP0_LONG + (state_ << 4) + posState;
        p = prob(i);
        if (range_ < TOP) { if (at_ == inEnd) { result = ENDED; break; } range_ <<= 8; code_ = (code_ << 8) | <u32>load<u8>(INPUT + <usize>(at_++)); }
        bound = (range_ >> 11) * p;
        if (code_ < bound) { range_ = bound; setProb(i, p + ((2048 - p) >> 5)); bit = 0; }
        else { range_ -= bound; code_ -= bound; setProb(i, p - (p >> 5)); bit = 1; }
        if (bit == 0) {
          // A short repeat: one byte from rep0 (room for it was checked above).
          if (r0 >= full_) { result = DISTANCE; break; }
          let from = pos_ - r0 - 1;
          if (<i32>from < 0) from += dictLen;
          store<u8>(DICT + <usize>(pos_++), load<u8>(DICT + <usize>from));
          if (full_ < dictLen) full_++;
          n++;
          state_ = state_ < 7 ? 9 : 11;
          continue;
        }
      } else {
        i = IS_REP_G1 + state_;
        p = prob(i);
        if (range_ < TOP) { if (at_ == inEnd) { result = ENDED; break; } range_ <<= 8; code_ = (code_ << 8) | <u32>load<u8>(INPUT + <usize>(at_++)); }
        bound = (range_ >> 11) * p;
        if (code_ < bound) { range_ = bound; setProb(i, p + ((2048 - p) >> 5)); bit = 0; }
        else { range_ -= bound; code_ -= bound; setProb(i, p - (p >> 5)); bit = 1; }
        let distance = r1;
        if (bit) {
          i = IS_REP_G2 + state_;
          p = prob(i);
          if (range_ < TOP) { if (at_ == inEnd) { result = ENDED; break; } range_ <<= 8; code_ = (code_ << 8) | <u32>load<u8>(INPUT + <usize>(at_++)); }
          bound = (range_ >> 11) * p;
          if (code_ < bound) { range_ = bound; setProb(i, p + ((2048 - p) >> 5)); distance = r2; }
          else { range_ -= bound; code_ -= bound; setProb(i, p - (p >> 5)); distance = r3; r3 = r2; }
          r2 = r1;
        }
        r1 = r0;
        r0 = distance;
      }
    }

    // The length (2..273): a choice of the low, mid or high tree of the match's length coder.
    const coder = isRep ? REP_LEN_CODER : LEN_CODER;
    i = coder;
    p = prob(i);
    if (range_ < TOP) { if (at_ == inEnd) { result = ENDED; break; } range_ <<= 8; code_ = (code_ << 8) | <u32>load<u8>(INPUT + <usize>(at_++)); }
    bound = (range_ >> 11) * p;
    if (code_ < bound) { range_ = bound; setProb(i, p + ((2048 - p) >> 5)); bit = 0; }
    else { range_ -= bound; code_ -= bound; setProb(i, p - (p >> 5)); bit = 1; }
    let tree = coder + LEN_LOW + (posState << 3);
    let limit: u32 = 8;
    let length: u32 = 2;
    if (bit) {
      i = coder + LEN_CHOICE2;
      p = prob(i);
      if (range_ < TOP) { if (at_ == inEnd) { result = ENDED; break; } range_ <<= 8; code_ = (code_ << 8) | <u32>load<u8>(INPUT + <usize>(at_++)); }
      bound = (range_ >> 11) * p;
      if (code_ < bound) { range_ = bound; setProb(i, p + ((2048 - p) >> 5)); tree = coder + LEN_MID + (posState << 3); length = 10; }
      else { range_ -= bound; code_ -= bound; setProb(i, p - (p >> 5)); tree = coder + LEN_HIGH; limit = 256; length = 18; }
    }
    let m: u32 = 1;
    do {
      i = tree + m;
      p = prob(i);
      if (range_ < TOP) { if (at_ == inEnd) { result = ENDED; break; } range_ <<= 8; code_ = (code_ << 8) | <u32>load<u8>(INPUT + <usize>(at_++)); }
      bound = (range_ >> 11) * p;
      if (code_ < bound) { range_ = bound; setProb(i, p + ((2048 - p) >> 5)); m <<= 1; }
      else { range_ -= bound; code_ -= bound; setProb(i, p - (p >> 5)); m = (m << 1) | 1; }
    } while (m < limit);
    if (result != DONE) break;
    length += m - limit;

    if (!isRep) {
      state_ = state_ < 7 ? 7 : 10;
      // The distance: a 6-bit slot (by length), then its low bits.
      tree = POS_SLOT + ((length < 5 ? length - 2 : 3) << 6);
      m = 1;
      do {
        i = tree + m;
        p = prob(i);
        if (range_ < TOP) { if (at_ == inEnd) { result = ENDED; break; } range_ <<= 8; code_ = (code_ << 8) | <u32>load<u8>(INPUT + <usize>(at_++)); }
        bound = (range_ >> 11) * p;
        if (code_ < bound) { range_ = bound; setProb(i, p + ((2048 - p) >> 5)); m <<= 1; }
        else { range_ -= bound; code_ -= bound; setProb(i, p - (p >> 5)); m = (m << 1) | 1; }
      } while (m < 64);
      if (result != DONE) break;
      const slot = m - 64;
      let distance = slot;
      if (slot >= 4) {
        const direct = (slot >> 1) - 1;
        let reverseBits = direct;
        if (slot < END_POS_MODEL) {
          distance = (2 | (slot & 1)) << direct;
          tree = SPEC_POS + distance - slot - 1;
        } else {
          // Direct bits at probability 1/2, then the low 4 through the align tree.
          let high = 2 | (slot & 1);
          for (let k = direct - 4; k > 0; k--) {
            if (range_ < TOP) { if (at_ == inEnd) { result = ENDED; break; } range_ <<= 8; code_ = (code_ << 8) | <u32>load<u8>(INPUT + <usize>(at_++)); }
            range_ >>= 1;
            if (code_ >= range_) { code_ -= range_; high = (high << 1) | 1; }
            else high <<= 1;
          }
          if (result != DONE) break;
          distance = high << 4;
          tree = ALIGN;
          reverseBits = 4;
        }
        m = 1;
        for (let k: u32 = 0; k < reverseBits; k++) {
          i = tree + m;
          p = prob(i);
          if (range_ < TOP) { if (at_ == inEnd) { result = ENDED; break; } range_ <<= 8; code_ = (code_ << 8) | <u32>load<u8>(INPUT + <usize>(at_++)); }
          bound = (range_ >> 11) * p;
          if (code_ < bound) { range_ = bound; setProb(i, p + ((2048 - p) >> 5)); m <<= 1; }
          else { range_ -= bound; code_ -= bound; setProb(i, p - (p >> 5)); m = (m << 1) | 1; distance += 1 << k; }
        }
        if (result != DONE) break;
      }
      r3 = r2;
      r2 = r1;
      r1 = r0;
      r0 = distance;
    } else {
      state_ = state_ < 7 ? 8 : 11;
    }
    if (r0 >= full_) { result = DISTANCE; break; }
    count = min(length, unpacked - n);
    n += count;
  }
  range = range_;
  code = code_;
  at = at_;
  pos = pos_;
  full = full_;
  state = state_;
  rep0 = r0;
  rep1 = r1;
  rep2 = r2;
  rep3 = r3;
  produced = n;
  pending = count;
  return result;
}
