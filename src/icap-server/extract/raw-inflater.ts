// Raw deflate (RFC 1951) for zip entries, with node:zlib. A zip entry written with a data
// descriptor (general purpose flag bit 3) does not say how long its compressed data is: the end of
// the deflate stream does. write() therefore reports how many bytes of each chunk the stream
// consumed, and a chunk it did not consume in full holds the end of the entry.
//
// The stream is inflated on the calling thread, a piece at a time, the way node:zlib's own
// synchronous functions drive their engine (processChunkSync: handle.writeSync, then the counts it
// leaves in _writeState): a zlib stream would send each 64 KiB piece through the thread pool and
// back, and that round trip cost more CPU than the inflate (a 207 MB document.xml: 0.26-0.49 s
// as a stream, 0.16-0.21 s here), with the main thread idle meanwhile.
import zlib from 'node:zlib';
import type { ByteSink, RatioMeter } from '../decode/byte-sink.js';

/** The parts of a node:zlib engine that processChunkSync uses; its typings leave them out. */
interface Engine {
  _handle: { writeSync(flush: number, input: Buffer, inOff: number, inLength: number, out: Buffer, outOff: number, outLength: number): void };
  /** What the last writeSync left: [output space, input bytes]. */
  _writeState: Uint32Array;
}

/**
 * Output pieces. 256 KiB pieces made the benchmark's docx 1.23x faster but grew the 200 MiB zip's
 * RSS by 63-80 MiB (the target is under 64), and 43-52 even when handed on 64 KiB at a time;
 * 64 KiB: 20-25.
 */
const PIECE_BYTES = 64 * 1024;
const EMPTY = Buffer.alloc(0);

export class RawInflater {
  private readonly stream = zlib.createInflateRaw();
  private readonly engine = this.stream as unknown as Engine;
  /** The deflate stream is over: ended, broken, or stopped by a limit. */
  done = false;
  /** Stopped by a limit or broken: the end of the entry cannot be found from the stream. */
  failed = false;

  constructor(
    private readonly out: ByteSink,
    private readonly meter: RatioMeter,
    /** Where `out` lends the memory it reads from (LendingSink.room); else each piece is a new buffer. */
    private readonly room?: (bytes: number) => Buffer,
  ) {
    // A broken stream destroys itself with the error (read below, from `destroyed`): it must not crash the worker.
    this.stream.on('error', () => undefined);
  }

  private fail(): void {
    this.done = true;
    this.failed = true;
    this.stream.close();
  }

  /**
   * Inflates `input` (with `flush`), writing out each piece as it is made; how many of its bytes
   * the deflate stream took, or -1 when it broke or a limit stopped it.
   */
  private async inflate(input: Buffer, flush: number): Promise<number> {
    const { _handle: handle, _writeState: state } = this.engine;
    let taken = 0;
    for (;;) {
      const piece = this.room?.(PIECE_BYTES) ?? Buffer.allocUnsafe(PIECE_BYTES);
      handle.writeSync(flush, input, taken, input.length - taken, piece, 0, PIECE_BYTES);
      // An error in the data destroys the stream at once (node:zlib's handle.onerror).
      if (this.stream.destroyed) {
        this.fail();
        return -1;
      }
      const space = state[0] as number;
      taken = input.length - (state[1] as number);
      const made = PIECE_BYTES - space;
      if (made > 0) {
        if (!this.meter.output(made)) {
          this.fail();
          return -1;
        }
        await this.out.write(piece.subarray(0, made));
      }
      // Space left over: the engine wants more input, or its stream ended.
      if (space > 0) return taken;
    }
  }

  /** Writes `chunk`; resolves with how many of its bytes belong to the deflate stream. */
  async write(chunk: Buffer): Promise<number> {
    if (this.done) return 0;
    this.meter.input(chunk.length);
    const used = await this.inflate(chunk, zlib.constants.Z_NO_FLUSH);
    if (used < 0) return 0;
    if (used < chunk.length) this.done = true;
    return used;
  }

  /** Ends the input: a deflate stream that did not reach its end fails ("unexpected end of file"). */
  async end(): Promise<void> {
    if (this.failed) return;
    this.done = true;
    if ((await this.inflate(EMPTY, zlib.constants.Z_FINISH)) >= 0) this.stream.close();
  }
}
