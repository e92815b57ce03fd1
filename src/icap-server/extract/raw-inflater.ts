// Raw deflate (RFC 1951) for zip entries, with node:zlib. A zip entry written with a data
// descriptor (general purpose flag bit 3) does not say how long its compressed data is: the end of
// the deflate stream does. write() therefore reports how many bytes of each chunk the stream
// consumed, and a chunk it did not consume in full holds the end of the entry.
import zlib from 'node:zlib';
import type { ByteSink, RatioMeter } from '../decode/byte-sink.js';

export class RawInflater {
  // 64 KiB output pieces: a quarter of the round trips through the thread pool of the default 16 KiB.
  // 256 KiB pieces made the benchmark's docx 1.23x faster but grew the 200 MiB zip's RSS by 63-80
  // MiB (the target is under 64), and 43-52 even when handed on 64 KiB at a time; 64 KiB: 20-25.
  private readonly stream = zlib.createInflateRaw({ chunkSize: 64 * 1024 });
  private readonly pump: Promise<void>;
  private consumed = 0;
  /** The deflate stream is over: ended, broken, or stopped by a limit. */
  done = false;
  /** Stopped by a limit or broken: the end of the entry cannot be found from the stream. */
  failed = false;

  constructor(
    out: ByteSink,
    private readonly meter: RatioMeter,
  ) {
    const stream = this.stream;
    // Errors are read from the iterator; a late one must not crash the worker.
    stream.on('error', () => undefined);
    this.pump = (async () => {
      try {
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          if (!meter.output(chunk.length)) {
            this.fail();
            return;
          }
          await out.write(chunk);
        }
      } catch {
        this.fail();
      }
    })();
  }

  private fail(): void {
    this.done = true;
    this.failed = true;
    this.stream.destroy();
  }

  /** Writes `chunk`; resolves with how many of its bytes belong to the deflate stream. */
  async write(chunk: Buffer): Promise<number> {
    if (this.done) return 0;
    this.meter.input(chunk.length);
    const stream = this.stream;
    await new Promise<void>((resolve) => {
      // A stream that fails or is destroyed never calls the write callback: its close settles it.
      const onClose = () => resolve();
      stream.once('close', onClose);
      stream.write(chunk, () => {
        stream.off('close', onClose);
        resolve();
      });
    });
    if (this.failed) return 0;
    const used = stream.bytesWritten - this.consumed;
    this.consumed = stream.bytesWritten;
    if (used < chunk.length) this.done = true;
    return used;
  }

  /** Ends the input and waits until every decoded byte was written out. */
  async end(): Promise<void> {
    if (!this.stream.destroyed) this.stream.end();
    await this.pump;
  }
}
