// The read side of a spool: follow() and replay() both return one of these. It reads RAM chunks
// without copying, or the temp file by position, never past what is stored, and waits for the
// writer when it has caught up. Each reader keeps its own offset, so any number run at once.
import { Readable } from 'node:stream';
import type { TempFile } from './temp-file.js';

const READ_BYTES = 64 * 1024;

/** What a reader needs to see of its spool. */
export interface SpoolSource {
  readonly size: number;
  readonly chunks: Buffer[];
  readonly file: TempFile | undefined;
  readonly fileReady: boolean;
  readonly finished: boolean;
  readonly failure: Error | undefined;
}

export class SpoolReader extends Readable {
  private position = 0;
  private chunkIndex = 0;
  private wanted = false;
  private reading = false;

  constructor(private readonly source: SpoolSource) {
    super({ highWaterMark: READ_BYTES });
  }

  override _read(): void {
    this.wanted = true;
    this.pump();
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
      if (this.position >= s.size) {
        if (s.finished) {
          this.wanted = false;
          this.push(null);
        }
        return;
      }
      // Whole RAM chunks are pushed as they are (no copy): offsets stay on chunk boundaries.
      if (!s.fileReady) this.pushChunk(s.chunks[this.chunkIndex++]!);
      else this.readFile(s);
    }
  }

  private pushChunk(chunk: Buffer): void {
    this.position += chunk.length;
    this.wanted = this.push(chunk);
  }

  private readFile(s: SpoolSource): void {
    const length = Math.min(READ_BYTES, s.size - this.position);
    const buffer = Buffer.allocUnsafe(length);
    this.reading = true;
    s.file!.handle.read(buffer, 0, length, this.position).then(
      ({ bytesRead }) => {
        this.reading = false;
        if (this.destroyed) return;
        if (bytesRead === 0) {
          this.destroy(new Error('spool temp file shorter than its recorded size'));
          return;
        }
        this.pushChunk(bytesRead === length ? buffer : buffer.subarray(0, bytesRead));
        this.pump();
      },
      (err: unknown) => {
        this.reading = false;
        this.destroy(err as Error);
      },
    );
  }
}
