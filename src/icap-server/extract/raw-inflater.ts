// Raw deflate (RFC 1951) for zip entries, with node:zlib. A zip entry written with a data
// descriptor (general purpose flag bit 3) does not say how long its compressed data is: the end of
// the deflate stream does. write() therefore reports how many bytes of each chunk the stream
// consumed, and a chunk it did not consume in full holds the end of the entry.
//
// The stream is inflated on the calling thread, a 64 KiB piece at a time (decode/zlib-engine.ts):
// a zlib stream would send each piece through the thread pool and back, and that round trip cost
// more CPU than the inflate (a 207 MB document.xml: 0.26-0.49 s as a stream, 0.16-0.21 s here).
import zlib from 'node:zlib';
import type { ByteSink, RatioMeter } from '../decode/byte-sink.js';
import { ZlibEngine } from '../decode/zlib-engine.js';

const EMPTY = Buffer.alloc(0);

export class RawInflater {
  private readonly engine = new ZlibEngine(zlib.createInflateRaw());
  /** The deflate stream is over: ended, broken, or stopped by a limit. */
  done = false;
  /** Stopped by a limit or broken: the end of the entry cannot be found from the stream. */
  failed = false;

  constructor(
    private readonly out: ByteSink,
    private readonly meter: RatioMeter,
    /** Where `out` lends the memory it reads from (LendingSink.room); else each piece is a new buffer. */
    private readonly room?: (bytes: number) => Buffer,
  ) {}

  private readonly onPiece = async (piece: Buffer): Promise<boolean> => {
    if (!this.meter.output(piece.length)) return false;
    await this.out.write(piece);
    return true;
  };

  /**
   * Inflates `input` (the last of it when `finish`), writing out each piece as it is made; how
   * many of its bytes the deflate stream took, or -1 when it broke or a limit stopped it.
   */
  private async inflate(input: Buffer, finish: boolean): Promise<number> {
    const taken = await this.engine.run(input, finish, this.onPiece, this.room);
    if (taken >= 0) return taken;
    this.done = true;
    this.failed = true;
    this.engine.close();
    return -1;
  }

  /** Writes `chunk`; resolves with how many of its bytes belong to the deflate stream. */
  async write(chunk: Buffer): Promise<number> {
    if (this.done) return 0;
    this.meter.input(chunk.length);
    const used = await this.inflate(chunk, false);
    if (used < 0) return 0;
    if (used < chunk.length) this.done = true;
    return used;
  }

  /** Ends the input: a deflate stream that did not reach its end fails ("unexpected end of file"). */
  async end(): Promise<void> {
    if (this.failed) return;
    this.done = true;
    if ((await this.inflate(EMPTY, true)) >= 0) this.engine.close();
  }
}
