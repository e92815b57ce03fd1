// The text of the main OOXML parts (WordprocessingML documents, headers, footers, notes and
// comments; PresentationML slides and notes): a document is mostly markup, and all that matters
// in it is the text of its runs (`w:t`, `a:t`, deleted text and field codes too) and where
// paragraphs, tabs, breaks, cells and rows are. A WebAssembly kernel (ooxml-runs.as.ts) reads the
// part's UTF-8 bytes where they stand and hands over only the text, so no string is ever made of
// the markup (the benchmark's docx holds 207 MiB of it for 32 MiB of text). What it matches is
// RUN_PATTERN, searched left to right; the general tokenizer (xml-tokenizer.ts) reads every other
// part, and both give the same text.
import { StringDecoder } from 'node:string_decoder';
import type { ByteSink } from '../decode/byte-sink.js';
import type { TextSink } from '../decode/text-decoders.js';
import { Kernel, type KernelMemory } from '../wasm/kernel.js';
import { OOXML_RUNS_WASM } from './ooxml-runs-wasm.js';
import { decodeXmlEntities } from './xml-tokenizer.js';

/** Parts read this way (ECMA-376 Part 1 §11.3, §13.3). */
export const OOXML_TEXT_PART = /^(?:word\/(?:document\d*|header\d*|footer\d*|footnotes|endnotes|comments\w*)|ppt\/(?:slides\/slide\d+|notesSlides\/notesSlide\d+))\.xml$/i;

/**
 * What the kernel matches, as a pattern (its specification; the kernel's test holds it as the
 * oracle): a run's text, or a break (`\n` for a paragraph's end, a line break or a row's end,
 * `\t` for a tab or a cell's end).
 */
export const RUN_PATTERN = /<[wa]:(?:t|delText|instrText)(?:\s[^>]*)?>([^<]*)<\/[wa]:(?:t|delText|instrText)>|<\/[wa]:p>|<[wa]:(tab|br|cr)\b[^>]*>|<\/w:(tc|tr)>/g;

/** An unfinished run kept for the next chunk is at most this long; past it the part is read on. */
const MAX_CARRY_BYTES = 1024 * 1024;
/**
 * Where the kernel writes where its last match ended; the input follows, then PADDING zero bytes
 * (the kernel reads up to 14 bytes past the input without comparing with its end, and compares
 * words that would have to hold the first of them), then the text it writes.
 */
const RESULT_AT = 0;
const INPUT_AT = 16;
const PADDING = 16;

interface Exports extends KernelMemory {
  runs(input: number, length: number, out: number, result: number): number;
}

let kernel: Kernel<Exports> | undefined;

const EMPTY = Buffer.alloc(0);

/** Kernel calls so far, and the one after which room() lent the memory where its input goes. */
let calls = 0;
let lentAfter = -1;

/** The kernel's memory, reserved for an input of `length` bytes (its text follows it). */
function memory(length: number): Buffer {
  kernel ??= new Kernel<Exports>(OOXML_RUNS_WASM);
  return kernel.reserve(INPUT_AT + 2 * (length + PADDING));
}

/**
 * Runs the kernel on `head` and `rest` as one input: the text of the runs (entities still in it),
 * where the last match ended, and the input as a view of the kernel's memory, good until the next
 * call. The text of every run is whole (it ended at its closing tag), so it is whole UTF-8 as the
 * part is. `head` is copied into the memory; `rest` too, unless it is already where it goes
 * (written into room() lent, by an inflater): on this machine's AMD EPYC a copy into the memory
 * ran at 2 to 16 GB/s depending on how the two addresses stood to each other, and took a fifth of
 * the time of reading the part.
 */
function runKernel(head: Buffer, rest: Buffer): { text: string; end: number; xml: Buffer } {
  const length = head.length + rest.length;
  const bytes = memory(length);
  const out = INPUT_AT + length + PADDING;
  const inPlace = rest.buffer === bytes.buffer && rest.byteOffset === bytes.byteOffset + INPUT_AT + head.length;
  // Lent memory is read by the call right after the room() that lent it (nothing awaits between
  // them); had any other call come first, its input would have overwritten this one.
  if (inPlace && rest.length > 0 && lentAfter !== calls) throw new Error('ooxml-text: lent kernel memory was reused before it was read');
  lentAfter = -1;
  calls++;
  bytes.set(head, INPUT_AT);
  if (!inPlace) bytes.set(rest, INPUT_AT + head.length);
  bytes.fill(0, out - PADDING, out);
  const written = (kernel as Kernel<Exports>).exports.runs(INPUT_AT, length, out, RESULT_AT);
  return { text: bytes.toString('utf8', out, out + written), end: bytes.readInt32LE(RESULT_AT), xml: bytes.subarray(INPUT_AT, INPUT_AT + length) };
}

/** The text of the runs in `xml` (entities still in it) and where the last match ended. */
export function readRuns(xml: Buffer): { text: string; end: number } {
  const { text, end } = runKernel(xml, EMPTY);
  return { text, end };
}

/**
 * Where the text of the run element that `unread` opens with starts, when `unread` is such an
 * element's opening tag and text with no `<` after it (a run still going on), else -1.
 */
function runTextStart(unread: Buffer): number {
  if (unread[0] !== 0x3c || (unread[1] !== 0x77 && unread[1] !== 0x61) || unread[2] !== 0x3a) return -1;
  const name = ['t', 'delText', 'instrText'].find((n) => unread.toString('latin1', 3, 3 + n.length) === n && !/^[\w:.-]$/.test(String.fromCharCode(unread[3 + n.length] ?? 0x3e)));
  if (name === undefined) return -1;
  const gt = unread.indexOf(0x3e, 3 + name.length);
  return gt >= 0 && unread.indexOf(0x3c, gt) < 0 ? gt + 1 : -1;
}

/**
 * The attribute of a picture's properties (`wp:docPr`, `pic:cNvPr`, `p:cNvPr`) that holds its alt
 * text. Searched without the space before it: a search starts from the needle's first byte, and
 * ' descr="' (or ' title="', whose `t` starts every `<w:t`) ran at 1.5 GB/s against 11 for this.
 */
const ALT_TEXT = Buffer.from('descr="');

/**
 * The alt texts of pictures in xml[0, limit), each on a line of its own: words people write about
 * a picture (a scanned card, "photo of the contract") that no run holds.
 */
function altTexts(xml: Buffer, limit: number): string {
  let out = '';
  for (let at = xml.indexOf(ALT_TEXT); at >= 0 && at < limit; at = xml.indexOf(ALT_TEXT, at + ALT_TEXT.length)) {
    const start = at + ALT_TEXT.length;
    const end = xml.indexOf(0x22, start);
    if (end < 0 || end > limit) break;
    const before = xml[at - 1];
    if (end > start && (before === 0x20 || before === 0x09 || before === 0x0a || before === 0x0d)) out += `\n${decodeXmlEntities(xml.toString('utf8', start, end))}\n`;
  }
  return out;
}

/** A part's sink that can lend the memory its next chunk is read from. */
export interface LendingSink extends ByteSink {
  /**
   * Room for the next chunk, in the kernel's memory where write() reads it: a chunk of it (from its
   * start) written there and handed to write() at once, with nothing awaited in between, is not
   * copied again.
   */
  room(bytes: number): Buffer;
}

export function ooxmlText(out: TextSink): LendingSink {
  let carry = EMPTY;
  /**
   * Inside a run whose text went on past MAX_CARRY_BYTES: that text is handed on as it comes
   * (else a card number a megabyte into one run would never be read), up to the next `<`.
   */
  let inRun = false;
  const runText = new StringDecoder('utf8');
  /** an entity reference cut by the end of what was handed on (`&#5`), read with what follows */
  let entity = '';

  /** Text of the long run, decoded; an unfinished entity at its end waits for the rest. */
  const longRun = (bytes: Buffer, last: boolean): string => {
    let text = entity + (last ? runText.write(bytes) + runText.end() : runText.write(bytes));
    entity = '';
    const amp = last ? -1 : text.lastIndexOf('&');
    if (amp >= 0 && text.length - amp < 12 && text.indexOf(';', amp) < 0) {
      entity = text.slice(amp);
      text = text.slice(0, amp);
    }
    return decodeXmlEntities(text);
  };

  /** Reads the kept bytes and `chunk` after them (nothing is kept while a long run goes on). */
  const read = (kept: Buffer, chunk: Buffer, final: boolean): string => {
    let before = '';
    if (inRun) {
      const lt = chunk.indexOf(0x3c);
      if (lt < 0 && !final) return longRun(chunk, false);
      before = longRun(chunk.subarray(0, lt < 0 ? chunk.length : lt), true);
      inRun = false;
      chunk = lt < 0 ? EMPTY : chunk.subarray(lt);
    }
    const { text, end, xml } = runKernel(kept, chunk);
    // Nothing after the last match was read: from the last run that opened there (or the last
    // tag), it is read again with the next chunk.
    const tail = xml.subarray(end);
    const run = Math.max(tail.lastIndexOf('<w:t'), tail.lastIndexOf('<a:t'), tail.lastIndexOf('<w:delText'), tail.lastIndexOf('<w:instrText'));
    const open = run >= 0 ? run : tail.lastIndexOf(0x3c);
    carry = !final && open >= 0 && tail.length - open < MAX_CARRY_BYTES ? Buffer.from(tail.subarray(open)) : EMPTY;
    // A run's entities are whole in it (`&` is always escaped in XML text), so decoding the joined
    // text decodes each run's.
    let after = '';
    if (!final && open >= 0 && carry.length === 0) {
      // Too long to keep: a run going on is read from here as it comes; anything else (a tag
      // without its end) is no text.
      const start = runTextStart(tail.subarray(open));
      if (start >= 0) {
        inRun = true;
        after = longRun(tail.subarray(open + start), false);
      }
    }
    // Tags before what is kept are whole: their attributes are read now, the rest with the next chunk.
    return before + decodeXmlEntities(text) + after + altTexts(xml, carry.length > 0 ? end + open : xml.length);
  };
  return {
    room(bytes) {
      const start = INPUT_AT + carry.length;
      const lent = memory(carry.length + bytes).subarray(start, start + bytes);
      lentAfter = calls;
      return lent;
    },
    async write(chunk) {
      const text = read(carry, chunk, false);
      if (text.length > 0) await out.write(text);
    },
    async end() {
      const text = read(carry, EMPTY, true);
      if (text.length > 0) await out.write(text);
      await out.end();
    },
  };
}
