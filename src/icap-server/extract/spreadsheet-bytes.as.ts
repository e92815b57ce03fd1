// AssemblyScript (part of the spreadsheet-scan.as.ts kernel): reading XML bytes in place, as
// xml-tokenizer.ts reads the characters they decode to: a tag's local name and end, text checked
// for what the tokenizer and the UTF-8 decoder would change.

import { address, at, find, GT, LT, SLASH } from './xml-bytes.as';

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
export function textLength(from: i32, to: i32): i32 {
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
 */
export function readTag(from: i32): i32 {
  const gt = find(from, <u8>GT);
  if (gt < 0) return -1;
  let doubles: i32 = 0;
  let name = from;
  let nameEnd = -1;
  for (let k = from; k < gt; k++) {
    const c = at(k);
    if (c == QUOTE) doubles++;
    else if (c == APOS) return -2;
    if (nameEnd < 0) {
      if (c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d || c == SLASH) nameEnd = k;
      else if (c == 0x3a) name = k + 1;
    }
  }
  if (doubles & 1) return -2;
  tagName = name;
  tagNameEnd = nameEnd < 0 ? gt : nameEnd;
  return gt;
}

/** The end of the processing instruction (XML 1.0 §2.6) at `lt`, past its `?>`, or -1 when it is not all there. */
export function instructionEnd(lt: i32): i32 {
  let q = find(lt + 2, <u8>0x3f);
  while (q >= 0 && at(q + 1) != GT) q = find(q + 1, <u8>0x3f);
  return q < 0 ? -1 : q + 2;
}
