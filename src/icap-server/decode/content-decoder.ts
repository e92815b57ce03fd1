// Content-Encoding gzip, deflate and br (RFC 9110 §8.4.1) with node:zlib streams; gzip files and
// zlib streams inside containers use the same decoder. Output counts against the body's
// DecodeBudget and this stream's compression ratio; past either the stream is destroyed and the
// rest of the input is dropped, never inflated. A body that does not decode is scanned as it is, so a false
// `Content-Encoding: gzip` label cannot hide plain text from the detectors.
import zlib from 'node:zlib';
import type { ByteSink, DecodeBudget } from './byte-sink.js';
import { BROKEN, STOPPED, ZlibEngine } from './zlib-engine.js';

export type ContentCoding = 'gzip' | 'deflate' | 'br';

/** Raw bytes kept until the decoder first produces output, to rescan them if it fails. */
const MAX_RAW_HEAD_BYTES = 1024 * 1024;
const EMPTY = Buffer.alloc(0);
const BLANK = /^[\r\n\t \0]*$/;
/** Input kept after output began: what a failure or a cut may have swallowed is scanned as it is. */
const TAIL_BYTES = 64 * 1024;

/** Decoded on this thread, 64 KiB at a time (zlib-engine.ts), not through the thread pool. */
function create(coding: ContentCoding, first: Buffer): ZlibEngine {
  if (coding === 'gzip') return new ZlibEngine(zlib.createGunzip());
  if (coding === 'br') return new ZlibEngine(zlib.createBrotliDecompress());
  // "deflate" is the zlib format (RFC 1950), but some servers send raw deflate (RFC 1951):
  // a zlib header has CM = 8 and a 16-bit check that is a multiple of 31.
  const zlibWrapped = first.length >= 2 && ((first[0] as number) & 0x0f) === 8 && ((first[0] as number) * 256 + (first[1] as number)) % 31 === 0;
  return new ZlibEngine(zlibWrapped ? zlib.createInflate() : zlib.createInflateRaw());
}

/**
 * Where the bytes go that the decoder does not turn into output: `sink` takes what follows the
 * compressed data (trailing bytes, what follows damage or a cut); input that never decoded at all
 * goes to the downstream when `undecodedToDownstream` (a Content-Encoding label may lie about a
 * plain body, which is then sniffed as a file), else to `sink` too (a file whose magic said gzip
 * must not be sniffed as gzip again).
 */
export interface Leftovers {
  sink: ByteSink;
  undecodedToDownstream: boolean;
}

export function contentDecoder(coding: ContentCoding, downstream: ByteSink, budget: DecodeBudget, leftovers?: Leftovers): ByteSink {
  let engine: ZlibEngine | undefined;
  // leftover: the stream ended or failed, the rest of the input is scanned as it is
  let mode: 'decode' | 'leftover' | 'stopped' = 'decode';
  let producedBytes = 0;
  let rawHead: Buffer[] = [];
  let rawHeadBytes = 0;
  /** The last input chunks, at least TAIL_BYTES of them: what damage or a cut may have swallowed. */
  let tail: Buffer[] = [];
  let tailBytes = 0;
  const meter = budget.ratio();
  const rest = leftovers?.sink ?? downstream;
  /** Where input that never decoded at all goes. */
  const undecoded = leftovers?.undecodedToDownstream === false ? rest : downstream;
  /** A deflate stream's first byte, while the second that tells zlib from raw is still to come. */
  let first: Buffer = EMPTY;

  const onPiece = async (out: Buffer): Promise<boolean> => {
    producedBytes += out.length;
    rawHead = [];
    if (!meter.output(out.length)) return false;
    await downstream.write(out);
    return true;
  };

  /**
   * The stream failed or was cut: input that never decoded goes back whole (to the downstream or
   * the leftovers); after some output, the last chunks are scanned as they are, since damage or
   * a cut may have been read as compressed data before the decoder noticed.
   */
  const failed = async () => {
    mode = 'leftover';
    if (producedBytes === 0 && rawHead.length > 0) {
      for (const chunk of rawHead) await undecoded.write(chunk);
    } else for (const chunk of tail) await rest.write(chunk);
    rawHead = [];
    tail = [];
  };

  /** Past a limit: the engine is dropped and the rest of the input with it, never decoded. */
  const stop = () => {
    mode = 'stopped';
    engine?.close();
  };

  return {
    async write(piece) {
      if (mode === 'stopped') return;
      if (mode === 'leftover') return rest.write(piece);
      // "deflate" is told zlib from raw by its first two bytes: a first chunk of one byte waits.
      let chunk = piece;
      if (engine === undefined && coding === 'deflate') {
        chunk = first.length > 0 ? Buffer.concat([first, piece]) : piece;
        first = chunk.length < 2 ? chunk : EMPTY;
        if (first.length > 0) return;
      }
      engine ??= create(coding, chunk);
      meter.input(chunk.length);
      if (producedBytes === 0 && rawHeadBytes < MAX_RAW_HEAD_BYTES) {
        rawHead.push(chunk);
        rawHeadBytes += chunk.length;
      }
      tail.push(chunk);
      tailBytes += chunk.length;
      while (tail.length > 1 && tailBytes - (tail[0] as Buffer).length >= TAIL_BYTES) tailBytes -= (tail.shift() as Buffer).length;
      const taken = await engine.run(chunk, false, onPiece);
      if (taken === STOPPED) return stop();
      if (taken === BROKEN) return failed();
      // The stream ended inside this chunk (inflate and brotli stop at their end; gunzip at what
      // is not another member): its bytes after the end are the leftovers'.
      if (taken < chunk.length) {
        mode = 'leftover';
        engine.close();
        const after = chunk.subarray(taken);
        // A line end after the data (PDF writers count one in a stream's length) is no leftover.
        if (!BLANK.test(after.toString('latin1'))) await rest.write(after);
      }
    },
    async end() {
      if (first.length > 0) {
        // One byte in all: no deflate stream, read as it is.
        await undecoded.write(first);
        first = EMPTY;
      }
      if (mode === 'decode' && engine !== undefined) {
        // A stream that did not reach its end fails here ("unexpected end of file").
        const taken = await engine.run(EMPTY, true, onPiece);
        if (taken === STOPPED) stop();
        else if (taken === BROKEN) await failed();
        else engine.close();
      }
      await downstream.end();
      if (rest !== downstream) await rest.end();
    },
  };
}
