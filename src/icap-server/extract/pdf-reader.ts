// PDF files read as they stream (ISO 32000-1 §7.3-7.5): every indirect object `N G obj` is found
// by scanning, dictionaries are kept (bounded) for font resolution, and each stream is decoded by
// its filters (pdf-filters.ts) according to what it holds: content streams give their text
// operators (pdf-content.ts), ToUnicode CMaps their maps (pdf-cmap.ts), object streams (§7.5.7)
// their compressed dictionaries, embedded files (§7.11.4) are opened as files one level deeper,
// XMP metadata is read as XML; images and font programs are not decoded at all. The text is
// written at the end of the file, when every font's map is known (pdf-fonts.ts), or earlier when
// the held operators pass MAX_HELD_CHARS. No cross-reference table is needed, so a damaged or
// incrementally updated file reads too. A file with an /Encrypt dictionary is `encrypted-content`.
// The strings of every object are text (pdf-strings.ts); what lies between objects is read by
// pdf-gaps.ts, and what is not PDF there goes to the leftover text. So do the bytes a stream took
// when it is cut by the end of the file or not followed by `endstream` (§7.3.8.1): text appended to
// a PDF cut inside a stream is inside that stream.
import type { ByteSink } from '../decode/byte-sink.js';
import type { Extraction } from '../decode/extraction.js';
import type { TextSink } from '../decode/text-decoders.js';
import { filterChain, inflateAtOnce, streamFilters } from './pdf-filters.js';
import { ContentText } from './pdf-fonts.js';
import { PdfGaps } from './pdf-gaps.js';
import { header, objectHeader } from './pdf-syntax.js';
import { objectStrings } from './pdf-strings.js';
import { xmlText } from './xml-text.js';

const MAX_OBJECT_BYTES = 1024 * 1024;
const MAX_DICT_CHARS = 64 * 1024;
const MAX_STORED_CHARS = 16 * 1024 * 1024;
const MAX_BUFFERED_STREAM = 8 * 1024 * 1024;
/**
 * A Flate stream of a known /Length up to this long whose bytes are not all here yet waits for
 * them, to be inflated at once like one that came whole: streamed, each one that a chunk of the
 * body cut took a zlib stream and a trip through the thread pool.
 */
const WAIT_STREAM_BYTES = 256 * 1024;
/** Content streams are inflated into scratch memory of the reader (up to this much of their output). */
const SCRATCH_BYTES = 256 * 1024;
/** The buffered bytes first read as a string for the next object's header (grown when it is longer). */
const VIEW_CHARS = 1024;
/** White space (§7.2.2) before `endstream`: an end of line, and a few more bytes some writers add. */
const WHITE_SPACE = [0x20, 0x0a, 0x0d, 0x09, 0x0c, 0x00];
const MAX_EOL_BYTES = 64;
/** `stream`, an end of line and a byte after it: what a view must hold after a stream's keyword. */
const STREAM_LINE = 9;
const ENCRYPT = /\/Encrypt\s*(?:\d+\s+\d+\s+R|<<)|\/Filter\s*\/Standard\b[\s\S]{0,200}\/[OU]\s*[(<]/;
const FONT_PROGRAM = /\/Subtype\s*\/(?:Image|Type1C|CIDFontType0C|OpenType)\b|\/Length[123]\b|\/(?:ShadingType|PatternType|FunctionType)\b/;

type Kind = 'skip' | 'content' | 'object-stream' | 'embedded' | 'xml';

interface OpenStream {
  object: number;
  dict: string;
  /** Encoded bytes left when /Length is known; undefined: read up to `endstream`. */
  remaining: number | undefined;
  /**
   * The filter chain in front of `target`, made when the stream is first streamed into it: most
   * streams are Flate streams inflated at once (inflateWhole), which never use one, and a chain
   * (a zlib stream's decoder, its leftovers' sink, a ratio meter, their closures) was made for
   * each of a PDF's thousands of content streams.
   */
  sink: ByteSink | undefined;
  /** The stream's filters, when `sink` is still to be made. */
  filters: string[];
  /** Where the decoded bytes go; undefined for a stream that is skipped. */
  target: ByteSink | undefined;
  flateOnly: boolean;
  /** The target keeps no view of what it is written (a content stream's reader copies it). */
  copies: boolean;
  started: boolean;
  /** The last bytes the stream took (at least MAX_OBJECT_BYTES of them when it has that many), in case it proves cut. */
  taken: Buffer[];
  takenBytes: number;
}

const SKIPPED: ByteSink = { write: async () => undefined, end: async () => undefined };

export function pdfReader(ctx: Extraction, depth: number): ByteSink {
  const objects = new Map<number, string>();
  let storedChars = 0;
  let encrypted = false;
  let text: TextSink | undefined;
  let pending: Buffer = Buffer.alloc(0);
  let stream: OpenStream | undefined;
  /** The bytes a stream read by its /Length took, until `endstream` is seen after them. */
  let unchecked: Buffer[] | undefined;
  let leftover: ByteSink | undefined;
  /** Where content streams are inflated, one after the other (inflateAtOnce). */
  let scratch: Buffer | undefined;
  /** Strings of objects and bytes that are not PDF, found while scanning, for flush() to write. */
  const strings: string[] = [];
  const unaccounted: Buffer[] = [];
  const pushString = (t: string) => {
    // An encrypted file's strings are encrypted too (§7.6.2): noise, not text.
    if (!encrypted) strings.push(t);
  };
  const contents = new ContentText(objects, () => {
    if (encrypted) return undefined;
    text ??= ctx.text(depth);
    return text;
  });
  const gaps = new PdfGaps({ text: pushString, leftover: (b) => unaccounted.push(Buffer.from(b, 'latin1')) });

  const flush = async () => {
    if (strings.length > 0) {
      text ??= ctx.text(depth);
      const out = `${strings.join('\n')}\n`;
      strings.length = 0;
      await text.write(out);
    }
    if (unaccounted.length === 0) return;
    leftover ??= ctx.leftover(depth);
    for (const bytes of unaccounted.splice(0)) await leftover.write(bytes);
  };

  const keepTaken = (open: OpenStream, bytes: Buffer) => {
    open.taken.push(bytes);
    open.takenBytes += bytes.length;
    while (open.takenBytes - (open.taken[0] as Buffer).length >= MAX_OBJECT_BYTES) open.takenBytes -= (open.taken.shift() as Buffer).length;
  };

  const store = (object: number, body: string) => {
    if (storedChars + body.length > MAX_STORED_CHARS) return;
    storedChars += body.length;
    objects.set(object, body);
    contents.pageContents.define(object);
  };

  const checkEncrypt = (s: string) => {
    if (!encrypted && ENCRYPT.test(s)) {
      encrypted = true;
      ctx.encrypted();
    }
  };

  /** Collects a decoded stream whole (bounded), then hands it to `done`. */
  const collected = (done: (data: Buffer) => void | Promise<void>): ByteSink => {
    const parts: Buffer[] = [];
    let size = 0;
    return {
      async write(chunk) {
        if (size + chunk.length <= MAX_BUFFERED_STREAM) parts.push(chunk);
        size += chunk.length;
      },
      end: async () => done(Buffer.concat(parts)),
    };
  };

  const kindOf = (dict: string): Kind => {
    const type = /\/Type\s*\/([A-Za-z]+)/.exec(dict)?.[1];
    if (type === 'XRef') return 'skip';
    if (type === 'ObjStm') return 'object-stream';
    if (type === 'EmbeddedFile') return 'embedded';
    if (type === 'Metadata' || /\/Subtype\s*\/XML\b/.test(dict)) return 'xml';
    return FONT_PROGRAM.test(dict) ? 'skip' : 'content';
  };

  const openStream = (object: number, dict: string): Pick<OpenStream, 'sink' | 'filters' | 'target' | 'flateOnly' | 'copies'> => {
    const kind = kindOf(dict);
    const filters = streamFilters(dict);
    const skipped = { sink: SKIPPED, filters: [], target: undefined, flateOnly: false, copies: false };
    if (kind === 'skip' || filters === undefined) return skipped;
    if (filters === 'unknown') return { sink: ctx.leftover(depth), filters: [], target: undefined, flateOnly: false, copies: false };
    let target: ByteSink;
    if (kind === 'content') target = contents.sink(object);
    else if (kind === 'xml') target = xmlText(ctx.text(depth));
    else if (kind === 'embedded') {
      if (!ctx.mayOpen(depth) || !ctx.budget.entry()) return skipped;
      target = ctx.file({}, depth + 1);
    } else target = collected((data) => objectStream(dict, data));
    return { sink: undefined, filters, target, flateOnly: filters.length === 1 && filters[0] === 'flate', copies: kind === 'content' };
  };

  /** The stream's filter chain (made at its first use). */
  const sinkOf = (open: OpenStream): ByteSink => {
    if (open.sink !== undefined) return open.sink;
    const target = open.target as ByteSink;
    // Flate counts its output against the body's budget itself; the other filters are counted here.
    const counted: ByteSink = open.filters.includes('flate')
      ? target
      : { write: async (chunk) => (ctx.budget.take(chunk.length) ? target.write(chunk) : undefined), end: () => target.end() };
    open.sink = filterChain(open.filters, counted, ctx.budget, !/\/EarlyChange\s+0/.test(open.dict), () => ctx.leftover(depth));
    return open.sink;
  };

  /**
   * A Flate stream whose bytes are all here, inflated at once (pdf-filters.ts); false when it does
   * not inflate (it is then streamed as before). Bytes that are not Flate, all of them or after
   * the end of its data, are not accounted for: text in the frame of a stream.
   */
  const inflateWhole = async (open: OpenStream, data: Buffer): Promise<boolean> => {
    const inflated = await inflateAtOnce(data, ctx.budget, ctx.limits.extract.maxRatio, open.copies ? (scratch ??= Buffer.allocUnsafe(SCRATCH_BYTES)) : undefined);
    if (inflated === 'broken') {
      unaccounted.push(data, Buffer.from('\n'));
      return false;
    }
    if (inflated === 'stopped') return true;
    await (open.target as ByteSink).write(inflated.out);
    if (inflated.rest.some((b) => !WHITE_SPACE.includes(b))) unaccounted.push(inflated.rest, Buffer.from('\n'));
    return true;
  };

  /** §7.5.7: N pairs of object number and offset, then the objects from /First on. */
  const objectStream = (dict: string, data: Buffer) => {
    const n = Number(/\/N\s+(\d+)/.exec(dict)?.[1] ?? 0);
    const first = Number(/\/First\s+(\d+)/.exec(dict)?.[1] ?? 0);
    const s = data.toString('latin1');
    const numbers = s.slice(0, first).trim().split(/\s+/).map(Number);
    for (let i = 0; i < n && 2 * i + 1 < numbers.length; i++) {
      const start = first + (numbers[2 * i + 1] as number);
      const end = 2 * i + 3 < numbers.length ? first + (numbers[2 * i + 3] as number) : s.length;
      const body = s.slice(start, Math.min(end, start + MAX_DICT_CHARS));
      checkEncrypt(body);
      store(numbers[2 * i] as number, body);
      objectStrings(s.slice(start, end), pushString);
    }
  };

  const lengthOf = (dict: string): number | undefined => {
    const m = /\/Length\s+(\d+)(\s+\d+\s+R)?/.exec(dict);
    if (!m) return undefined;
    if (m[2] === undefined) return Number(m[1]);
    const value = objects.get(Number(m[1]))?.trim();
    return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
  };

  /**
   * Reads the next object of `s` from `from`: the offset after it (after the `stream` keyword for a
   * stream, which is then open), or the negative of the offset to keep from when more bytes are
   * needed; 'more' when `s` is not `whole` (a view of the buffered bytes) and cannot tell.
   */
  const scanObject = (s: string, from: number, whole: boolean): number | 'more' => {
    const at = objectHeader(s, from);
    const bodyStart = header.end;
    const endobj = at < 0 ? -1 : s.indexOf('endobj', bodyStart);
    const streamAt = at < 0 ? -1 : s.indexOf('stream', bodyStart);
    const isStream = streamAt >= 0 && (endobj < 0 || streamAt < endobj) && s.slice(bodyStart, streamAt).includes('>>');
    // A view of the buffered bytes answers only for an object that ends inside it, or a stream
    // whose keyword's line it holds; otherwise all of them are asked.
    if (!whole && (at < 0 || (endobj < 0 && !(isStream && streamAt + STREAM_LINE < s.length)))) return 'more';
    if (at < 0) {
      // The last bytes wait: they may begin the next object's `N G obj`.
      const keep = Math.max(from, s.length - 32);
      checkEncrypt(s.slice(from));
      gaps.write(s.slice(from, keep), false);
      return -keep;
    }
    checkEncrypt(s.slice(from, at));
    gaps.write(s.slice(from, at), true);
    if (!isStream && endobj < 0) return -(s.length - at > MAX_OBJECT_BYTES ? bodyStart : at);
    const object = header.number;
    if (!isStream) {
      const body = s.slice(bodyStart, Math.min(endobj, bodyStart + MAX_DICT_CHARS));
      checkEncrypt(body);
      store(object, body);
      objectStrings(endobj - bodyStart > MAX_DICT_CHARS ? s.slice(bodyStart, endobj) : body, pushString);
      return endobj + 6;
    }
    // The keyword is followed by CRLF or LF (§7.3.8.1); a lone CR is tolerated.
    let dataStart = streamAt + 6;
    if (dataStart + 1 >= s.length) return -at;
    if (s[dataStart] === '\r') dataStart++;
    if (s[dataStart] === '\n') dataStart++;
    const dict = s.slice(bodyStart, Math.min(streamAt, bodyStart + MAX_DICT_CHARS));
    checkEncrypt(dict);
    store(object, dict);
    objectStrings(streamAt - bodyStart > MAX_DICT_CHARS ? s.slice(bodyStart, streamAt) : dict, pushString);
    stream = { object, dict, remaining: lengthOf(dict), started: false, taken: [], takenBytes: 0, ...openStream(object, dict) };
    return dataStart;
  };

  /** Feeds the open stream; false when more bytes are needed. */
  const feedStream = async (open: OpenStream, final: boolean): Promise<boolean> => {
    // A Flate stream of known length not started yet may be inflated at once.
    const whole = !open.started && open.flateOnly ? (open.remaining ?? -1) : -1;
    if (whole >= 0 && !final && pending.length < whole && whole <= WAIT_STREAM_BYTES) return false;
    if (whole >= 0 && pending.length >= whole) {
      const data = pending.subarray(0, whole);
      if (await inflateWhole(open, data)) {
        keepTaken(open, data);
        pending = pending.subarray(whole);
        stream = undefined;
        unchecked = open.taken;
        await (open.target as ByteSink).end();
        return true;
      }
    }
    open.started = true;
    const feed = async (bytes: Buffer) => {
      keepTaken(open, bytes);
      await sinkOf(open).write(bytes);
    };
    if (open.remaining !== undefined) {
      const take = Math.min(open.remaining, pending.length);
      if (take > 0) await feed(pending.subarray(0, take));
      pending = pending.subarray(take);
      open.remaining -= take;
      if (open.remaining > 0) return false;
      unchecked = open.taken;
    } else {
      const at = pending.indexOf('endstream', 0, 'latin1');
      if (at < 0) {
        const keep = 9;
        if (pending.length > keep) await feed(pending.subarray(0, pending.length - keep));
        pending = pending.subarray(Math.max(0, pending.length - keep));
        return false;
      }
      if (at > 0) await feed(pending.subarray(0, at));
      pending = pending.subarray(at + 9);
    }
    stream = undefined;
    await sinkOf(open).end();
    return true;
  };

  /**
   * §7.3.8.1: `endstream` follows a stream's data, after an end of line: true, false, or undefined
   * while the buffered bytes cannot tell. A file that ends before it was cut, and text appended
   * after the cut may have filled the stream to its /Length.
   */
  const endstreamFollows = (final: boolean): boolean | undefined => {
    let i = 0;
    while (i < pending.length && WHITE_SPACE.includes(pending[i] as number)) i++;
    if (i > MAX_EOL_BYTES) return false;
    const word = pending.toString('latin1', i, i + 9);
    if (!'endstream'.startsWith(word)) return false;
    if (word.length === 9) return true;
    return final ? false : undefined;
  };

  const consume = async (final: boolean) => {
    for (;;) {
      if (strings.length > 0 || unaccounted.length > 0) await flush();
      if (ctx.budget.exceeded) {
        pending = Buffer.alloc(0);
        return;
      }
      if (unchecked !== undefined) {
        const follows = endstreamFollows(final);
        if (follows === undefined) return;
        if (!follows) {
          unaccounted.push(...unchecked);
          gaps.continueRun();
        }
        unchecked = undefined;
      }
      if (stream !== undefined) {
        if (!(await feedStream(stream, final))) return;
        continue;
      }
      // A string of the head of the buffered bytes first (latin1: one byte a character): a string
      // of all of them after each of many small streams was most of the garbage of a PDF scan.
      let view = Math.min(pending.length, VIEW_CHARS);
      let s = pending.toString('latin1', 0, view);
      let at = 0;
      while (stream === undefined) {
        const next = scanObject(s, at, view === pending.length);
        if (next === 'more') {
          view = Math.min(pending.length, view * 4);
          s = pending.toString('latin1', 0, view);
          continue;
        }
        if (next <= 0) {
          pending = pending.subarray(-next);
          return;
        }
        at = next;
      }
      pending = pending.subarray(at);
    }
  };

  return {
    async write(chunk) {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      await consume(false);
    },
    async end() {
      await consume(true);
      const open = stream;
      stream = undefined;
      if (open !== undefined) {
        // Cut by the end of the file: what it took may be text appended after the cut.
        if (pending.length > 0) keepTaken(open, pending);
        const sink = sinkOf(open);
        await sink.write(pending);
        await sink.end();
        unaccounted.push(...open.taken, Buffer.from('\n'));
        pending = Buffer.alloc(0);
      }
      // An object the end of the file cut is not PDF: its bytes are scanned as they stand.
      gaps.write(pending.toString('latin1'), true);
      await flush();
      await contents.release();
      await text?.end();
      await leftover?.end();
    },
  };
}
