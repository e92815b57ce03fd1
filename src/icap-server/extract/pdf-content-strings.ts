// The operands of a content stream read from its bytes (ISO 32000-1 §7.3.3, §7.3.4): strings
// decoded straight to their byte codes, numbers read in place. A TJ array holds a string and a
// number every few bytes, so these loops are most of what reading a content stream costs: each
// decodes as it searches for the string's end rather than searching first.
import type { CodeBuffer } from './pdf-shown-text.js';
import { ESCAPED, HEX_VALUE } from './pdf-syntax.js';

/** The byte two hex digits stand for, by their two character codes (first << 8 | second); -1 unless both are digits. */
const HEX_PAIR = new Int16Array(0x10000).fill(-1);
for (let a = 0; a < 256; a++) {
  for (let b = 0; b < 256; b++) {
    if ((HEX_VALUE[a] as number) >= 0 && (HEX_VALUE[b] as number) >= 0) HEX_PAIR[(a << 8) | b] = ((HEX_VALUE[a] as number) << 4) | (HEX_VALUE[b] as number);
  }
}

/**
 * The hex string from b[from] (after its `<`) decoded to `out` (§7.3.4.3: white space and other
 * characters ignored, a missing last digit is 0): the index after its `>`, or -1 when `b` ends
 * first (`out` then holds what `b` had of it).
 */
export function readHexString(b: Uint8Array, from: number, out: CodeBuffer): number {
  const len = b.length;
  let bytes = out.bytes;
  let n = out.length;
  let high = -1;
  let i = from;
  while (i < len) {
    if (n === bytes.length) bytes = out.room(n, 1);
    if (high < 0 && i + 1 < len) {
      const pair = HEX_PAIR[((b[i] as number) << 8) | (b[i + 1] as number)] as number;
      if (pair >= 0) {
        bytes[n++] = pair;
        i += 2;
        continue;
      }
    }
    const c = b[i++] as number;
    if (c === 0x3e) {
      if (high >= 0) bytes[n++] = high << 4;
      out.length = n;
      return i;
    }
    const v = HEX_VALUE[c] as number;
    if (v < 0) continue;
    if (high < 0) high = v;
    else {
      bytes[n++] = (high << 4) | v;
      high = -1;
    }
  }
  // What a long string shows as it comes ends here (the digits are even unless it is the last of them).
  if (high >= 0) out.room(n, 1)[n++] = high << 4;
  out.length = n;
  return -1;
}

/** Hex digits in b[from, to), and where the last one is. */
export function hexDigits(b: Uint8Array, from: number, to: number): { count: number; last: number } {
  let count = 0;
  let last = -1;
  for (let k = from; k < to; k++) {
    if ((HEX_VALUE[b[k] as number] as number) >= 0) {
      count++;
      last = k;
    }
  }
  return { count, last };
}

/** The literal string from b[from] (after its `(`) decoded to `out`: the index after its `)`, or -1 when `b` ends first. */
export function readLiteralString(b: Uint8Array, from: number, out: CodeBuffer): number {
  const len = b.length;
  let bytes = out.bytes;
  let n = out.length;
  // Most strings hold no escape and no parenthesis: they are copied as they are searched.
  for (let i = from; i < len; i++) {
    const c = b[i] as number;
    if (c === 0x29) {
      out.length = n;
      return i + 1;
    }
    if (c === 0x5c || c === 0x28) {
      out.length = n;
      const end = readLiteralPart(b, i, 1, out);
      return part.depth === 0 ? end : -1;
    }
    if (n === bytes.length) bytes = out.room(n, 1);
    bytes[n++] = c;
  }
  return -1;
}

/** Where readLiteralPart left the string: its parenthesis depth (0: closed). */
export const part = { depth: 0 };

/**
 * A literal string's bytes from `from`, where it is `depth` parentheses deep, as far as `b` goes
 * (§7.3.4.2), decoded to `out`: where it stopped (after its `)` when the depth came to 0, else
 * the end of `b` or an escape that `b` cuts), the depth left in `part.depth`.
 */
export function readLiteralPart(b: Uint8Array, from: number, depth: number, out: CodeBuffer): number {
  const len = b.length;
  let n = out.length;
  const bytes = out.room(n, len - from);
  let i = from;
  while (i < len) {
    const c = b[i] as number;
    if (c === 0x5c) {
      if (i + 1 >= len) break;
      const e = b[i + 1] as number;
      const escaped = ESCAPED[e] as number;
      if (escaped >= 0) {
        bytes[n++] = escaped;
        i += 2;
      } else if (e === 0x0d || e === 0x0a) {
        // A backslash before an end of line continues the string on the next line.
        if (e === 0x0d && i + 2 >= len) break;
        i += e === 0x0d && b[i + 2] === 0x0a ? 3 : 2;
      } else {
        let k = i + 1;
        let value = 0;
        for (; k < i + 4 && k < len && (b[k] as number) >= 0x30 && (b[k] as number) <= 0x37; k++) value = value * 8 + (b[k] as number) - 0x30;
        // An octal escape the end of `b` may cut waits for the rest.
        if (k >= len && k - i - 1 < 3) break;
        bytes[n++] = value & 0xff;
        i = k;
      }
      continue;
    }
    if (c === 0x28) depth++;
    else if (c === 0x29 && --depth === 0) {
      i++;
      break;
    }
    bytes[n++] = c;
    i++;
  }
  out.length = n;
  part.depth = depth;
  return i;
}

/**
 * The number b[from, to) is (§7.3.3: an optional sign, digits, at most one period, no exponent),
 * NaN when it is something else. Digits only up to 15 are summed here (exactly); longer ones go
 * through Number().
 */
export function numberAt(b: Uint8Array, from: number, to: number): number {
  let i = from;
  const sign = b[i];
  if (sign === 0x2b || sign === 0x2d) i++;
  let value = 0;
  let scale = 0;
  let digits = 0;
  for (; i < to; i++) {
    const c = b[i] as number;
    if (c >= 0x30 && c <= 0x39) {
      value = value * 10 + (c - 0x30);
      digits++;
      if (scale > 0) scale *= 10;
    } else if (c === 0x2e && scale === 0) scale = 1;
    else return Number.NaN;
  }
  if (digits === 0) return Number.NaN;
  if (digits > 15) return Number(Buffer.from(b.buffer, b.byteOffset + from, to - from).toString('latin1'));
  const unsigned = scale > 1 ? value / scale : value;
  return sign === 0x2d ? -unsigned : unsigned;
}
