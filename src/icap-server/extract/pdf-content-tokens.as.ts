// AssemblyScript, compiled to WebAssembly by `npm run build:wasm` into pdf-content-tokens-wasm.ts
// (tsc does not read this file). A PDF content stream (ISO 32000-1 §7.2, §7.3, §9.4) read from its
// bytes as ContentTextParser (pdf-content.ts) reads it: tokens, strings decoded to their byte
// codes (§7.3.4.2 literal, §7.3.4.3 hex), operands kept as it keeps them, and what its text
// operators do (a font named, codes shown, a line or word break) written as records for the
// parser to hand to ShownText. It reads from a commit point, the end of an operator, where the
// parser holds no operand, and stops at the last one before anything it does not read: a token
// the input cuts, a number of more than fifteen digits (the parser reads it with Number()); and
// after the operator `ID`, whose inline image the parser skips.

import { at, buildClasses, classOf, decoded, hexString, input, literalString, n, numberAt, setInput, stringEnd, tooLong } from './pdf-content-bytes.as';

// The held codes' decoder (pdf-codes.ts) is an export of this module too, run in an instance of its own.
export { decode } from './pdf-codes.as';

// Operand kinds, as pdf-content.ts numbers them.
const NUMBER: i32 = 1;
const STRING: i32 = 2;
const NAME: i32 = 3;
const ARRAY: i32 = 4;
const MAX_OPERANDS: i32 = 16;
const GAP: i32 = -1;
/** Separators (pdf-shown-text.ts). */
const NEW_LINE: i32 = -1;
const WORD_GAP: i32 = -2;
/** Records: a font named (input [a, b)), codes shown (out [a, b)), a separator (a). */
const FONT: i32 = 1;
const SHOW: i32 = 2;
const SEPARATOR: i32 = 3;
/** Why a call stopped (result[0]). */
const CUT: i32 = 0;
const INLINE_IMAGE: i32 = 1;
const OTHER: i32 = 2;

// The parser's state (ContentTextParser): operands (kinds, numbers, names' places) in the
// caller's memory at `operands`, the last operand's codes at `scratch`, array items at `items`.
let operands: usize = 0;
let scratch: usize = 0;
let items: usize = 0;
let count: i32 = 0;
let depth: i32 = 0;
let codes: i32 = 0;
let itemCount: i32 = 0;
let levelCodes: i32 = 0;
let levelItems: i32 = 0;
let lastY: f64 = 0;
let hasLastY = false;
// The output.
let out: usize = 0;
let written: i32 = 0;
let records: usize = 0;
let recordCount: i32 = 0;

@inline function kindAt(k: i32): i32 {
  return load<i32>(operands + (<usize>k << 2));
}

@inline function numberOf(k: i32): f64 {
  return load<f64>(operands + 64 + (<usize>k << 3));
}

function record(kind: i32, a: i32, b: i32): void {
  const at = records + <usize>recordCount * 12;
  store<i32>(at, kind);
  store<i32>(at + 4, a);
  store<i32>(at + 8, b);
  recordCount++;
}

/** scratch[from, to) shown: copied out. */
function show(from: i32, to: i32): void {
  memory.copy(out + <usize>written, scratch + <usize>from, <usize>(to - from));
  record(SHOW, written, written + to - from);
  written += to - from;
}

function operand(kind: i32, value: f64, nameAt: i32, nameEnd: i32): void {
  if (kind == NUMBER || kind == NAME) {
    codes = 0;
    itemCount = 0;
  }
  if (count == MAX_OPERANDS) {
    memory.copy(operands, operands + 4, 60);
    memory.copy(operands + 64, operands + 72, 120);
    memory.copy(operands + 192, operands + 196, 60);
    memory.copy(operands + 256, operands + 260, 60);
    count--;
  }
  store<i32>(operands + (<usize>count << 2), kind);
  store<f64>(operands + 64 + (<usize>count << 3), value);
  store<i32>(operands + 192 + (<usize>count << 2), nameAt);
  store<i32>(operands + 256 + (<usize>count << 2), nameEnd);
  count++;
}

@inline function item(value: i32): void {
  store<i32>(items + (<usize>itemCount << 2), value);
  itemCount++;
}

/** A string decoded to scratch[start, codes): pushString of pdf-content.ts. */
function pushString(start: i32): void {
  if (depth == 0) {
    memory.copy(scratch, scratch + <usize>start, <usize>(codes - start));
    codes -= start;
    itemCount = 0;
    operand(STRING, 0, 0, 0);
  } else if (depth == 1) item(codes);
  else codes = start;
}

function closeArray(): void {
  if (depth > 1) {
    depth--;
    return;
  }
  const shift = depth == 0 ? codes : levelCodes;
  const firstItem = depth == 0 ? itemCount : levelItems;
  memory.copy(scratch, scratch + <usize>shift, <usize>(codes - shift));
  codes -= shift;
  memory.copy(items, items + (<usize>firstItem << 2), <usize>(itemCount - firstItem) << 2);
  itemCount -= firstItem;
  for (let k: i32 = 0; k < itemCount; k++) {
    const at = items + (<usize>k << 2);
    const v = load<i32>(at);
    if (v != GAP) store<i32>(at, v - shift);
  }
  depth = 0;
  operand(ARRAY, 0, 0, 0);
}

/**
 * The items of an outermost array from `from`, read as the loop of content() reads them but in a
 * loop of their own, its state in locals: white space, strings and numbers (a TJ array is most of
 * a content stream: hex strings of a few codes, kerning numbers between them). A hex string of
 * fewer than 32 digits, all digits up to its `>` after an even count of them, is decoded here from
 * two sixteen-byte loads (no loop: its length does not decide a branch), a number of one to nine
 * digits (and a sign) read as an integer; anything else about them goes to hexString and numberAt
 * as before. Returns where it stopped: at the array's end, or at anything
 * else (a name, an operator, a nested array or dictionary, a comment, a token the input cuts, a
 * number of more than fifteen digits), which content() then reads as before.
 */
function arrayItems(from: i32): i32 {
  const base = input;
  const end = n;
  const itemsAt = items;
  const out = scratch;
  let i = from;
  let w = codes;
  let k = itemCount;
  while (i < end) {
    const c = <u32>load<u8>(base + <usize>i);
    if (c == 0x20) {
      i++;
      continue;
    }
    if (c == 0x3c) {
      // Thirty-two bytes at once: most strings of a TJ array end within them. Bytes past the
      // input's 16 zero bytes may be loaded (memory of the call's other areas) but decide nothing:
      // the zero byte at its end is no digit, so the digits end at or before it.
      const j = i + 1;
      const v0 = v128.load(base + <usize>j);
      const v1 = v128.load(base + <usize>j, 16);
      const d0 = i8x16.sub(v0, i8x16.splat(0x30));
      const d1 = i8x16.sub(v1, i8x16.splat(0x30));
      const l0 = i8x16.sub(v128.or(v0, i8x16.splat(0x20)), i8x16.splat(0x61));
      const l1 = i8x16.sub(v128.or(v1, i8x16.splat(0x20)), i8x16.splat(0x61));
      const isDigit0 = i8x16.lt_u(d0, i8x16.splat(10));
      const isDigit1 = i8x16.lt_u(d1, i8x16.splat(10));
      const digits = <u32>i8x16.bitmask(v128.or(isDigit0, i8x16.lt_u(l0, i8x16.splat(6)))) | (<u32>i8x16.bitmask(v128.or(isDigit1, i8x16.lt_u(l1, i8x16.splat(6)))) << 16);
      const t = <i32>ctz(~digits);
      const closed = t < 32 && (t & 1) == 0 && j + t < end && at(j + t) == 0x3e;
      if (closed || t == 32) {
        // Each pair of nibbles, first and second digit, as one u16 lane: (first << 4) | second.
        const n0 = v128.bitselect(d0, i8x16.add(l0, i8x16.splat(10)), isDigit0);
        const n1 = v128.bitselect(d1, i8x16.add(l1, i8x16.splat(10)), isDigit1);
        const p0 = v128.or(i16x8.shl(v128.and(n0, i16x8.splat(0xff)), 4), i16x8.shr_u(n0, 8));
        const p1 = v128.or(i16x8.shl(v128.and(n1, i16x8.splat(0xff)), 4), i16x8.shr_u(n1, 8));
        v128.store(out + <usize>w, i8x16.narrow_i16x8_u(p0, p1));
      }
      if (closed) {
        w += t >> 1;
        i = j + t + 1;
      } else if (t == 32) {
        // Thirty-two digits (sixteen codes) and more: hexString reads on from them as it would
        // have read them (an even count of digits, nothing between them).
        if (!hexString(j + 32, out + <usize>(w + 16))) break;
        w += 16 + decoded;
        i = stringEnd;
      } else {
        if (at(j) == 0x3c || !hexString(j, out + <usize>w)) break;
        w += decoded;
        i = stringEnd;
      }
    } else if (c == 0x2d || c - 0x30 < 10 || c == 0x2b || c == 0x2e) {
      let j = c == 0x2d || c == 0x2b ? i + 1 : i;
      const first = j;
      let value: i32 = 0;
      let d = <u32>load<u8>(base + <usize>j) - 0x30;
      while (d < 10 && j - first < 9) {
        value = value * 10 + <i32>d;
        j++;
        d = <u32>load<u8>(base + <usize>j) - 0x30;
      }
      if (j > first && j < end && classOf(<u32>load<u8>(base + <usize>j)) != 0) {
        if (c == 0x2d && value > 200) {
          store<i32>(itemsAt + (<usize>k << 2), GAP);
          k++;
        }
        i = j;
        continue;
      }
      let e = i + 1;
      while (e < end && classOf(at(e)) == 0) e++;
      if (e == end) break;
      const number = numberAt(i, e);
      if (tooLong || isNaN(number)) break;
      if (number < -200) {
        store<i32>(itemsAt + (<usize>k << 2), GAP);
        k++;
      }
      i = e;
      continue;
    } else if (c == 0x28) {
      if (!literalString(i + 1, out + <usize>w)) break;
      w += decoded;
      i = stringEnd;
    } else if (classOf(c) == 2) {
      i++;
      continue;
    } else break;
    store<i32>(itemsAt + (<usize>k << 2), w);
    k++;
  }
  codes = w;
  itemCount = k;
  return i;
}

/** TJ: showArray of pdf-content.ts. */
function showArray(count: i32): void {
  let from: i32 = 0;
  let to: i32 = -1;
  for (let k: i32 = 0; k <= count; k++) {
    const v = k < count ? load<i32>(items + (<usize>k << 2)) : GAP;
    if (v != GAP) to = v;
    else {
      if (to >= 0) show(from, to);
      if (k < count) record(SEPARATOR, WORD_GAP, 0);
      from = max(from, to);
      to = -1;
    }
  }
}

/** The operator input[from, to): operator() of pdf-content.ts; true for `ID`. */
function operator(from: i32, to: i32): bool {
  const c0 = <i32>at(from);
  const c1: i32 = to - from == 2 ? <i32>at(from + 1) : -1;
  const last = count > 0 ? kindAt(count - 1) : 0;
  const codesEnd = depth > 0 ? levelCodes : codes;
  let inline = false;
  if (c0 == 0x54 && c1 != -1) {
    if (c1 == 0x66) {
      let k: i32 = 0;
      while (k < count && kindAt(k) != NAME) k++;
      if (k < count) record(FONT, load<i32>(operands + 192 + (<usize>k << 2)), load<i32>(operands + 256 + (<usize>k << 2)));
    } else if (c1 == 0x6a) {
      if (last == STRING) show(0, codesEnd);
    } else if (c1 == 0x4a) {
      if (last == ARRAY) showArray(depth > 0 ? levelItems : itemCount);
    } else if (c1 == 0x64 || c1 == 0x44) {
      record(SEPARATOR, count > 1 && kindAt(1) == NUMBER && numberOf(1) != 0 ? NEW_LINE : WORD_GAP, 0);
    } else if (c1 == 0x2a) {
      record(SEPARATOR, NEW_LINE, 0);
    } else if (c1 == 0x6d) {
      const known = count > 5 && kindAt(5) == NUMBER;
      const y = known ? numberOf(5) : 0;
      record(SEPARATOR, known && hasLastY && y == lastY ? WORD_GAP : NEW_LINE, 0);
      if (known) {
        lastY = y;
        hasLastY = true;
      }
    }
  } else if (to - from == 1 && (c0 == 0x27 || c0 == 0x22)) {
    record(SEPARATOR, NEW_LINE, 0);
    if (last == STRING) show(0, codesEnd);
  } else if (c0 == 0x49 && c1 == 0x44) inline = true;
  count = 0;
  depth = 0;
  codes = 0;
  itemCount = 0;
  return inline;
}

/**
 * Reads the `length` bytes at `address` (16 zero bytes after them) from a commit point. `state`
 * holds 576 bytes of the kernel's own (operands, byte classes); `scratch` and `output` room for
 * as many bytes as the input and 16, `itemArea` for an i32 per input byte, `recordArea` for three
 * i32 per input byte. `result`: the last Tm's y (f64 at 16) and whether there is one (i32 at 24)
 * in and out; out, why it stopped, the commit point, and the records written (i32 at 0, 4, 8).
 */
export function content(address: usize, length: i32, state: usize, scratchArea: usize, itemArea: usize, output: usize, recordArea: usize, result: usize): void {
  setInput(address, length);
  operands = state;
  buildClasses(state + 320);
  scratch = scratchArea;
  items = itemArea;
  out = output;
  records = recordArea;
  count = 0;
  depth = 0;
  codes = 0;
  itemCount = 0;
  written = 0;
  recordCount = 0;
  lastY = load<f64>(result + 16);
  hasLastY = load<i32>(result + 24) != 0;
  let doneLastY = lastY;
  let doneHasLastY = hasLastY;
  let stop = CUT;
  let done: i32 = 0;
  let i: i32 = 0;
  while (i < n) {
    const c = at(i);
    const cls = classOf(c);
    if (cls == 2) {
      i++;
      continue;
    }
    if (c == 0x28 || (c == 0x3c && at(i + 1) != 0x3c)) {
      const start = codes;
      if (!(c == 0x28 ? literalString(i + 1, scratch + <usize>codes) : hexString(i + 1, scratch + <usize>codes))) break;
      codes += decoded;
      pushString(start);
      i = stringEnd;
    } else if (c == 0x3c || c == 0x5b) {
      if (depth++ == 0) {
        levelCodes = codes;
        levelItems = itemCount;
      }
      i += c == 0x3c ? 2 : 1;
      if (depth == 1 && c == 0x5b) i = arrayItems(i);
    } else if (c == 0x3e && at(i + 1) == 0x3e) {
      if (depth == 1) {
        codes = levelCodes;
        itemCount = levelItems;
      }
      if (depth > 0) depth--;
      i += 2;
    } else if (c == 0x5d) {
      closeArray();
      i++;
    } else if (c == 0x25) {
      let eol = i + 1;
      while (eol < n && at(eol) != 0x0a && at(eol) != 0x0d) eol++;
      if (eol == n) break;
      i = eol;
    } else {
      let end = i + 1;
      while (end < n && classOf(at(end)) == 0) end++;
      if (end == n) break;
      const value = c == 0x2b || c == 0x2d || c == 0x2e || c - 0x30 < 10 ? numberAt(i, end) : NaN;
      if (tooLong) {
        stop = OTHER;
        break;
      }
      if (!isNaN(value)) {
        if (depth == 1 && value < -200) item(GAP);
        else if (depth == 0) operand(NUMBER, value, 0, 0);
      } else if (c == 0x2f) {
        if (depth == 0) operand(NAME, 0, i + 1, end);
      } else {
        const inline = operator(i, end);
        i = end;
        done = i;
        doneLastY = lastY;
        doneHasLastY = hasLastY;
        if (inline) {
          stop = INLINE_IMAGE;
          break;
        }
        continue;
      }
      i = end;
    }
  }
  store<i32>(result, stop);
  store<i32>(result + 4, done);
  store<i32>(result + 8, recordCount);
  store<i32>(result + 12, written);
  store<f64>(result + 16, doneLastY);
  store<i32>(result + 24, doneHasLastY ? 1 : 0);
}
