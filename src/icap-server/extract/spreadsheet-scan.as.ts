// AssemblyScript with 128-bit SIMD, compiled to WebAssembly by `npm run build:wasm` into
// spreadsheet-scan-wasm.ts (tsc does not read this file). A worksheet's rows (ECMA-376 Part 1
// §18.3.1.73 row, §18.3.1.4 c, §18.3.1.96 v, §18.4.12 t) read from its UTF-8 bytes where they
// stand, as SheetHandler (spreadsheet-cells.ts) reads them after xml-tokenizer.ts: each row a TSV
// line, a shared string's index a hole in it. It reads only what it reads exactly as they do, and
// stops at anything else (an entity, CDATA or a comment, a formula, a page header, a validation
// list, invalid UTF-8, single quotes, a value outside a cell...): spreadsheet-scan.ts hands the
// part from the last commit point on to them for good. A commit point is the end of a tag read
// outside any cell with no cell of an unfinished row before it: there the handler's state is its
// row's start, and its last cell (which a stray `</c>` would add again).

import { AMP, APOS, FULL, holds, instructionEnd, MORE, OTHER, QUOTE, readTag, tagName, tagNameEnd, textLength } from './spreadsheet-bytes.as';
import { address, at, copy, find, GT, LT, setInput, SLASH, startsWith } from './xml-bytes.as';

// The module's other export: the shared string table, read the same way.
export { strings } from './spreadsheet-strings.as';

const TAB: u32 = 0x09;
const NL: u32 = 0x0a;
/** No more columns than XFD (§18.3.1.4): a column past it takes no empty fields before it. */
const MAX_COLUMNS: i32 = 16384;

const V_OPEN: u64 = 0x3e763c; // "<v>"
const V_CLOSE: u64 = 0x3e762f3c; // "</v>"
const C_CLOSE: u64 = 0x3e632f3c; // "</c>"
const V_C_CLOSE: u64 = 0x3e632f3c3e762f3c; // "</v></c>"
const ROW_CLOSE: u64 = 0x3e776f722f3c; // "</row>"
const T_OPEN: u64 = 0x3e743c; // "<t>"
const T_CLOSE: u64 = 0x3e742f3c; // "</t>"
const IS_OPEN: u64 = 0x3e73693c; // "<is>"
const IS_CLOSE: u64 = 0x3e73692f3c; // "</is>"
const ROW_REF: u64 = 0x223d7220776f723c; // `<row r="`
const C_REF: u64 = 0x223d7220633c; // `<c r="`
const T_ATTR: u32 = 0x223d7420; // ` t="`
const FORMULA: u64 = 0x616c756d726f66; // "formula"
const ODD: u64 = 0x6464; // "dd", after the "o"
const EVEN: u64 = 0x6e6576; // "ven", after the "e"
const FIRST: u64 = 0x74737269; // "irst", after the "f"
const HEADER: u64 = 0x726564616548; // "Header"
const FOOTER: u64 = 0x7265746f6f46; // "Footer"

/** Whether the local name xml[name, name + length) is one the kernel leaves to the handler: a page header or footer, a list's formula. */
function special(name: i32, length: i32): bool {
  if (length < 7 || length > 11) return false;
  const c = at(name);
  if (c == 0x66 && startsWith(name, FORMULA, 7)) return length == 7 || (length == 8 && (at(name + 7) == 0x31 || at(name + 7) == 0x32));
  const head = c == 0x6f && startsWith(name + 1, ODD, 2) ? 3 : c == 0x65 && startsWith(name + 1, EVEN, 3) ? 4 : c == 0x66 && startsWith(name + 1, FIRST, 4) ? 5 : 0;
  return head > 0 && length == head + 6 && (startsWith(name + head, HEADER, 6) || startsWith(name + head, FOOTER, 6));
}

/** The end of the value quoted at xml[quoteAt] in a tag body that ends at `to`, or -1 (valueEnd of spreadsheet-cells.ts). */
function valueEnd(quoteAt: i32, to: i32): i32 {
  const quote = at(quoteAt);
  if (quoteAt >= to || (quote != QUOTE && quote != APOS)) return -1;
  for (let k = quoteAt + 1; k < to; k++) if (at(k) == quote) return k;
  return -1;
}

// The cell being read.
let shared = false;
let column: i32 = -1;
/** Its value, gathered at `scratch`. */
let scratch: usize = 0;
let valueBytes: i32 = 0;
let valueChars: i32 = 0;

/**
 * Reads a cell's tag body xml[from, to) as cellAttributes, sharedType and refColumn of
 * spreadsheet-cells.ts do (the first ` t=` and ` r=`, wherever they stand); false when a value
 * holds a `&`, which they would decode.
 */
function cellTag(from: i32, to: i32): bool {
  let typeAt: i32 = -1;
  let typeEnd: i32 = -1;
  let refAt: i32 = -1;
  let refEnd: i32 = -1;
  // Sixteen places a step: those where a space stands two bytes before a `=`.
  for (let base = from; base < to - 2 && (typeAt == -1 || refAt == -1); base += 16) {
    let places = <u32>i8x16.bitmask(v128.and(i8x16.eq(v128.load(address(base)), i8x16.splat(0x20)), i8x16.eq(v128.load(address(base + 2)), i8x16.splat(0x3d))));
    if (to - 2 - base < 16) places &= (<u32>1 << <u32>(to - 2 - base)) - 1;
    while (places != 0 && (typeAt == -1 || refAt == -1)) {
      const k = base + <i32>ctz(places);
      places &= places - 1;
      const c = at(k + 1);
      if (c == 0x74 && typeAt == -1) {
        typeAt = k + 4;
        typeEnd = valueEnd(k + 3, to);
        if (typeEnd < 0) typeAt = -2;
      } else if (c == 0x72 && refAt == -1) {
        refAt = k + 4;
        refEnd = valueEnd(k + 3, to);
        if (refEnd < 0) refAt = -2;
      }
    }
  }
  shared = false;
  if (typeAt >= 0) {
    if (typeEnd - typeAt == 1) shared = at(typeAt) == 0x73;
    else if (holds(typeAt, typeEnd, AMP)) return false;
  }
  column = -1;
  if (refAt >= 0) {
    if (holds(refAt, refEnd, AMP)) return false;
    let col: i32 = 0;
    let k = refAt;
    for (; k < refEnd; k++) {
      const c = at(k);
      if (c < 65 || c > 90) break;
      // Any column past XFD reads as any other: kept from growing past what an i32 holds.
      col = min(col * 26 + <i32>(c - 64), MAX_COLUMNS * 2);
    }
    if (k > refAt) column = col - 1;
  }
  return true;
}

/**
 * A cell's tag as Excel writes it, `<c r="B3">` or `<c r="B3" t="s">` (a reference of capitals
 * and digits, a type of letters), at `lt`: its `>` (where readTag finds it), with `shared` and
 * `column` as cellTag reads them; -1 for a tag of any other shape, which they read.
 */
function plainCell(lt: i32): i32 {
  let k = lt + 6;
  let col: i32 = 0;
  for (; ; k++) {
    const c = at(k);
    if (c - 65 >= 26) break;
    col = min(col * 26 + <i32>(c - 64), MAX_COLUMNS * 2);
  }
  const letters = k > lt + 6;
  while (at(k) - 0x30 < 10) k++;
  if (at(k) != QUOTE) return -1;
  k++;
  let isShared = false;
  if (load<u32>(address(k)) == T_ATTR) {
    const type = k + 4;
    k = type;
    while ((at(k) | 0x20) - 0x61 < 26) k++;
    if (at(k) != QUOTE) return -1;
    isShared = k - type == 1 && at(type) == 0x73;
    k++;
  }
  if (at(k) != GT) return -1;
  shared = isShared;
  column = letters ? col - 1 : -1;
  return k;
}

/** The `>` of a row's tag as Excel writes it without spans, `<row r="12">`, at `lt`; -1 for any other shape. */
function plainRow(lt: i32): i32 {
  let k = lt + 8;
  while (at(k) - 0x30 < 10) k++;
  return at(k) == QUOTE && at(k + 1) == GT ? k + 1 : -1;
}

/**
 * Reads `length` bytes of a worksheet at `input` (32 zero bytes after them) from a commit point.
 * Writes the TSV lines of the rows it ends to `out` (room for `room` bytes), a record of three
 * i32 per row at `rows` (the UTF-16 offset of its end in the text written, what it counts against
 * the held limit as SheetRows.chars, the number of holes before its end), an i32 pair per hole at
 * `holes` (UTF-16 offset in the text, shared string index), a cell's value at `cell` (as long as
 * the input, and 16 bytes). Stores at `result` (i32): why it stopped, the last commit point,
 * bytes written, rows, holes, and the last cell before the commit point: shared (-1: no cell),
 * column (-1: none), value (the index of a hole, else its offset in the output) and its end (-1
 * for a hole).
 */
export function scan(input: usize, length: i32, out: usize, room: i32, cell: usize, rows: usize, holes: usize, result: usize): void {
  setInput(input, length);
  scratch = cell;
  let stop = MORE;
  // What is read up to the commit point.
  let done: i32 = 0;
  let doneWritten: i32 = 0;
  let doneRows: i32 = 0;
  let doneHoles: i32 = 0;
  let doneShared: i32 = -1;
  let doneColumn: i32 = -1;
  let doneValue: i32 = 0;
  let doneValueEnd: i32 = 0;
  // What is read since.
  let written: i32 = 0;
  let chars16: i32 = 0;
  let rowCount: i32 = 0;
  let holeCount: i32 = 0;
  let cells: i32 = 0;
  let rowChars: i32 = 0;
  let lastShared: i32 = -1;
  let lastColumn: i32 = -1;
  let lastValue: i32 = 0;
  let lastValueEnd: i32 = 0;
  let inCell = false;
  let inValue = false;
  let i: i32 = 0;
  while (true) {
    // A sheet's tags mostly follow one another: the next `<` is looked at before it is searched for.
    const lt = at(i) == LT ? i : find(i, <u8>LT);
    if (lt < 0) break;
    if (inValue && lt > i) {
      const chars = textLength(i, lt);
      if (chars < 0) {
        stop = OTHER;
        break;
      }
      copy(scratch + <usize>valueBytes, address(i), lt - i);
      valueBytes += lt - i;
      valueChars += chars;
    }
    const c1 = at(lt + 1);
    let next: i32;
    if (c1 == 0x3f) {
      // A processing instruction: skipped, as the tokenizer does, in a value too.
      next = instructionEnd(lt);
      if (next < 0) break;
    } else {
      if (c1 == 0x21) {
        stop = OTHER;
        break;
      }
      const closing = c1 == SLASH;
      // The tags of a cell's value and ends of cells and rows, most of a sheet's tags, are known
      // by their bytes (as readTag would read them); any other goes through readTag.
      const word = load<u64>(address(lt));
      let gt: i32 = -1;
      let name: i32 = lt + 1;
      let nameEnd: i32 = lt + 2;
      // A cell's tag read here: its type and column are known.
      let cellRead = false;
      if (inCell && word == V_C_CLOSE) {
        // A value's end and its cell's at once: `</v>` ends the value, the rest reads `</c>`.
        inValue = false;
        gt = lt + 7;
        name = lt + 6;
        nameEnd = gt;
      } else if ((word & 0xffffff) == V_OPEN || (word & 0xffffff) == T_OPEN) gt = lt + 2;
      else if ((word & 0xffffffff) == V_CLOSE || (word & 0xffffffff) == C_CLOSE || (word & 0xffffffff) == T_CLOSE) {
        gt = lt + 3;
        name = lt + 2;
        nameEnd = gt;
      } else if ((word & 0xffffffffffff) == ROW_CLOSE) {
        gt = lt + 5;
        name = lt + 2;
        nameEnd = gt;
      } else if ((word & 0xffffffff) == IS_OPEN) {
        gt = lt + 3;
        nameEnd = gt;
      } else if ((word & 0xffffffffff) == IS_CLOSE) {
        gt = lt + 4;
        name = lt + 2;
        nameEnd = gt;
      } else if (word == ROW_REF) {
        gt = plainRow(lt);
        nameEnd = lt + 4;
      } else if ((word & 0xffffffffffff) == C_REF) {
        gt = plainCell(lt);
        cellRead = gt >= 0;
      }
      if (gt < 0) {
        gt = readTag(closing ? lt + 2 : lt + 1);
        if (gt == -1) break;
        if (gt == -2) {
          stop = OTHER;
          break;
        }
        name = tagName;
        nameEnd = tagNameEnd;
      }
      const size = nameEnd - name;
      const c = at(name);
      const selfClosing = !closing && at(gt - 1) == SLASH;
      if (size >= 7 && special(name, size)) {
        stop = OTHER;
        break;
      }
      const open = !closing && size == 1;
      if (open && c == 0x63) {
        if (inCell || !(cellRead || cellTag(lt + 1, gt))) {
          stop = OTHER;
          break;
        }
        inCell = true;
        valueBytes = 0;
        valueChars = 0;
        // The cell's value tag, when it follows at once, is read with it (as the next tag would be).
        if (!selfClosing && (load<u32>(address(gt + 1)) & 0xffffff) == <u32>V_OPEN) {
          inValue = true;
          gt += 3;
        }
      } else if (open && (c == 0x76 || c == 0x74)) {
        if (!inCell) {
          stop = OTHER;
          break;
        }
        inValue = !selfClosing;
      } else if (size == 1 && c == 0x66) {
        stop = OTHER;
        break;
      }
      // The element's end: a closing tag, or a self-closing one.
      if (closing || selfClosing) {
        if (size == 1 && (c == 0x76 || c == 0x74)) inValue = false;
        else if (size == 1 && c == 0x63) {
          if (!inCell || inValue) {
            stop = OTHER;
            break;
          }
          inCell = false;
          // SheetRows.add: empty fields up to the cell's column, a tab before it, its text or hole.
          if (written + MAX_COLUMNS + valueBytes + 32 > room) {
            stop = FULL;
            break;
          }
          if (column >= 0 && column < MAX_COLUMNS && cells < column) {
            const empty = column - cells;
            const tabs = cells > 0 ? empty : empty - 1;
            for (let k = 0; k < tabs; k++) store<u8>(out + <usize>(written + k), TAB);
            written += tabs;
            chars16 += tabs;
            rowChars += empty;
            cells = column;
          }
          if (cells > 0) {
            store<u8>(out + <usize>written, TAB);
            written++;
            chars16++;
          }
          cells++;
          let index: i32 = -1;
          if (shared && valueBytes > 0) {
            if (valueBytes > 9) {
              stop = OTHER;
              break;
            }
            index = 0;
            for (let k: i32 = 0; k < valueBytes; k++) {
              const d = <u32>load<u8>(scratch + <usize>k) - 0x30;
              if (d > 9) {
                index = -1;
                break;
              }
              index = index * 10 + <i32>d;
            }
            // Number.parseInt reads a sign, spaces, or digits followed by more: left to it.
            if (index < 0) {
              stop = OTHER;
              break;
            }
          }
          lastShared = shared ? 1 : 0;
          lastColumn = column;
          if (index >= 0) {
            store<i32>(holes + (<usize>holeCount << 3), chars16);
            store<i32>(holes + (<usize>holeCount << 3) + 4, index);
            holeCount++;
            rowChars += 8;
            lastValue = index;
            lastValueEnd = -1;
          } else {
            copy(out + <usize>written, scratch, valueBytes);
            lastValue = written;
            written += valueBytes;
            lastValueEnd = written;
            chars16 += valueChars;
            rowChars += valueChars + 1;
          }
        } else if (size == 3 && c == 0x72 && at(name + 1) == 0x6f && at(name + 2) == 0x77) {
          store<u8>(out + <usize>written, NL);
          written++;
          chars16++;
          const record = rows + <usize>rowCount * 12;
          store<i32>(record, chars16);
          store<i32>(record + 4, rowChars);
          store<i32>(record + 8, holeCount);
          rowCount++;
          cells = 0;
          rowChars = 0;
        }
      }
      next = gt + 1;
    }
    i = next;
    if (!inCell && cells == 0) {
      done = i;
      doneWritten = written;
      doneRows = rowCount;
      doneHoles = holeCount;
      doneShared = lastShared;
      doneColumn = lastColumn;
      doneValue = lastValue;
      doneValueEnd = lastValueEnd;
    }
  }
  store<i32>(result, stop);
  store<i32>(result + 4, done);
  store<i32>(result + 8, doneWritten);
  store<i32>(result + 12, doneRows);
  store<i32>(result + 16, doneHoles);
  store<i32>(result + 20, doneShared);
  store<i32>(result + 24, doneColumn);
  store<i32>(result + 28, doneValue);
  store<i32>(result + 32, doneValueEnd);
}
