// AssemblyScript (part of the spreadsheet-scan.as.ts kernel): reading XML bytes in place, as
// xml-tokenizer.ts reads the characters they decode to: a tag's local name and end, text checked
// for what the tokenizer and the UTF-8 decoder would change.

import { address, at, find, GT, inputLength, LT, SLASH } from './xml-bytes.as';

export const QUOTE: u32 = 0x22;
export const APOS: u32 = 0x27;
export const AMP: u32 = 0x26;

/** Why a kernel stopped (result[0]). */
export const MORE: i32 = 0; // at the end of the input: the rest from the commit point comes with the next chunk
export const OTHER: i32 = 1; // at something it does not read: the rest goes to the JavaScript readers
export const FULL: i32 = 2; // the output is full: called again from the commit point

/** Whether the input's [from, to) holds `c`. */
export function holds(from: i32, to: i32, c: u32): bool {
  for (let k = from; k < to; k++) if (at(k) == c) return true;
  return false;
}

@inline function continuation(i: i32): bool {
  return at(i) - 0x80 < 0x40;
}

/**
 * The UTF-16 length of the valid UTF-8 in [from, to), or -1 when it holds invalid UTF-8 (which
 * the decoder would replace) or a `&` (an entity the tokenizer would decode).
 */
@inline export function textLength(from: i32, to: i32): i32 {
  let odd: u32 = 0;
  for (let k = from; k < to; k += 16) {
    const v = v128.load(address(k));
    let mask = <u32>i8x16.bitmask(v128.or(i8x16.eq(v, i8x16.splat(<i8>AMP)), i8x16.lt_s(v, i8x16.splat(0))));
    if (to - k < 16) mask &= (<u32>1 << <u32>(to - k)) - 1;
    odd |= mask;
  }
  if (odd == 0) return to - from;
  if (holds(from, to, AMP)) return -1;
  let length: i32 = 0;
  let k = from;
  while (k < to) {
    const c = at(k);
    let size: i32 = 1;
    if (c >= 0x80) {
      if (c < 0xc2 || c > 0xf4) return -1;
      size = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
      if (k + size > to) return -1;
      const c1 = at(k + 1);
      // The second byte's range (Unicode 15 Table 3-7): no overlong form, surrogate or code point past U+10FFFF.
      const low: u32 = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : 0x80;
      const high: u32 = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : 0xbf;
      if (c1 < low || c1 > high) return -1;
      if (size > 2 && !continuation(k + 2)) return -1;
      if (size > 3 && !continuation(k + 3)) return -1;
      if (size == 4) length++;
    }
    length++;
    k += size;
  }
  return length;
}

/** The local name of the last tag read: [tagName, tagNameEnd). */
export let tagName: i32 = 0;
export let tagNameEnd: i32 = 0;

/**
 * The `>` that ends the tag whose name starts at `from`, as readTag of xml-tokenizer.ts finds it
 * when the tag's quotes are double and closed (the first `>`); -1 when there is none yet, -2 for
 * a tag with a single quote or an unclosed double one (the tokenizer's regular expression).
 * Sixteen bytes a step, each kind of byte a mask (a byte at a time was a fifth of a sheet's
 * scan): the zeros after the input match none of them.
 */
export function readTag(from: i32): i32 {
  const end = inputLength();
  let doubles: i32 = 0;
  let apos = false;
  let name = from;
  let nameEnd = -1;
  for (let k = from; k < end; k += 16) {
    const v = v128.load(address(k));
    const gts = mask(v, GT);
    // The bytes of the block before the first `>`.
    const before: u32 = gts != 0 ? (gts & (0 - gts)) - 1 : 0xffff;
    doubles += <i32>popcnt(mask(v, QUOTE) & before);
    if ((mask(v, APOS) & before) != 0) apos = true;
    if (nameEnd < 0) {
      const space = v128.or(v128.or(i8x16.eq(v, i8x16.splat(0x20)), i8x16.eq(v, i8x16.splat(0x09))), v128.or(i8x16.eq(v, i8x16.splat(0x0a)), i8x16.eq(v, i8x16.splat(0x0d))));
      const enders = <u32>i8x16.bitmask(v128.or(space, i8x16.eq(v, i8x16.splat(<i8>SLASH)))) & before;
      let colons = mask(v, 0x3a) & before;
      if (enders != 0) {
        const e = ctz(enders);
        nameEnd = k + <i32>e;
        colons &= (<u32>1 << e) - 1;
      }
      // A prefix ends at the last colon before the name's end.
      if (colons != 0) name = k + 32 - <i32>clz(colons);
    }
    if (gts != 0) {
      if (apos || (doubles & 1) != 0) return -2;
      const gt = k + <i32>ctz(gts);
      tagName = name;
      tagNameEnd = nameEnd < 0 ? gt : nameEnd;
      return gt;
    }
  }
  return -1;
}

/** The bytes of `v` that are `c`, as bits. */
@inline function mask(v: v128, c: u32): u32 {
  return <u32>i8x16.bitmask(i8x16.eq(v, i8x16.splat(<i8>c)));
}

/** The end of the processing instruction (XML 1.0 §2.6) at `lt`, past its `?>`, or -1 when it is not all there. */
export function instructionEnd(lt: i32): i32 {
  let q = find(lt + 2, <u8>0x3f);
  while (q >= 0 && at(q + 1) != GT) q = find(q + 1, <u8>0x3f);
  return q < 0 ? -1 : q + 2;
}
