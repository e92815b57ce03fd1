// A content stream read by a WebAssembly kernel (pdf-content-tokens.as.ts) from its bytes, a call
// at a time: its tokens and operands read as ContentTextParser (pdf-content.ts) reads them, and
// what its text operators do handed to the parser as records (a font named, codes shown, a
// separator). A stream is mostly hex strings and numbers in TJ arrays; read a byte at a time in
// JavaScript they were a third of a PDF scan. The kernel reads from an operator's end, where the
// parser holds no operand, to the last one before what it does not read (a token the input cuts,
// a number too long for it) or after `ID`; the parser's byte reader goes on from there, so every
// stream reads as it would there alone.
import { Kernel, type KernelMemory } from '../wasm/kernel.js';
import { PDF_CONTENT_TOKENS_WASM } from './pdf-content-tokens-wasm.js';
import { NEW_LINE, type ShownText, WORD_GAP } from './pdf-shown-text.js';

interface Exports extends KernelMemory {
  content(input: number, length: number, state: number, scratch: number, items: number, output: number, records: number, result: number): void;
}

/** The parser's state the records change, as its own text operators change it. */
export interface ShownReader {
  readonly shown: ShownText;
  /** The font Tf picked. */
  font: number;
  /** The y of the last Tm. */
  lastY: number | undefined;
}

const FONT = 1;
const SHOW = 2;
const INLINE_IMAGE = 1;
/** A call reads at most this much (its memory takes about twenty times what it reads, and keeps its size). */
const MAX_CALL_BYTES = 256 * 1024;
const RESULT_AT = 0;
const STATE_AT = 64;
const INPUT_AT = 1024;
/** Zero bytes after the input (the kernel reads one past it), and room past each area (its copies write up to 15 past). */
const PADDING = 16;

let kernel: Kernel<Exports> | undefined;
/** The kernel's memory as i32 (its records and results), made again when the memory grows (a grown memory has a new buffer). */
let ints: Int32Array<ArrayBufferLike> = new Int32Array(0);

const align = (at: number) => (at + 15) & ~15;

/** One call over b[from, from + length): the records handed to `reader`; why it stopped and where (from `from`). */
function call(b: Buffer, from: number, length: number, reader: ShownReader): { stop: number; done: number } {
  const scratch = align(INPUT_AT + length + PADDING);
  const items = align(scratch + length + PADDING);
  const output = align(items + 4 * (length + 1));
  const records = align(output + length + PADDING);
  kernel ??= new Kernel<Exports>(PDF_CONTENT_TOKENS_WASM);
  const memory = kernel.reserve(records + 12 * (length + 1));
  if (ints.buffer !== memory.buffer) ints = new Int32Array(memory.buffer);
  // Copied by Buffer.copy, which makes no view of either (a subarray per call was one of a
  // stream's several typed arrays).
  b.copy(memory, INPUT_AT, from, from + length);
  memory.fill(0, INPUT_AT + length, INPUT_AT + length + PADDING);
  memory.writeDoubleLE(reader.lastY ?? 0, RESULT_AT + 16);
  ints[(RESULT_AT + 24) >> 2] = reader.lastY === undefined ? 0 : 1;
  kernel.exports.content(INPUT_AT, length, STATE_AT, scratch, items, output, records, RESULT_AT);
  const count = ints[(RESULT_AT + 8) >> 2] as number;
  // The codes of every SHOW record lie one after another in output[0, written): copied at once,
  // each record then shows up to its end.
  const shown = reader.shown;
  const written = ints[(RESULT_AT + 12) >> 2] as number;
  const base = shown.codes.length;
  if (written > 0) memory.copy(shown.codes.room(base, written), base, output, output + written);
  const first = records >> 2;
  for (let k = first; k < first + 3 * count; k += 3) {
    const kind = ints[k] as number;
    const a = ints[k + 1] as number;
    const b = ints[k + 2] as number;
    if (kind === FONT) {
      const known = shown.knownFontIndex(memory, INPUT_AT + a, INPUT_AT + b);
      reader.font = known >= 0 ? known : shown.font(memory.toString('latin1', INPUT_AT + a, INPUT_AT + b));
    }
    else if (kind === SHOW) shown.shownTo(reader.font, base + b);
    else shown.separator(a === NEW_LINE ? NEW_LINE : WORD_GAP);
  }
  if (ints[(RESULT_AT + 24) >> 2] !== 0) reader.lastY = memory.readDoubleLE(RESULT_AT + 16);
  return { stop: ints[RESULT_AT >> 2] as number, done: ints[(RESULT_AT + 4) >> 2] as number };
}

/**
 * Reads `b` from `from` (an operator's end, or the start) as far as the kernel goes: where the
 * byte reader goes on, and whether an inline image starts there.
 */
export function readContent(b: Buffer, from: number, reader: ShownReader): { at: number; inlineImage: boolean } {
  for (;;) {
    const length = Math.min(b.length - from, MAX_CALL_BYTES);
    const { stop, done } = call(b, from, length, reader);
    from += done;
    // A call that stopped for its own end, not the input's, reads on from its last operator.
    if (stop === INLINE_IMAGE || from - done + length === b.length || done === 0 || stop !== 0) return { at: from, inlineImage: stop === INLINE_IMAGE };
  }
}
