// Content-Encoding gzip, deflate and br (RFC 9110 §8.4.1) with node:zlib streams; gzip files and
// zlib streams inside containers use the same decoder. Output counts against the body's
// DecodeBudget and this stream's compression ratio; past either the stream is destroyed and the
// rest of the input is dropped, never inflated. A body that does not decode is scanned as it is, so a false
// `Content-Encoding: gzip` label cannot hide plain text from the detectors.
import type { Transform } from 'node:stream';
import zlib from 'node:zlib';
import type { ByteSink, DecodeBudget } from './byte-sink.js';

export type ContentCoding = 'gzip' | 'deflate' | 'br';

/** Raw bytes kept until the decoder first produces output, to rescan them if it fails. */
const MAX_RAW_HEAD_BYTES = 1024 * 1024;
const EMPTY = Buffer.alloc(0);
const BLANK = /^[\r\n\t \0]*$/;
/** Input kept after output began: what a failure or a cut may have swallowed is scanned as it is. */
const TAIL_BYTES = 64 * 1024;

type Decompressor = Transform & zlib.Zlib;

function writeTo(stream: Decompressor, chunk: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    // A zlib stream that fails never calls the write callback: its close settles the write.
    const onClose = () => resolve(false);
    stream.once('close', onClose);
    stream.write(chunk, (err) => {
      stream.off('close', onClose);
      resolve(!err);
    });
  });
}

/**
 * Output in 64 KiB pieces, as the zip reader's inflater: a quarter of the thread-pool round trips
 * of the default 16 KiB, each of which cost as much main-thread time as a piece's decoding.
 */
const PIECE = { chunkSize: 64 * 1024 };

function create(coding: ContentCoding, first: Buffer): Decompressor {
  if (coding === 'gzip') return zlib.createGunzip(PIECE);
  if (coding === 'br') return zlib.createBrotliDecompress(PIECE);
  // "deflate" is the zlib format (RFC 1950), but some servers send raw deflate (RFC 1951):
  // a zlib header has CM = 8 and a 16-bit check that is a multiple of 31.
  const zlibWrapped = first.length >= 2 && ((first[0] as number) & 0x0f) === 8 && ((first[0] as number) * 256 + (first[1] as number)) % 31 === 0;
  return zlibWrapped ? zlib.createInflate(PIECE) : zlib.createInflateRaw(PIECE);
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
  let stream: Decompressor | undefined;
  let pump: Promise<void> = Promise.resolve();
  // leftover: the stream ended or failed, the rest of the input is scanned as it is
  let mode: 'decode' | 'leftover' | 'stopped' = 'decode';
  let producedBytes = 0;
  let rawHead: Buffer[] = [];
  let rawHeadBytes = 0;
  /** The last input chunks, at least TAIL_BYTES of them: what damage or a cut may have swallowed. */
  let tail: Buffer[] = [];
  let tailBytes = 0;
  let inputBytes = 0;
  const meter = budget.ratio();
  const rest = leftovers?.sink ?? downstream;
  /** Where input that never decoded at all goes. */
  const undecoded = leftovers?.undecodedToDownstream === false ? rest : downstream;
  /** A deflate stream's first byte, while the second that tells zlib from raw is still to come. */
  let first: Buffer = EMPTY;

  const start = (first: Buffer): Decompressor => {
    const s = create(coding, first);
    // Errors are read from the failed writes and the iterator; a late one must not crash the worker.
    s.on('error', () => undefined);
    stream = s;
    pump = (async () => {
      try {
        for await (const out of s as AsyncIterable<Buffer>) {
          producedBytes += out.length;
          rawHead = [];
          if (!meter.output(out.length)) {
            mode = 'stopped';
            s.destroy();
            return;
          }
          await downstream.write(out);
        }
      } catch {
        // A decoding error: write() notices the failed write and hands the input on as it is.
      }
    })();
    return s;
  };

  /**
   * The stream failed or was cut: input that never decoded goes back whole (to the downstream or
   * the leftovers); after some output, the last chunks are scanned as they are, since damage or
   * a cut may have been read as compressed data before the decoder noticed.
   */
  const failed = async () => {
    mode = 'leftover';
    await pump;
    if (producedBytes === 0 && rawHead.length > 0) {
      for (const chunk of rawHead) await undecoded.write(chunk);
    } else for (const chunk of tail) await rest.write(chunk);
    rawHead = [];
    tail = [];
  };

  return {
    async write(piece) {
      if (mode === 'stopped') return;
      if (mode === 'leftover') return rest.write(piece);
      // "deflate" is told zlib from raw by its first two bytes: a first chunk of one byte waits.
      let chunk = piece;
      if (stream === undefined && coding === 'deflate') {
        chunk = first.length > 0 ? Buffer.concat([first, piece]) : piece;
        first = chunk.length < 2 ? chunk : EMPTY;
        if (first.length > 0) return;
      }
      const s = stream ?? start(chunk);
      meter.input(chunk.length);
      inputBytes += chunk.length;
      if (producedBytes === 0 && rawHeadBytes < MAX_RAW_HEAD_BYTES) {
        rawHead.push(chunk);
        rawHeadBytes += chunk.length;
      }
      tail.push(chunk);
      tailBytes += chunk.length;
      while (tail.length > 1 && tailBytes - (tail[0] as Buffer).length >= TAIL_BYTES) tailBytes -= (tail.shift() as Buffer).length;
      if (!(await writeTo(s, chunk))) return failed();
      // The stream ended inside this chunk (inflate and brotli stop at their end; gunzip fails on
      // what is not another member): its bytes after the end are the leftovers'.
      const unread = inputBytes - s.bytesWritten;
      if (unread > 0) {
        mode = 'leftover';
        await pump;
        const after = chunk.subarray(chunk.length - Math.min(unread, chunk.length));
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
      if (mode === 'decode' && stream !== undefined) {
        stream.end();
        await pump;
        if (!stream.readableEnded && mode === 'decode') await failed();
      }
      await pump;
      await downstream.end();
      if (rest !== downstream) await rest.end();
    },
  };
}
