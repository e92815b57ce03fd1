// AssemblyScript (part of the spreadsheet-scan.as.ts kernel): the shared string table of a
// workbook (ECMA-376 Part 1 §18.4.9 sst, §18.4.8 si, §18.4.12 t, §18.4.6 rPh) read from its UTF-8
// bytes where they stand, as SharedStringsHandler (spreadsheet-cells.ts) reads it after
// xml-tokenizer.ts: the text of each `<si>`'s `<t>`s, phonetic runs left out. The five predefined
// entities (XML 1.0 §4.6) are decoded; it stops at anything else it does not read exactly as they
// do (a character reference, a `&` that starts none, CDATA, a comment, invalid UTF-8, single
// quotes), and spreadsheet-scan.ts hands the rest of the part to them from the last commit point:
// the end of a tag outside any `<si>`, `<t>` and `<rPh>`, where their state is the kernel's.
import { AMP, instructionEnd, MORE, OTHER, readTag, tagName, tagNameEnd, textLength } from './spreadsheet-bytes.as';
import { address, at, copy, find, LT, setInput, SLASH, startsWith } from './xml-bytes.as';

const AMP_: u64 = 0x3b706d61; // "amp;", after the "&"
const APOS_: u64 = 0x3b736f7061; // "apos;"
const QUOT_: u64 = 0x3b746f7571; // "quot;"
const LT_: u64 = 0x3b746c; // "lt;"
const GT_: u64 = 0x3b7467; // "gt;"

/** The character of the predefined entity whose name starts at `i` (after its `&`), or 0. */
function entity(i: i32): u32 {
  if (startsWith(i, AMP_, 4)) return AMP;
  if (startsWith(i, LT_, 3)) return LT;
  if (startsWith(i, GT_, 3)) return 0x3e;
  if (startsWith(i, QUOT_, 5)) return 0x22;
  return startsWith(i, APOS_, 5) ? 0x27 : 0;
}

/** Bytes written by the last decode(). */
let decoded: i32 = 0;

/**
 * Writes the text in [from, to) at `dest` with its predefined entities decoded; returns its
 * UTF-16 length, or -1 when it holds invalid UTF-8 or a `&` that starts no predefined entity.
 */
function decode(from: i32, to: i32, dest: usize): i32 {
  let chars = textLength(from, to);
  if (chars >= 0) {
    copy(dest, address(from), to - from);
    decoded = to - from;
    return chars;
  }
  chars = 0;
  let written: i32 = 0;
  let k = from;
  while (true) {
    let amp = k;
    while (amp < to && at(amp) != AMP) amp++;
    const length = textLength(k, amp);
    if (length < 0) return -1;
    copy(dest + <usize>written, address(k), amp - k);
    written += amp - k;
    chars += length;
    if (amp == to) break;
    const c = entity(amp + 1);
    if (c == 0) return -1;
    store<u8>(dest + <usize>written, c);
    written++;
    chars++;
    k = amp + (c == AMP ? 5 : c == LT || c == 0x3e ? 4 : 6);
  }
  decoded = written;
  return chars;
}

const SI: i32 = 1;
const T: i32 = 2;
const R_PH: i32 = 3;

/** The element of the table the local name [name, end) is (elementOf of spreadsheet-cells.ts), or 0. */
function elementOf(name: i32, end: i32): i32 {
  const length = end - name;
  const c = at(name);
  if (length == 1) return c == 0x74 ? T : 0;
  if (length == 2) return c == 0x73 && at(name + 1) == 0x69 ? SI : 0;
  return length == 3 && c == 0x72 && at(name + 1) == 0x50 && at(name + 2) == 0x68 ? R_PH : 0;
}

/**
 * Reads `length` bytes of a shared string table at `input` (32 zero bytes after them) from a
 * commit point. Writes the text of its strings to `out` (as long as the input, and 16 bytes), an
 * i32 pair per string ended at `records` (UTF-16 offsets of its start and end in the text), and
 * stores at `result` (i32): why it stopped, the last commit point, bytes written, strings.
 */
export function strings(input: usize, length: i32, out: usize, records: usize, result: usize): void {
  setInput(input, length);
  let stop = MORE;
  let done: i32 = 0;
  let doneWritten: i32 = 0;
  let doneCount: i32 = 0;
  let written: i32 = 0;
  let chars16: i32 = 0;
  let count: i32 = 0;
  let depth: i32 = 0;
  let inText = false;
  let inPhonetic = false;
  // Where the string being read starts in the text: each `<si>` starts a new one.
  let current: i32 = 0;
  let i: i32 = 0;
  while (true) {
    const lt = find(i, <u8>LT);
    if (lt < 0) break;
    if (inText && !inPhonetic && depth > 0 && lt > i) {
      const chars = decode(i, lt, out + <usize>written);
      if (chars < 0) {
        stop = OTHER;
        break;
      }
      written += decoded;
      chars16 += chars;
    }
    const c1 = at(lt + 1);
    if (c1 == 0x3f) {
      i = instructionEnd(lt);
      if (i < 0) break;
    } else {
      if (c1 == 0x21) {
        stop = OTHER;
        break;
      }
      const closing = c1 == SLASH;
      const gt = readTag(closing ? lt + 2 : lt + 1);
      if (gt == -1) break;
      if (gt == -2) {
        stop = OTHER;
        break;
      }
      const element = elementOf(tagName, tagNameEnd);
      if (!closing) {
        if (element == SI) {
          depth++;
          current = chars16;
        } else if (element == T) inText = true;
        else if (element == R_PH) inPhonetic = true;
      }
      if (closing || at(gt - 1) == SLASH) {
        if (element == T) inText = false;
        else if (element == R_PH) inPhonetic = false;
        else if (element == SI && depth > 0) {
          depth--;
          store<i32>(records + (<usize>count << 3), current);
          store<i32>(records + (<usize>count << 3) + 4, chars16);
          count++;
        }
      }
      i = gt + 1;
    }
    if (depth == 0 && !inText && !inPhonetic) {
      done = i;
      doneWritten = written;
      doneCount = count;
    }
  }
  store<i32>(result, stop);
  store<i32>(result + 4, done);
  store<i32>(result + 8, doneWritten);
  store<i32>(result + 12, doneCount);
}
