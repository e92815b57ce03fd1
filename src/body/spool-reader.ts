// The read side of a spool: follow() and replay() both return one of these. It reads RAM chunks
// without copying (a range that starts or ends inside a chunk gets a view of it), or the temp file
// by position, never past what is stored, and waits for the writer when it has caught up. Each
// reader keeps its own offset, so any number run at once.
//
// A consumer that knows when it is done with a chunk (the ICAP client, once the socket took it)
// hands it back with recycle(): the next file read goes into it instead of a new 64 KiB buffer.
// A 100 MiB body streamed to a slow scanner otherwise left every chunk for the next full GC
// (measured: up to 31 MiB of dead buffers in the proxy thread). Only a buffer this reader handed
// out whole can come back, and a read into it is pushed only as far as the file filled it.
import { Readable } from 'node:stream';
import type { TempFile } from './temp-file.js';

const READ_BYTES = 64 * 1024;
/** buffers kept for reuse per reader (a write in flight, one being filled, one spare) */
const SPARE_BUFFERS = 3;

/** What a reader needs to see of its spool. */
export interface SpoolSource {
  /** bytes readable so far (in chunks, or in the file) */
  readonly stored: number;
  readonly chunks: Buffer[];
  readonly file: TempFile | undefined;
  readonly fileReady: boolean;
  readonly finished: boolean;
  readonly failure: Error | undefined;
}

export class SpoolReader extends Readable {
  private position: number;
  private chunkIndex = 0;
  /** byte offset of chunks[chunkIndex] */
  private chunkStart = 0;
  private wanted = false;
  private reading = false;
  private readonly spare: Buffer[] = [];
  /** file-read buffers handed out whole, not (yet) given back */
  private readonly lent = new WeakSet<Buffer>();

  /** Reads bytes [start, end) of the spool; end defaults to wherever the body ends. */
  constructor(
    private readonly source: SpoolSource,
    start = 0,
    private readonly end = Number.POSITIVE_INFINITY,
  ) {
    super({ highWaterMark: READ_BYTES });
    this.position = start;
  }

  override _read(): void {
    this.wanted = true;
    this.pump();
  }

  /** Give back a chunk this reader pushed, once nothing holds it any more (not even a view of it). */
  recycle(chunk: Buffer): void {
    if (this.lent.delete(chunk) && this.spare.length < SPARE_BUFFERS) this.spare.push(chunk);
  }

  /** Called by the spool after each stored write, at the end, and on failure. */
  wake(): void {
    if (this.wanted || this.source.failure) this.pump();
  }

  private pump(): void {
    const s = this.source;
    while (!this.reading && !this.destroyed) {
      if (s.failure) {
        this.destroy(s.failure);
        return;
      }
      if (!this.wanted) return;
      const limit = Math.min(s.stored, this.end);
      if (this.position >= limit) {
        if (s.finished || this.position >= this.end) {
          this.wanted = false;
          this.push(null);
        }
        return;
      }
      if (!s.fileReady) this.pushRam(s, limit);
      else this.readFile(s, limit);
    }
  }

  /** The RAM chunk holding `position`, whole when the read covers it (no copy), else a view. */
  private pushRam(s: SpoolSource, limit: number): void {
    let chunk = s.chunks[this.chunkIndex]!;
    while (this.chunkStart + chunk.length <= this.position) {
      this.chunkStart += chunk.length;
      chunk = s.chunks[++this.chunkIndex]!;
    }
    const from = this.position - this.chunkStart;
    const to = Math.min(chunk.length, limit - this.chunkStart);
    this.pushChunk(from === 0 && to === chunk.length ? chunk : chunk.subarray(from, to));
  }

  private pushChunk(chunk: Buffer): void {
    this.position += chunk.length;
    this.wanted = this.push(chunk);
  }

  private readFile(s: SpoolSource, limit: number): void {
    const length = Math.min(READ_BYTES, limit - this.position);
    const buffer = this.spare.pop() ?? Buffer.allocUnsafe(READ_BYTES);
    this.reading = true;
    s.file!.handle.read(buffer, 0, length, this.position).then(
      ({ bytesRead }) => {
        this.reading = false;
        if (this.destroyed) return;
        if (bytesRead === 0) {
          this.destroy(new Error('spool temp file shorter than its recorded size'));
          return;
        }
        // Only what this read filled is pushed: a reused buffer's older bytes never leave.
        if (bytesRead === buffer.length) this.lent.add(buffer);
        this.pushChunk(bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead));
        this.pump();
      },
      (err: unknown) => {
        this.reading = false;
        this.destroy(err as Error);
      },
    );
  }
}
