// Base64 inside text (a file in a JSON field, a data: URL, an encoded secret pasted in a form):
// every run of the base64 alphabet of at least MIN_RUN_CHARS is decoded far enough to see what it
// is, and opened as a file of its own when it is one the scan knows (an archive, a document, an
// executable, the EICAR file) or when it decodes to text. Everything else (images, hashes, ids,
// random tokens) is left alone. The text itself always reaches the detectors unchanged; a long
// run streams into its file as it arrives, so memory stays bounded by one chunk.
import type { ByteSink } from '../decode/byte-sink.js';
import type { Extraction } from '../decode/extraction.js';
import type { TextSink } from '../decode/text-decoders.js';
import { base64Decoder } from '../decode/transfer-decoders.js';
import { binaryFormat } from './sniff.js';

/** 18 bytes: enough for a card number or a key id, short enough to skip words and identifiers. */
const MIN_RUN_CHARS = 24;
/** Characters decoded before a run is judged (48 bytes). */
const DECIDE_CHARS = 64;

const NOT_ALPHABET = /[^A-Za-z0-9+/_=-]/;

const ALPHABET = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_') ALPHABET[c.charCodeAt(0)] = 1;
const inAlphabet = (c: number) => c < 128 && ALPHABET[c] === 1;

/**
 * The runs of at least MIN_RUN_CHARS alphabet characters in `text` (with up to two `=` after them),
 * as [start, end]. Such a run covers a multiple of MIN_RUN_CHARS, so only those positions are
 * probed and a run is grown both ways from a probe that hits: on prose that reads about a quarter
 * of the characters (a word around every probe), where a loop over every character, or a regular
 * expression, read them all and cost as much as the text detectors together.
 */
function runsOf(text: string): Array<[number, number]> {
  const runs: Array<[number, number]> = [];
  const n = text.length;
  let floor = 0;
  for (let probe = MIN_RUN_CHARS - 1; probe < n; probe += MIN_RUN_CHARS) {
    if (probe < floor || !inAlphabet(text.charCodeAt(probe))) continue;
    let start = probe;
    while (start > floor && inAlphabet(text.charCodeAt(start - 1))) start--;
    let i = probe + 1;
    while (i < n && inAlphabet(text.charCodeAt(i))) i++;
    floor = i;
    if (i - start < MIN_RUN_CHARS) continue;
    let end = i;
    while (end < n && end - i < 2 && text.charCodeAt(end) === 0x3d) end++;
    runs.push([start, end]);
  }
  return runs;
}

/** The alphabet characters at the end of `text` (at most `max`): a run the next chunk may continue. */
function tail(text: string, max: number): string {
  let i = text.length;
  while (i > 0 && text.length - i < max && inAlphabet(text.charCodeAt(i - 1))) i--;
  return i > 0 && inAlphabet(text.charCodeAt(i - 1)) ? '' : text.slice(i);
}

/** Magic numbers of files worth opening that sniffFormat leaves to the head probes. */
const EXECUTABLE_MAGICS = ['MZ', '\u007fELF', '\u00fe\u00ed\u00fa', '\u00ca\u00fe\u00ba\u00be', 'X5O!P%@AP['];

const startsWithLatin1 = (head: Buffer, magic: string) => {
  if (head.length < magic.length) return false;
  for (let i = 0; i < magic.length; i++) if (head[i] !== magic.charCodeAt(i)) return false;
  return true;
};

/**
 * A file the scan opens (an archive, a document, UTF-16 text: what the bytes alone say, media
 * excepted), an executable, or text. Only the bytes decide: the declared type and name, which
 * sniffFormat reads to tell text formats apart, would give the same answer for all of them.
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
  return printable >= head.length * 0.95 && head.toString('utf8').includes('\uFFFD') === false;
}

export function base64Spotter(out: TextSink | undefined, ctx: Extraction, depth: number): TextSink {
  /** The run that touched the end of the previous chunk, while it is too short to judge. */
  let pending = '';
  /** The file a long run streams into, once judged. */
  let child: ByteSink | undefined;
  /** A long run judged not worth opening: skip to its end. */
  let skipping = false;

  const judge = async (run: string, complete: boolean): Promise<void> => {
    const head = Buffer.from(run.slice(0, DECIDE_CHARS), 'base64');
    if (!worthOpening(head) || !ctx.mayOpen(depth) || !ctx.budget.entry()) {
      skipping = !complete;
      return;
    }
    const sink = base64Decoder(ctx.file({}, depth + 1), ctx.budget);
    await sink.write(Buffer.from(run, 'latin1'));
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
    for (const [start, end] of runsOf(input)) {
      const run = input.slice(start, end);
      if (end < input.length) {
        await judge(run, true);
        continue;
      }
      if (run.length < DECIDE_CHARS) pending = run;
      else await judge(run, false);
      return;
    }
    pending = tail(input, MIN_RUN_CHARS);
  };

  return {
    async write(text) {
      if (out !== undefined) await out.write(text);
      await spot(text);
    },
    async end() {
      if (out !== undefined) await out.end();
      if (child !== undefined) await child.end();
      else if (pending.length >= MIN_RUN_CHARS) await judge(pending, true);
      child = undefined;
      pending = '';
    },
  };
}
