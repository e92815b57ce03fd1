// AssemblyScript with 128-bit SIMD, compiled to WebAssembly by `npm run build:wasm` into
// ooxml-runs-wasm.ts (tsc does not read this file). The text of the runs of an OOXML text part
// (ooxml-text.ts), read from its UTF-8 bytes: a document is mostly markup, and what matters in it
// is the text of its runs and where paragraphs, tabs, breaks, cells and rows are. The bytes are
// read where they stand: no string is made of the markup, only of the text.
// What is a match is the pattern ooxml-text.ts documents (its test holds it as the oracle):
//   <[wa]:(?:t|delText|instrText)(?:\s[^>]*)?>([^<]*)<\/[wa]:(?:t|delText|instrText)>   the text
//   <\/[wa]:p>  and  <[wa]:(?:br|cr)\b[^>]*>  and  <\/w:tr>                               '\n'
//   <[wa]:tab\b[^>]*>  and  <\/w:tc>                                                      '\t'
// searched left to right, each search going on after the last match, `\s` and `\b` as JavaScript
// reads them without the u flag.

import { address, at, copy, find, GT, inputLength, LT, setInput, SLASH, startsWith } from './xml-bytes.as';

const COLON: u32 = 0x3a;

@inline function isPrefix(c: u32): bool {
  return c == 0x77 || c == 0x61; // w, a
}

/** [A-Za-z0-9_]: what `\b` reads as a word character without the u flag. */
@inline function isWord(c: u32): bool {
  return c - 0x30 < 10 || (c | 0x20) - 0x61 < 26 || c == 0x5f;
}

/** True when a character JavaScript's `\s` matches starts at `i` (in UTF-8). */
function isSpace(i: i32): bool {
  const c = at(i);
  if (c == 0x20 || c - 0x09 < 5) return true;
  if (c == 0xc2) return at(i + 1) == 0xa0;
  if (c == 0xe1) return at(i + 1) == 0x9a && at(i + 2) == 0x80;
  if (c == 0xe2) {
    const c1 = at(i + 1);
    const c2 = at(i + 2);
    if (c1 == 0x80) return c2 - 0x80 < 11 || c2 == 0xa8 || c2 == 0xa9 || c2 == 0xaf;
    return c1 == 0x81 && c2 == 0x9f;
  }
  if (c == 0xe3) return at(i + 1) == 0x80 && at(i + 2) == 0x80;
  if (c == 0xef) return at(i + 1) == 0xbb && at(i + 2) == 0xbf;
  return false;
}

const DEL_TEXT: u64 = 0x747865546c6564; // "delText"
const NSTR_TEXT: u64 = 0x747865547274736e; // "nstrText", after the "i"
const TAB: u64 = 0x626174; // "tab"
// What Word writes around most runs' text, compared a word at a time (each byte read one by one,
// and the `>` searched for, was half of what a run cost); anything else is read as before. These
// read up to 24 bytes from where they start, past the input's zero padding at its end, but no
// zero byte is in them, so what they compare cannot reach past the input.
const W_T_CLOSE: u64 = 0x3e743a772f3c; // "</w:t>"
/** ` xml:space="preserve">` after a text element's name: 22 bytes */
const PRESERVE_0: u64 = 0x6170733a6c6d7820; // ` xml:spa`
const PRESERVE_8: u64 = 0x73657270223d6563; // `ce="pres`
const PRESERVE_16: u64 = 0x3e2265767265; // `erve">`

/** The length of a text element's name at `i` (t, delText, instrText), or 0. */
@inline function textName(i: i32): i32 {
  const c = at(i);
  if (c == 0x74) return 1;
  if (c == 0x64 && startsWith(i, DEL_TEXT, 7)) return 7;
  if (c == 0x69 && startsWith(i + 1, NSTR_TEXT, 8)) return 9;
  return 0;
}

/** Where a closing text element at `lt` ends, or -1. */
@inline function closeText(lt: i32): i32 {
  if ((load<u64>(address(lt)) & 0xffffffffffff) == W_T_CLOSE) return lt + 6;
  if (at(lt + 1) != SLASH || !isPrefix(at(lt + 2)) || at(lt + 3) != COLON) return -1;
  const name = textName(lt + 4);
  return name > 0 && at(lt + 4 + name) == GT ? lt + 5 + name : -1;
}

/** Writes `byte` at out + written; returns the new count. */
@inline function put(out: usize, written: i32, byte: u32): i32 {
  store<u8>(out + <usize>written, byte);
  return written + 1;
}

@inline function lanes(v: v128, c: u8): v128 {
  return i8x16.eq(v, i8x16.splat(c));
}

/**
 * The first `<` at or after `from` that can start a match, or -1: one whose byte 3 is t, d or i
 * (a text element, a tab), or b or c with an r after it (br, cr), or one followed by `/` whose
 * byte 4 is p or t (`</w:p>`, `</w:tc>`, `</w:tr>`). Any other `<` starts none of the pattern's
 * alternatives, and most tags of a document are such (`<w:r>`, `<w:rPr>`, `<w:b/>`, `</w:r>`):
 * sixteen positions are tested per step instead of each `<` read on its own. Reads up to 4
 * bytes past the input (its zero padding).
 */
function findTag(from: i32): i32 {
  let i = from;
  const n = inputLength();
  while (i + 16 <= n) {
    const p = address(i);
    const b3 = v128.load(p, 3);
    const b4 = v128.load(p, 4);
    const open = v128.or(v128.or(lanes(b3, 0x74), lanes(b3, 0x64)), v128.or(lanes(b3, 0x69), v128.and(v128.or(lanes(b3, 0x62), lanes(b3, 0x63)), lanes(b4, 0x72))));
    const close = v128.and(lanes(v128.load(p, 1), <u8>SLASH), v128.or(lanes(b4, 0x70), lanes(b4, 0x74)));
    const hits = <u32>i8x16.bitmask(v128.and(lanes(v128.load(p), <u8>LT), v128.or(open, close)));
    if (hits != 0) return i + <i32>ctz(hits);
    i += 16;
  }
  for (; i < n; i++) {
    if (at(i) != LT) continue;
    const c3 = at(i + 3);
    const c4 = at(i + 4);
    if (c3 == 0x74 || c3 == 0x64 || c3 == 0x69 || ((c3 == 0x62 || c3 == 0x63) && c4 == 0x72) || (at(i + 1) == SLASH && (c4 == 0x70 || c4 == 0x74))) return i;
  }
  return -1;
}

const W_R_CLOSE: u64 = 0x3e723a772f3c; // "</w:r>"
const W_R_OPEN: u64 = 0x3e723a773c; // "<w:r>"
const W_T_OPEN: u64 = 0x743a773c; // "<w:t"

/**
 * findTag(from), with Word's bytes between two runs read first: `</w:r>` and `<w:r>` (which can
 * start no match) stepped over, and a `<w:t` after them is the tag (most runs of a document follow
 * one another so). Anything else is left to findTag. Reads up to 8 bytes past the input.
 */
@inline function nextTag(from: i32): i32 {
  let i = from;
  if ((load<u64>(address(i)) & 0xffffffffffff) == W_R_CLOSE) i += 6;
  if ((load<u64>(address(i)) & 0xffffffffff) == W_R_OPEN) i += 5;
  return i < inputLength() && load<u32>(address(i)) == <u32>W_T_OPEN ? i : findTag(i);
}

/**
 * Reads `length` bytes of XML at `input`: writes the text of its runs to `out` (the bytes between
 * the tags, entities and all, and a '\n' or '\t' for each break), returns how many bytes it wrote,
 * and stores at `result` (i32) where the last match ended (what follows was not read).
 */
export function runs(input: usize, length: i32, out: usize, result: usize): i32 {
  setInput(input, length);
  let written: i32 = 0;
  let end: i32 = 0;
  let i = findTag(0);
  while (i >= 0) {
    let next: i32 = -1;
    const c1 = at(i + 1);
    if (c1 == SLASH) {
      const c2 = at(i + 2);
      if (at(i + 3) == COLON) {
        if (isPrefix(c2) && at(i + 4) == 0x70 && at(i + 5) == GT) {
          written = put(out, written, 0x0a);
          next = i + 6;
        } else if (c2 == 0x77 && at(i + 4) == 0x74 && at(i + 6) == GT) {
          const c5 = at(i + 5);
          if (c5 == 0x63 || c5 == 0x72) {
            written = put(out, written, c5 == 0x63 ? 0x09 : 0x0a);
            next = i + 7;
          }
        }
      }
    } else if (isPrefix(c1) && at(i + 2) == COLON) {
      const name = i + 3;
      const text = textName(name);
      let open: i32 = -1;
      if (text > 0) {
        const after = address(name + text);
        if (at(name + text) == GT) open = name + text + 1;
        else if (load<u64>(after) == PRESERVE_0 && load<u64>(after, 8) == PRESERVE_8 && (load<u64>(after, 16) & 0xffffffffffff) == PRESERVE_16) open = name + text + 22;
        else if (isSpace(name + text)) {
          const gt = find(name + text + 1, <u8>GT);
          if (gt >= 0) open = gt + 1;
        }
      }
      if (open >= 0) {
        const lt = find(open, <u8>LT);
        const close = lt >= 0 ? closeText(lt) : -1;
        if (close >= 0) {
          copy(out + <usize>written, address(open), lt - open);
          written += lt - open;
          next = close;
        }
      } else {
        const c = at(name);
        const brk = c == 0x74 && startsWith(name, TAB, 3) ? 3 : (c == 0x62 || c == 0x63) && at(name + 1) == 0x72 ? 2 : 0;
        if (brk > 0 && !isWord(at(name + brk))) {
          const gt = find(name + brk, <u8>GT);
          if (gt >= 0) {
            written = put(out, written, brk == 3 ? 0x09 : 0x0a);
            next = gt + 1;
          }
        }
      }
    }
    if (next >= 0) {
      end = next;
      i = nextTag(next);
    } else i = findTag(i + 1);
  }
  store<i32>(result, end);
  return written;
}
