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

function create(coding: ContentCoding, first: Buffer): Decompressor {
  if (coding === 'gzip') return zlib.createGunzip();
  if (coding === 'br') return zlib.createBrotliDecompress();
  // "deflate" is the zlib format (RFC 1950), but some servers send raw deflate (RFC 1951):
  // a zlib header has CM = 8 and a 16-bit check that is a multiple of 31.
  const zlibWrapped = first.length >= 2 && ((first[0] as number) & 0x0f) === 8 && ((first[0] as number) * 256 + (first[1] as number)) % 31 === 0;
  return zlibWrapped ? zlib.createInflate() : zlib.createInflateRaw();
}

export function contentDecoder(coding: ContentCoding, downstream: ByteSink, budget: DecodeBudget): ByteSink {
  let stream: (Decompressor) | undefined;
  let pump: Promise<void> = Promise.resolve();
  let mode: 'decode' | 'raw' | 'stopped' = 'decode';
  let producedBytes = 0;
  let rawHead: Buffer[] = [];
  let rawHeadBytes = 0;
  const meter = budget.ratio();

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
        // A decoding error: write() notices the failed write and switches to raw.
      }
    })();
    return s;
  };

  const fallBackToRaw = async () => {
    mode = 'raw';
    await pump;
    const head = producedBytes === 0 ? rawHead : [];
    rawHead = [];
    for (const chunk of head) await downstream.write(chunk);
  };

  return {
    async write(chunk) {
      if (mode === 'stopped') return;
      if (mode === 'raw') return downstream.write(chunk);
      const s = stream ?? start(chunk);
      meter.input(chunk.length);
      if (producedBytes === 0 && rawHeadBytes < MAX_RAW_HEAD_BYTES) {
        rawHead.push(chunk);
        rawHeadBytes += chunk.length;
      }
      const ok = await writeTo(s, chunk);
      if (!ok && mode === 'decode') await fallBackToRaw();
    },
    async end() {
      if (mode === 'decode' && stream !== undefined) {
        stream.end();
        await pump;
        if (!stream.readableEnded && mode === 'decode') await fallBackToRaw();
      }
      await pump;
      await downstream.end();
    },
  };
}
