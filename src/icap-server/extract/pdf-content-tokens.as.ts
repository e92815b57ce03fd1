// AssemblyScript, compiled to WebAssembly by `npm run build:wasm` into pdf-content-tokens-wasm.ts
// (tsc does not read this file). A PDF content stream (ISO 32000-1 §7.2, §7.3, §9.4) read from its
// bytes as ContentTextParser (pdf-content.ts) reads it: tokens, strings decoded to their byte
// codes (§7.3.4.2 literal, §7.3.4.3 hex), operands kept as it keeps them, and what its text
// operators do (a font named, codes shown, a line or word break) written as records for the
// parser to hand to ShownText. It reads from a commit point, the end of an operator, where the
// parser holds no operand, and stops at the last one before anything it does not read: a token
// the input cuts, a number of more than fifteen digits (the parser reads it with Number()); and
// after the operator `ID`, whose inline image the parser skips.

import { at, buildClasses, classOf, decoded, hexString, literalString, n, numberAt, setInput, stringEnd, tooLong } from './pdf-content-bytes.as';

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
