// PDF stream filters (ISO 32000-1 §7.4) as streaming decoders: FlateDecode (node:zlib, with the
// body's ratio and byte limits), ASCII85Decode, ASCIIHexDecode, LZWDecode (with EarlyChange) and
// RunLengthDecode. Image codecs (DCT, JPX, JBIG2, CCITT) and Crypt are not text: such a stream is
// not decoded at all (filterChain answers undefined).
import zlib from 'node:zlib';
import { type ByteSink, type DecodeBudget, RATIO_FLOOR_BYTES } from '../decode/byte-sink.js';
import { contentDecoder } from '../decode/content-decoder.js';
import { BROKEN, STOPPED, ZlibEngine } from '../decode/zlib-engine.js';

const NAMES: Record<string, string> = {
  FlateDecode: 'flate', Fl: 'flate', ASCII85Decode: 'a85', A85: 'a85', ASCIIHexDecode: 'hex', AHx: 'hex',
  LZWDecode: 'lzw', LZW: 'lzw', RunLengthDecode: 'rl', RL: 'rl',
};

/** Filters of pictures and encryption (§7.4.1, Table 6): their data is no text. */
const NOT_TEXT = new Set(['DCTDecode', 'DCT', 'JPXDecode', 'JBIG2Decode', 'CCITTFaxDecode', 'CCF', 'Crypt']);

/**
 * The filter names of a stream dictionary, in the order they apply; undefined when one cannot be
 * undone because it codes a picture or encryption; 'unknown' for a name the format does not have
 * (its data is then read as it stands: `/Filter /Anything` must not hide plain text).
 */
export function streamFilters(dict: string): string[] | undefined | 'unknown' {
  const m = /\/Filter\s*(\[[^\]]*\]|\/[A-Za-z0-9]+)/.exec(dict);
  if (!m) return [];
  const names = (m[1] as string).match(/\/[A-Za-z0-9]+/g) ?? [];
  const filters: string[] = [];
  for (const name of names) {
    const key = name.slice(1);
    if (NOT_TEXT.has(key)) return undefined;
    if (!Object.hasOwn(NAMES, key)) return 'unknown';
    filters.push(NAMES[key] as string);
  }
  return filters;
}

/**
 * `out` behind the decoders of `filters` (the first listed is undone first); what follows a Flate
 * stream's data, or a Flate stream that does not inflate, goes to a `leftover()` of its own.
 */
export function filterChain(filters: string[], out: ByteSink, budget: DecodeBudget, earlyChange: boolean, leftover: () => ByteSink): ByteSink {
  let sink = out;
  for (let i = filters.length - 1; i >= 0; i--) {
    const f = filters[i];
    if (f === 'flate') sink = contentDecoder('deflate', sink, budget, { sink: leftover(), undecodedToDownstream: false });
    else if (f === 'a85') sink = ascii85Decoder(sink);
    else if (f === 'hex') sink = asciiHexDecoder(sink);
    else if (f === 'lzw') sink = lzwDecoder(sink, earlyChange);
    else if (f === 'rl') sink = runLengthDecoder(sink);
  }
  return sink;
}

/** A whole stream is inflated with its last input flushed, not finished: a cut one gives what it holds. */
const WHOLE = { finishFlush: zlib.constants.Z_SYNC_FLUSH };
/** Engines kept between streams (a PDF is read a stream at a time; more only when scans run side by side). */
const MAX_SPARE_ENGINES = 4;
const spare: Record<'zlib' | 'raw', ZlibEngine[]> = { zlib: [], raw: [] };

/**
 * `data` inflated as one zlib (RFC 1950) or raw deflate stream by an engine taken from the spares
 * and put back reset: a PDF holds thousands of small Flate streams, and a zlib object made and
 * closed for each (zlib.inflateSync) cost a tenth of reading them. Its output within `limit`
 * bytes (else 'stopped') and how many bytes the stream took; 'broken' when it is not that format.
 * `scratch`: memory the output may be written into (where it fits).
 */
async function inflateAs(format: 'zlib' | 'raw', data: Buffer, limit: number, scratch: Buffer | undefined): Promise<{ out: Buffer; taken: number } | 'stopped' | 'broken'> {
  const engine = spare[format].pop() ?? new ZlibEngine(format === 'zlib' ? zlib.createInflate(WHOLE) : zlib.createInflateRaw(WHOLE));
  const pieces: Buffer[] = [];
  let size = 0;
  const room = scratch && ((bytes: number) => (size + bytes <= scratch.length ? scratch.subarray(size, size + bytes) : Buffer.allocUnsafe(bytes)));
  const taken = await engine.run(
    data,
    true,
    (piece) => {
      size += piece.length;
      pieces.push(piece);
      return size <= limit;
    },
    room,
  );
  if (!engine.broken) {
    (engine.zlib as zlib.Inflate | zlib.InflateRaw).reset();
    if (spare[format].length < MAX_SPARE_ENGINES) spare[format].push(engine);
    else engine.close();
  }
  if (taken === BROKEN) return 'broken';
  if (taken === STOPPED) return 'stopped';
  return { out: pieces.length === 1 ? (pieces[0] as Buffer) : Buffer.concat(pieces, size), taken };
}

/**
 * A Flate stream whose bytes are all here, inflated at once: most content streams are small, and
 * a zlib stream per stream costs more than its data. The output is bounded by the ratio limit and
 * counted against the body's budget; a truncated stream gives what it holds, and `rest` the bytes
 * after the end of its data (some writers count an end of line; anything more is not Flate).
 * 'stopped' when a limit stopped it, 'broken' when it is neither zlib nor raw deflate.
 * `scratch`: memory the output may be written into, when its reader copies what it keeps of it
 * before the next stream is inflated there: a piece of 64 KiB made for each of a PDF's thousands
 * of small content streams (an ArrayBuffer each, most of it never written) was a third of what
 * the collector did in a PDF scan.
 */
export async function inflateAtOnce(data: Buffer, budget: DecodeBudget, maxRatio: number, scratch?: Buffer): Promise<{ out: Buffer; rest: Buffer } | 'stopped' | 'broken'> {
  const meter = budget.ratio();
  meter.input(data.length);
  const limit = Math.max(RATIO_FLOOR_BYTES, maxRatio * data.length) + 1;
  for (const format of ['zlib', 'raw'] as const) {
    const inflated = await inflateAs(format, data, limit, scratch);
    if (inflated === 'stopped') {
      budget.stop('ratio');
      return 'stopped';
    }
    if (inflated !== 'broken') return meter.output(inflated.out.length) ? { out: inflated.out, rest: data.subarray(inflated.taken) } : 'stopped';
  }
  return 'broken';
}

/** A decoder that turns each chunk (with a carry) into output, synchronously. */
function transform(step: (input: Buffer, final: boolean) => Buffer, out: ByteSink): ByteSink {
  return {
    async write(chunk) {
      const bytes = step(chunk, false);
      if (bytes.length > 0) await out.write(bytes);
    },
    async end() {
      const bytes = step(Buffer.alloc(0), true);
      if (bytes.length > 0) await out.write(bytes);
      await out.end();
    },
  };
}

/** §7.4.3: groups of five characters '!'..'u' for four bytes, 'z' for four zeros, '~>' ends. */
function ascii85Decoder(out: ByteSink): ByteSink {
  const group: number[] = [];
  let done = false;
  return transform((input, final) => {
    const bytes: number[] = [];
    const flush = (n: number) => {
      let value = 0;
      for (let i = 0; i < 5; i++) value = value * 85 + (group[i] ?? 84);
      for (let i = 0; i < n; i++) bytes.push((value >>> (24 - 8 * i)) & 0xff);
      group.length = 0;
    };
    for (const c of input) {
      if (done) break;
      if (c === 0x7e) {
        done = true;
      } else if (c === 0x7a && group.length === 0) {
        bytes.push(0, 0, 0, 0);
      } else if (c >= 0x21 && c <= 0x75) {
        group.push(c - 0x21);
        if (group.length === 5) flush(4);
      }
    }
    if ((final || done) && group.length > 1) flush(group.length - 1);
    return Buffer.from(bytes);
  }, out);
}

/** §7.4.2: pairs of hex digits, white space ignored, '>' ends, an odd last digit is followed by 0. */
function asciiHexDecoder(out: ByteSink): ByteSink {
  let high = -1;
  let done = false;
  return transform((input, final) => {
    const bytes: number[] = [];
    for (const c of input) {
      if (done) break;
      if (c === 0x3e) {
        done = true;
        break;
      }
      const v = c >= 48 && c <= 57 ? c - 48 : c >= 65 && c <= 70 ? c - 55 : c >= 97 && c <= 102 ? c - 87 : -1;
      if (v < 0) continue;
      if (high < 0) high = v;
      else {
        bytes.push(high * 16 + v);
        high = -1;
      }
    }
    if ((final || done) && high >= 0) {
      bytes.push(high * 16);
      high = -1;
    }
    return Buffer.from(bytes);
  }, out);
}

/** §7.4.4: variable-width codes of 9 to 12 bits, 256 clears the table, 257 ends. */
function lzwDecoder(out: ByteSink, earlyChange: boolean): ByteSink {
  let table: Buffer[] = [];
  let width = 9;
  let previous: Buffer | undefined;
  let bits = 0;
  let bitCount = 0;
  let done = false;
  const reset = () => {
    table = Array.from({ length: 258 }, (_, i) => Buffer.from([i & 0xff]));
    width = 9;
    previous = undefined;
  };
  reset();
  return transform((input) => {
    const parts: Buffer[] = [];
    for (const byte of input) {
      if (done) break;
      bits = ((bits << 8) | byte) & 0xffffff;
      bitCount += 8;
      while (bitCount >= width && !done) {
        const code = (bits >>> (bitCount - width)) & ((1 << width) - 1);
        bitCount -= width;
        if (code === 256) {
          reset();
          continue;
        }
        if (code === 257) {
          done = true;
          break;
        }
        let entry = table[code];
        if (entry === undefined) {
          if (previous === undefined || code !== table.length) {
            done = true;
            break;
          }
          entry = Buffer.concat([previous, previous.subarray(0, 1)]);
        }
        parts.push(entry);
        if (previous !== undefined && table.length < 4096) table.push(Buffer.concat([previous, entry.subarray(0, 1)]));
        previous = entry;
        const next = table.length + (earlyChange ? 1 : 0);
        if (next >= 1 << width && width < 12) width++;
      }
    }
    return Buffer.concat(parts);
  }, out);
}

/** §7.4.5: a length byte n, then n+1 literal bytes (n < 128) or one byte repeated 257-n times; 128 ends. */
function runLengthDecoder(out: ByteSink): ByteSink {
  let carry = Buffer.alloc(0);
  let done = false;
  return transform((chunk) => {
    const input = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
    const parts: Buffer[] = [];
    let i = 0;
    while (i < input.length && !done) {
      const n = input[i] as number;
      if (n === 128) {
        done = true;
        break;
      }
      if (n < 128) {
        if (i + 1 + n + 1 > input.length) break;
        parts.push(input.subarray(i + 1, i + 2 + n));
        i += n + 2;
      } else {
        if (i + 1 >= input.length) break;
        parts.push(Buffer.alloc(257 - n, input[i + 1] as number));
        i += 2;
      }
    }
    carry = Buffer.from(input.subarray(i));
    return Buffer.concat(parts);
  }, out);
}
