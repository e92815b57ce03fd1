// A body held while it is scanned. Bytes stay in RAM up to `memoryBytes`; the first write beyond
// moves everything to a temp file. SHA-256 is computed as bytes arrive. While it is written it can
// be followed (follow(): the bytes so far, then each write as it lands, then the end) so a large
// body streams to ICAP as it arrives; once finished it can be replayed any number of times.
//
//   writing ──_final──► finished (done resolves) ──dispose() or destroy()──► released
//      └──error / destroy() / maxBytes──► released (done rejects, readers error)
//
// It is a Writable: _write calls back only once the bytes are stored (in RAM, or copied into the
// spool's stage, which is written to the file whenever it fills: stage-pool.ts), so a slow disk
// slows the producer through the ordinary stream backpressure. `size` counts every byte taken;
// `stored` those a reader can read (the stage's bytes become readable once written).
import { createHash, type Hash } from 'node:crypto';
import { Writable } from 'node:stream';
import type { Readable } from 'node:stream';
import { ProxyError } from '../core/errors.js';
import { SpoolReader, type SpoolSource } from './spool-reader.js';
import { returnStage, takeStage } from './stage-pool.js';
import { gauges, publish } from './spool-stats.js';
import { closeTempFile, openTempFile, writeAll, type TempFile } from './temp-file.js';

/**
 * What late readers of a completed, released spool see. One shared instance: releasing a spool
 * is the end of every exchange, and capturing a stack trace there cost 2-4 % of a cold scan
 * (bench profile).
 */
const RELEASED = new ProxyError('SPOOL_FAILED', 'spool released');

export interface SpoolOptions {
  /** bytes kept in RAM; a body of exactly this size stays in RAM */
  memoryBytes: number;
  /** more bytes than this fail the spool with `tooLargeCode` */
  maxBytes?: number;
  tooLargeCode?: 'CLIENT_BODY_TOO_LARGE' | 'SCAN_OVERSIZE';
  /** directory for temp files (default os.tmpdir()) */
  dir?: string;
}

export interface SpooledBody {
  /** lower-case hex */
  readonly sha256: string;
  readonly sizeBytes: number;
  readonly inMemory: boolean;
  /**
   * The body's bytes in order while it is held in RAM (the spool's own chunks: read them, never
   * change them); undefined when it went to a file. Lets a caller compare bytes without a stream.
   */
  readonly ram?: readonly Buffer[] | undefined;
  /** a fresh stream of the whole body, or of bytes [start, end); several may run at once */
  replay(start?: number, end?: number): Readable;
  /** free RAM and the temp file; readers still running fail. Idempotent. */
  dispose(): Promise<void>;
}

/**
 * A body held in RAM as one Buffer, to be written whole with its head (no copy when it is one
 * chunk); undefined when it went to a file or is empty.
 */
export function ramBytes(body: SpooledBody): Buffer | undefined {
  const ram = body.ram;
  if (ram === undefined || body.sizeBytes === 0) return undefined;
  return ram.length === 1 ? ram[0] : Buffer.concat(ram as Buffer[], body.sizeBytes);
}

export class Spool extends Writable implements SpoolSource {
  /** Resolves when the writer ended the body; rejects when the spool failed or was destroyed first. */
  readonly done: Promise<SpooledBody>;
  /** bytes taken (what the hash and maxBytes count) */
  size = 0;
  /** bytes readers can read: in `chunks`, or written to the file */
  stored = 0;
  chunks: Buffer[] = [];
  file: TempFile | undefined;
  /** true once every byte so far is in the file (reads go there from then on) */
  fileReady = false;
  finished = false;
  failure: Error | undefined;
  private readonly options: SpoolOptions;
  private readonly hash: Hash = createHash('sha256');
  private readonly readers = new Set<SpoolReader>();
  private released = false;
  private ramBytes = 0;
  private diskBytes = 0;
  private releasing: Promise<void> | undefined;
  /** bytes past `stored`, copied here until the stage is full (file mode only) */
  private stage: Buffer | undefined;
  private staged = 0;
  private flushing: Promise<void> | undefined;
  private settle!: { resolve: (b: SpooledBody) => void; reject: (e: Error) => void };

  constructor(options: SpoolOptions) {
    // No autoDestroy: a finished spool lives on as its SpooledBody until dispose() or destroy().
    super({ highWaterMark: 64 * 1024, autoDestroy: false });
    this.options = options;
    this.done = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
    // Nobody has to await `done` (the pipeline may only follow()): never an unhandled rejection.
    // Its failure is told by `done` and `failure`, so its 'error' event can never be unheard.
    this.done.catch(() => undefined);
    this.on('error', () => undefined);
    gauges.spools++;
  }

  /** A stream of the body from byte 0: what is stored now, then each write as it lands. */
  follow(start?: number, end?: number): Readable {
    if (this.released) throw new ProxyError('SPOOL_FAILED', 'spool already released');
    const reader = new SpoolReader(this, start, end);
    this.readers.add(reader);
    reader.once('close', () => this.readers.delete(reader));
    return reader;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const next = this.size + chunk.length;
    const { maxBytes, memoryBytes } = this.options;
    if (maxBytes !== undefined && next > maxBytes) {
      const code = this.options.tooLargeCode ?? 'SCAN_OVERSIZE';
      this.abort(new ProxyError(code, `body exceeds ${maxBytes} bytes`, { details: { maxBytes } }), callback);
      return;
    }
    this.hash.update(chunk);
    this.size = next;
    if (this.file === undefined && next <= memoryBytes) {
      this.chunks.push(chunk);
      this.stored = next;
      this.account(chunk.length, 0);
      this.wake();
      callback();
      return;
    }
    (this.file === undefined ? this.store(chunk) : this.stash(chunk)).then(
      () => callback(),
      (err: unknown) => this.abort(new ProxyError('SPOOL_FAILED', `spool write failed: ${(err as Error).message}`, { cause: err }), callback),
    );
  }

  /** The first write past memoryBytes: what RAM holds and this chunk go to a new temp file. */
  private async store(chunk: Buffer): Promise<void> {
    const file = await openTempFile(this.options.dir);
    if (this.released) {
      await closeTempFile(file); // release() ran while it was opening and could not see it
      return;
    }
    this.file = file;
    gauges.files++;
    await writeAll(file.handle, [...this.chunks, chunk], 0);
    if (this.released) return;
    // Readers part-way through RAM chunks switch to the file at their offset.
    this.account(-this.stored, this.size);
    this.stored = this.size;
    this.chunks = [];
    this.fileReady = true;
    publish({ type: 'spill', sizeBytes: this.size });
    this.wake();
  }

  /** Copy a chunk into the stage (the chunk is free once this returns or first awaits a full stage). */
  private async stash(chunk: Buffer): Promise<void> {
    let from = 0;
    while (from < chunk.length) {
      // A release while a stage write was pending: the stage may be another spool's by now.
      if (this.released) return;
      this.stage ??= takeStage();
      const n = chunk.copy(this.stage, this.staged, from);
      this.staged += n;
      from += n;
      if (this.staged === this.stage.length) await this.flushStage();
    }
  }

  private async flushStage(): Promise<void> {
    const n = this.staged;
    if (n === 0 || this.stage === undefined || this.file === undefined) return;
    this.flushing = writeAll(this.file.handle, [this.stage.subarray(0, n)], this.stored);
    try {
      await this.flushing;
    } finally {
      this.flushing = undefined;
    }
    if (this.released) return;
    this.staged = 0;
    this.stored += n;
    this.account(0, n);
    this.wake();
  }

  private account(ram: number, disk: number): void {
    this.ramBytes += ram;
    this.diskBytes += disk;
    gauges.memoryBytes += ram;
    gauges.diskBytes += disk;
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.staged === 0) return this.settleFinished(callback);
    this.flushStage().then(
      () => this.settleFinished(callback),
      (err: unknown) => this.abort(new ProxyError('SPOOL_FAILED', `spool write failed: ${(err as Error).message}`, { cause: err }), callback),
    );
  }

  private settleFinished(callback: (error?: Error | null) => void): void {
    if (this.released) return callback(this.failure);
    if (this.stage !== undefined) returnStage(this.stage);
    this.stage = undefined;
    this.finished = true;
    const body: SpooledBody = {
      sha256: this.hash.digest('hex'),
      sizeBytes: this.size,
      inMemory: this.file === undefined,
      ram: this.file === undefined ? this.chunks : undefined,
      replay: (start?: number, end?: number) => this.follow(start, end),
      dispose: () => this.release(),
    };
    this.wake();
    this.settle.resolve(body);
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.fail(error ?? (this.finished ? RELEASED : new ProxyError('SPOOL_FAILED', 'spool destroyed before the body ended')));
    this.release().then(
      () => callback(error),
      () => callback(error),
    );
  }

  /** A failed write releases everything at once, whoever is writing (pipeline or not). */
  private abort(error: ProxyError, callback: (error?: Error | null) => void): void {
    this.destroy(error);
    callback(error);
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    if (!this.finished) this.settle.reject(error);
    this.wake();
  }

  /** Free RAM, close (and so delete) the temp file; running readers fail. */
  release(): Promise<void> {
    if (this.releasing) return this.releasing;
    this.released = true;
    if (!this.failure) this.failure = this.finished ? RELEASED : new ProxyError('SPOOL_FAILED', 'spool released before the body ended');
    if (!this.finished) this.settle.reject(this.failure);
    for (const reader of this.readers) reader.destroy(this.failure);
    publish({ type: 'release', sizeBytes: this.size, onDisk: this.file !== undefined, completed: this.finished });
    this.account(-this.ramBytes, -this.diskBytes);
    gauges.spools--;
    this.chunks = [];
    this.releasing = this.closeFile();
    if (!this.destroyed) this.destroy();
    return this.releasing;
  }

  private async closeFile(): Promise<void> {
    // The file may still be reading the stage: it goes back to the pool only after that write.
    if (this.flushing) await this.flushing.catch(() => undefined);
    if (this.stage !== undefined) returnStage(this.stage);
    this.stage = undefined;
    const file = this.file;
    if (!file) return;
    await closeTempFile(file);
    gauges.files--;
  }

  private wake(): void {
    for (const reader of this.readers) reader.wake();
  }
}
