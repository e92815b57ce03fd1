// A held content stream's codes to text (pdf-shown-text.ts holds them, pdf-fonts.ts resolves their
// fonts): in WebAssembly (decode of pdf-codes.as.ts, an export of the content kernel's module, in
// an instance of its own), a call per stream, each font's ToUnicode table of units kept in the
// kernel's memory from one stream to the next. Looked up in JavaScript, a code at a time, codes
// were an eighth of a PDF scan. A stream in a font whose map has no table (sparse, or codes of
// more than two bytes), or too large for the kernel's bounded memory, is decoded in JavaScript
// (shownTextInJs), as every stream was before; both give the same text.
import { Kernel, type KernelMemory } from '../wasm/kernel.js';
import { decodeCodes, type TextUnits, type ToUnicode } from './pdf-cmap.js';
import { PDF_CONTENT_TOKENS_WASM } from './pdf-content-tokens-wasm.js';
import { NEW_LINE, type ShownText, WORD_GAP } from './pdf-shown-text.js';

interface Exports extends KernelMemory {
  decode(codes: number, runs: number, runCount: number, fonts: number, out: number, result: number): void;
}

/** How a font's codes become text: through its ToUnicode map, or without one. */
export interface CodeFont {
  cmap: ToUnicode | undefined;
  /** A Type0 font: without a map its codes are CIDs that mean nothing. */
  twoByte: boolean;
}

// Font records' modes (pdf-codes.as.ts).
const SKIP = 0;
const LATIN1 = 1;
const TABLE1 = 2;
const TABLE2 = 3;
const RESULT_AT = 0;
const TABLES_AT = 64;
/** Tables kept at most (a PDF names a few fonts; a hostile one thousands): past this they are placed anew. */
const MAX_TABLE_BYTES = 1024 * 1024;
/** A stream whose codes, runs and text take more than this is decoded in JavaScript. */
const MAX_CALL_BYTES = 8 * 1024 * 1024;
/** After the codes (16) and after the text's room (32): what the kernel's steps read and write past them. */
const PADDING = 32;

let kernel: Kernel<Exports> | undefined;
/** The kernel's memory as i32 (font records, runs, results), made again when it grows (a grown memory has a new buffer). */
let ints: Int32Array<ArrayBufferLike> = new Int32Array(0);
/** Where each table stands in the kernel's memory: tables are never changed once made, so an array is its table. */
let tableAt = new Map<Uint16Array, number>();
let tablesEnd = TABLES_AT;

const align = (at: number) => (at + 15) & ~15;

/** The address of `table` in the kernel's memory (copied there when it is not yet); undefined when the area is full. */
function placed(table: Uint16Array): number | undefined {
  let at = tableAt.get(table);
  if (at !== undefined) return at;
  if (tablesEnd + table.byteLength > TABLES_AT + MAX_TABLE_BYTES) return undefined;
  at = tablesEnd;
  const memory = (kernel as Kernel<Exports>).reserve(at + table.byteLength);
  memory.set(new Uint8Array(table.buffer, table.byteOffset, table.byteLength), at);
  tablesEnd = align(at + table.byteLength);
  tableAt.set(table, at);
  return at;
}

/** The table of each font, or -1 for none; undefined when they do not fit at once. */
function placeTables(fonts: ReadonlyArray<CodeFont | undefined>): number[] | undefined {
  const at: number[] = [];
  for (let f = 0; f < fonts.length; f++) {
    const units = fonts[f]?.cmap?.units;
    const table = units === undefined ? -1 : placed(units);
    if (table === undefined) return undefined;
    at.push(table);
  }
  return at;
}

/**
 * The text `shown` shows and a line break after it (each stream is a line of its own: a string
 * joined to its line break later was copied again, whole, by the first scanner that read it), its
 * fonts resolved in `fonts` (by the index its runs name them with; every font they name is there):
 * decoded by the kernel, or in JavaScript into `units`.
 */
export function shownText(shown: ShownText, fonts: ReadonlyArray<CodeFont | undefined>, units: TextUnits): string {
  return inKernel(shown, fonts) ?? shownTextInJs(shown, fonts, units);
}

/** The same text, a run at a time through decodeCodes (pdf-cmap.ts). */
export function shownTextInJs(shown: ShownText, fonts: ReadonlyArray<CodeFont | undefined>, units: TextUnits): string {
  const { codes, runs } = shown;
  let from = 0;
  for (let k = 0; k < shown.used; k += 2) {
    const kind = runs[k] as number;
    const end = runs[k + 1] as number;
    if (kind === NEW_LINE) units.unit(0x0a);
    else if (kind === WORD_GAP) units.unit(0x20);
    else {
      const font = fonts[kind] as CodeFont;
      decodeCodes(codes.bytes, from, end, font.cmap, font.twoByte, units);
    }
    from = end;
  }
  units.unit(0x0a);
  return units.take();
}

/** What a call takes of the kernel's memory: the font records, codes, runs and `units` of text, and the padding after each. */
const callBytes = (fonts: number, codes: number, runs: number, units: number) => 16 * fonts + codes + 8 * runs + 2 * units + 4 * PADDING;

function inKernel(shown: ShownText, fonts: ReadonlyArray<CodeFont | undefined>): string | undefined {
  const length = shown.codes.length;
  const used = shown.used;
  // At most a unit per code and per separator (the line break after them one more), but for the
  // codes whose text is longer (`extra`).
  const runCount = (used >> 1) + 1;
  const room = length + runCount;
  let extra = 0;
  if (callBytes(fonts.length, length, runCount, room) > MAX_CALL_BYTES) return undefined;
  for (let f = 0; f < fonts.length; f++) {
    const cmap = fonts[f]?.cmap;
    if (cmap !== undefined && cmap.units === undefined) return undefined;
  }
  kernel ??= new Kernel<Exports>(PDF_CONTENT_TOKENS_WASM);
  let tables = placeTables(fonts);
  if (tables === undefined) {
    // Full: the tables are placed anew, this stream's first.
    tableAt = new Map();
    tablesEnd = TABLES_AT;
    tables = placeTables(fonts);
    if (tables === undefined) return undefined;
  }
  const fontsAt = align(tablesEnd);
  const codesAt = align(fontsAt + 16 * fonts.length);
  const runsAt = align(codesAt + length + PADDING);
  const outAt = align(runsAt + 8 * runCount);
  let memory = kernel.reserve(outAt + 2 * room + PADDING);
  // Through one i32 view of the memory and the stream's own arrays (sealed, they are exactly its
  // codes and runs): no typed array is made per stream.
  if (ints.buffer !== memory.buffer) ints = new Int32Array(memory.buffer);
  const records = fontsAt >> 2;
  for (let f = 0; f < fonts.length; f++) {
    const font = fonts[f];
    const table = tables[f] as number;
    const mode = font === undefined ? SKIP : font.cmap === undefined ? (font.twoByte ? SKIP : LATIN1) : font.cmap.codeBytes === 1 ? TABLE1 : TABLE2;
    ints[records + 4 * f] = mode;
    ints[records + 4 * f + 1] = table;
    ints[records + 4 * f + 2] = table < 0 ? 0 : (font?.cmap?.units as Uint16Array).length;
  }
  const { bytes } = shown.codes;
  const runs = shown.runs;
  memory.set(bytes.length === length ? bytes : bytes.subarray(0, length), codesAt);
  ints.set(runs.length === used ? runs : runs.subarray(0, used), runsAt >> 2);
  ints[(runsAt >> 2) + used] = NEW_LINE;
  ints[(runsAt >> 2) + used + 1] = length;
  const R = RESULT_AT >> 2;
  ints.fill(0, R, R + 6);
  for (;;) {
    kernel.exports.decode(codesAt, runsAt, runCount, fontsAt, outAt, RESULT_AT);
    if (ints[R + 4] === 0) break;
    // A code whose text is more than one unit (or a surrogate's pair): written here, and on past it.
    const font = fonts[runs[2 * (ints[R] as number)] as number] as CodeFont;
    const cmap = font.cmap as ToUnicode;
    const text = cmap.map.get(ints[R + 5] as number) as string;
    extra += text.length;
    if (callBytes(fonts.length, length, runCount, room + extra) > MAX_CALL_BYTES) return undefined;
    memory = kernel.reserve(outAt + 2 * (room + extra) + PADDING);
    // A memory grown has a new buffer: views of the old one are empty.
    if (ints.buffer !== memory.buffer) ints = new Int32Array(memory.buffer);
    const n = ints[R + 2] as number;
    const out = new Uint16Array(memory.buffer, outAt + 2 * n, text.length);
    let bits = ints[R + 3] as number;
    for (let k = 0; k < text.length; k++) {
      const unit = text.charCodeAt(k);
      out[k] = unit;
      bits |= unit;
    }
    ints[R + 1] = (ints[R + 1] as number) + cmap.codeBytes;
    ints[R + 2] = n + text.length;
    ints[R + 3] = bits;
  }
  const n = ints[R + 2] as number;
  return (ints[R + 3] as number) < 0x100 ? memory.toString('latin1', outAt, outAt + n) : memory.toString('utf16le', outAt, outAt + 2 * n);
}
