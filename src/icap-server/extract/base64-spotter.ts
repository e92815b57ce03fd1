// Base64 inside text (a file in a JSON field, a data: URL, an encoded secret pasted in a form):
// every run of the base64 alphabet of at least MIN_RUN_CHARS is decoded far enough to see what it
// is, and opened as a file of its own when it is one the scan knows (an archive, a document, an
// executable, the EICAR file) or when it decodes to text; a run of hex digits is read as hex when
// that reads as text (text hex-encoded to pass a filter). Everything else (images, hashes, ids,
// random tokens) is left alone. The text itself always reaches the detectors unchanged; a long
// run streams into its file as it arrives, so memory stays bounded by one chunk.
import type { ByteSink } from '../decode/byte-sink.js';
import type { Extraction } from '../decode/extraction.js';
import type { TextSink } from '../decode/text-decoders.js';
import { base64Decoder, hexDecoder } from '../decode/transfer-decoders.js';
import { alphabetRuns, BASE64_DIGIT_VALUES, JUDGED_CHARS, plainRun, type RunJudge } from '../detectors/prefilter/text-prefilter.js';
import { binaryFormat, startsMagic } from './sniff.js';

/** 18 bytes: enough for a card number or a key id, short enough to skip words and identifiers. */
const MIN_RUN_CHARS = 24;
/** Characters decoded before a run is judged (48 bytes), as many as the run judge reads. */
const DECIDE_CHARS = JUDGED_CHARS;
/**
 * Text is looked at in pieces of at most this many characters, whatever size a decoder hands
 * over: the run finder copies a piece into WebAssembly memory, which grows to the largest piece
 * and never shrinks. Runs across pieces are handled as runs across chunks are.
 */
const MAX_PIECE_CHARS = 256 * 1024;

const NOT_ALPHABET = /[^A-Za-z0-9+/_=-]/;

const ALPHABET = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_') ALPHABET[c.charCodeAt(0)] = 1;
const inAlphabet = (c: number) => c < 128 && ALPHABET[c] === 1;

/**
 * The runs of at least MIN_RUN_CHARS alphabet characters in `text` (with up to two `=` after them),
 * as start, end pairs in one flat list. The runs come from the text prefilter's WebAssembly
 * (sixteen characters per step), which also leaves out the runs that end inside the text and that
 * its plainRun turns away; the padding is read here.
 */
function runsOf(text: string): number[] {
  const runs = alphabetRuns(text, MIN_RUN_CHARS, RUN_JUDGE);
  const out: number[] = [];
  for (let k = 0; k < runs.length; k += 2) {
    const i = runs[k + 1]!;
    let end = i;
    while (end < text.length && end - i < 2 && text.charCodeAt(end) === 0x3d) end++;
    out.push(runs[k]!, end);
  }
  return out;
}

/** The alphabet characters at the end of `text` (at most `max`): a run the next chunk may continue. */
function tail(text: string, max: number): string {
  let i = text.length;
  while (i > 0 && text.length - i < max && inAlphabet(text.charCodeAt(i - 1))) i--;
  return i > 0 && inAlphabet(text.charCodeAt(i - 1)) ? '' : text.slice(i);
}

/** Magic numbers of files worth opening that sniffFormat leaves to the head probes. */
const EXECUTABLE_MAGICS = ['MZ', '\u007fELF', '\u00fe\u00ed\u00fa', '\u00ca\u00fe\u00ba\u00be', 'X5O!P%@AP['];
const EXECUTABLE_FIRST_BYTES = new Set(EXECUTABLE_MAGICS.map((magic) => magic.charCodeAt(0)));

const startsWithLatin1 = (head: Buffer, magic: string) => {
  if (head.length < magic.length) return false;
  for (let i = 0; i < magic.length; i++) if (head[i] !== magic.charCodeAt(i)) return false;
  return true;
};

/** The bytes a file worth opening may start with, for the run judge (text-prefilter.ts plainRun). */
export const RUN_JUDGE: RunJudge = { firstBytes: Uint8Array.from({ length: 256 }, (_, b) => (startsMagic(b) || EXECUTABLE_FIRST_BYTES.has(b) ? 1 : 0)) };

/** The run's judged head is hex digits in one case (or digits only), as plainRun's hexOnly reads it. */
function hexRun(input: string, start: number, end: number): boolean {
  const stop = Math.min(end, start + DECIDE_CHARS);
  let lower = true;
  let upper = true;
  for (let i = start; i < stop; i++) {
    const c = input.charCodeAt(i);
    const digit = c >= 0x30 && c <= 0x39;
    lower &&= digit || (c >= 0x61 && c <= 0x66);
    upper &&= digit || (c >= 0x41 && c <= 0x46);
  }
  return lower || upper;
}

/** One head buffer for every run: judging a run allocates nothing until it is opened. */
const scratch = Buffer.alloc((DECIDE_CHARS / 4) * 3);

/** The bytes the run's first DECIDE_CHARS characters stand for, decoded into `scratch` (hex digits in pairs, when `hex`). */
function decodeHead(input: string, start: number, end: number, hex: boolean): Buffer {
  const stop = Math.min(end, start + DECIDE_CHARS);
  if (hex) {
    const n = scratch.write(input.slice(start, stop - ((stop - start) % 2)), 'hex');
    return scratch.subarray(0, n);
  }
  let n = 0;
  let bits = 0;
  let acc = 0;
  for (let i = start; i < stop; i++) {
    const c = input.charCodeAt(i);
    const v = c < 128 ? (BASE64_DIGIT_VALUES[c] as number) : 0xff;
    if (v === 0xff) break;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      scratch[n++] = (acc >> bits) & 0xff;
    }
  }
  return scratch.subarray(0, n);
}

/**
 * Of a head that is not surely nothing: a file the scan opens (an archive, a document, UTF-16
 * text: what the bytes alone say, media excepted), an executable, or text. Only the bytes decide:
 * the declared type and name, which sniffFormat reads to tell text formats apart, would give the
 * same answer for all of them.
 */
function worthOpening(head: Buffer): boolean {
  const format = binaryFormat(head, {});
  if (format !== undefined) return format !== 'media';
  if (EXECUTABLE_MAGICS.some((magic) => startsWithLatin1(head, magic))) return true;
  // Text: printable ASCII, whitespace or UTF-8 sequences, no NUL.
  let printable = 0;
  for (let i = 0; i < head.length; i++) {
    const byte = head[i] as number;
    if (byte === 0) return false;
    if ((byte >= 0x20 && byte < 0x7f) || byte === 0x09 || byte === 0x0a || byte === 0x0d || byte >= 0x80) printable++;
  }
  return printable >= head.length * 0.95 && head.toString('utf8', 0, wholeSequences(head)).includes('\uFFFD') === false;
}

/** The length of `head` without a UTF-8 sequence that the cut at DECIDE_CHARS left unfinished. */
function wholeSequences(head: Buffer): number {
  for (let back = 1; back <= 3 && back <= head.length; back++) {
    const b = head[head.length - back] as number;
    if (b < 0x80) return head.length;
    if (b >= 0xc0) return (b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2) > back ? head.length - back : head.length;
  }
  return head.length;
}

export function base64Spotter(out: TextSink | undefined, ctx: Extraction, depth: number): TextSink {
  /** The run that touched the end of the previous chunk, while it is too short to judge. */
  let pending = '';
  /** The file a long run streams into, once judged. */
  let child: ByteSink | undefined;
  /** A long run judged not worth opening: skip to its end. */
  let skipping = false;

  /**
   * Judges input[start, end) from its first bytes, and opens it when it is worth it. Most runs are
   * not (ids, hashes, images): they are turned away without a promise. `listed`: the run finder
   * listed it after plainRun had passed it (a run that ends inside the text), so it is not asked
   * again.
   */
  const judge = (input: string, start: number, end: number, complete: boolean, listed = false): Promise<void> | undefined => {
    if (!listed && plainRun(input, start, end, RUN_JUDGE)) {
      skipping = !complete;
      return undefined;
    }
    // A run plainRun let through in hex digits reads as text in hex (a hash or an id does not).
    const hex = hexRun(input, start, end);
    if (!worthOpening(decodeHead(input, start, end, hex)) || !ctx.mayOpen(depth) || !ctx.budget.entry()) {
      skipping = !complete;
      return undefined;
    }
    return open(input, start, end, complete, hex);
  };
  const open = async (input: string, start: number, end: number, complete: boolean, hex: boolean): Promise<void> => {
    const sink = (hex ? hexDecoder : base64Decoder)(ctx.file({}, depth + 1), ctx.budget);
    await sink.write(Buffer.from(input.slice(start, end), 'latin1'));
    if (complete) await sink.end();
    else child = sink;
  };

  const spot = async (text: string): Promise<void> => {
    let from = 0;
    if (child !== undefined || skipping) {
      const stop = NOT_ALPHABET.exec(text)?.index ?? text.length;
      if (child !== undefined) await child.write(Buffer.from(text.slice(0, stop), 'latin1'));
      if (stop === text.length) return;
      if (child !== undefined) await child.end();
      child = undefined;
      skipping = false;
      from = stop;
    }
    const input = pending + text.slice(from);
    pending = '';
    const runs = runsOf(input);
    for (let k = 0; k < runs.length; k += 2) {
      const start = runs[k] as number;
      const end = runs[k + 1] as number;
      if (end < input.length) {
        const opening = judge(input, start, end, true, true);
        if (opening) await opening;
        continue;
      }
      if (end - start < DECIDE_CHARS) pending = input.slice(start, end);
      else {
        const opening = judge(input, start, end, false);
        if (opening) await opening;
      }
      return;
    }
    pending = tail(input, MIN_RUN_CHARS);
  };

  return {
    async write(text) {
      if (out !== undefined) await out.write(text);
      if (text.length <= MAX_PIECE_CHARS) await spot(text);
      else for (let at = 0; at < text.length; at += MAX_PIECE_CHARS) await spot(text.slice(at, at + MAX_PIECE_CHARS));
    },
    async end() {
      if (out !== undefined) await out.end();
      if (child !== undefined) await child.end();
      else if (pending.length >= MIN_RUN_CHARS) await judge(pending, 0, pending.length, true);
      child = undefined;
      pending = '';
    },
  };
}
