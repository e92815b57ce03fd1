// Pulls the caller's body in pieces of a bounded size, so a preview can stop at exactly N bytes
// and the rest be sent only after `100 Continue` (RFC 3507 §4.5). Nothing is read ahead beyond
// the stream's own buffer. The first `retainBytes` handed out are kept, so a transaction that
// failed having sent no more than that (a preview, a small body) can start over on another server.
// A body already whole in RAM (a spool's chunks) is handed out from its chunks: no stream at all.
import type { Readable } from 'node:stream';
import { ProxyError } from '../core/errors.js';
import { peerFailure } from './peer-failure.js';

/** A failure inside stream.read() is told through stream.errored; its 'error' event needs an ear. */
const ignore = (): void => undefined;

export class BodySource {
  /** null: the body is the chunks given, all of them already pending */
  private readonly stream: Readable | null;
  private readonly retainBytes: number;
  /** chunks to hand out before reading the stream again (a peeked chunk, a replay) */
  private pending: Buffer[] = [];
  /** what was handed out since the start, while it fits in retainBytes; null once it did not */
  private history: Buffer[] | null = [];
  private historyBytes = 0;
  private ended = false;
  private drained = false;
  /** bumped by rewind(): a read still waiting from the attempt before gets null, not a byte */
  private generation = 0;
  /** bytes handed out so far */
  consumed = 0;

  /** `body`: a stream, or the whole body as chunks (read, never changed, never recycled). */
  constructor(body: Readable | readonly Buffer[], retainBytes = 0) {
    this.retainBytes = retainBytes;
    if (Array.isArray(body)) {
      this.stream = null;
      this.pending = body.filter((chunk) => chunk.length > 0);
      this.ended = true;
      return;
    }
    this.stream = body as Readable;
    // A stream that fails inside read() emits 'error' on the next tick, after read() returned and
    // before a waiter listens: unheard, that would end the process. The failure still reaches the
    // transaction through stream.errored (waitReadable).
    this.stream.on('error', ignore);
  }

  get done(): boolean {
    return this.ended && this.pending.length === 0;
  }

  /** Up to `max` bytes, or null at the end of the body. */
  async read(max = Number.POSITIVE_INFINITY): Promise<Buffer | null> {
    const generation = this.generation;
    const chunk = this.pending.shift() ?? (await this.pull(generation));
    if (chunk === null) return null;
    if (generation !== this.generation) {
      // Pulled off the stream for an attempt that was abandoned meanwhile: it follows the replay.
      this.pending.push(chunk);
      return null;
    }
    return this.hand(chunk, max);
  }

  /**
   * Up to `max` bytes the stream already holds, without waiting; null when it holds none now (the
   * body may still go on). Lets a sender put what is at hand into one write.
   */
  readReady(max = Number.POSITIVE_INFINITY): Buffer | null {
    const chunk = this.pending.shift() ?? this.pullReady();
    return chunk === null ? null : this.hand(chunk, max);
  }

  private hand(chunk: Buffer, max: number): Buffer {
    if (chunk.length > max) {
      this.pending.unshift(chunk.subarray(max));
      chunk = chunk.subarray(0, max);
    }
    this.consumed += chunk.length;
    if (this.history) {
      this.historyBytes += chunk.length;
      if (this.historyBytes <= this.retainBytes) this.history.push(chunk);
      else this.history = null;
    }
    return chunk;
  }

  /**
   * Hand back a chunk read() returned once nothing holds it any more, for a stream that reuses its
   * buffers (SpoolReader.recycle). Never while the first bytes are kept for a rewind.
   */
  recycle(chunk: Buffer): void {
    if (this.history === null && this.stream !== null) (this.stream as { recycle?: (chunk: Buffer) => void }).recycle?.(chunk);
  }

  /** Whether the body has more bytes (waits for the stream to tell). */
  async atEnd(): Promise<boolean> {
    const generation = this.generation;
    const next = this.pending.shift() ?? (await this.pull(generation));
    if (next === null) return true;
    if (generation !== this.generation) this.pending.push(next);
    else this.pending.unshift(next);
    return false;
  }

  /**
   * Start over from the first byte, for another attempt. False when that is impossible: more than
   * retainBytes were handed out, or the rest was drained.
   */
  rewind(): boolean {
    if (this.consumed > 0 && (!this.history || this.drained)) return false;
    this.pending = [...(this.history ?? []), ...this.pending];
    this.history = [];
    this.historyBytes = 0;
    this.consumed = 0;
    this.generation++;
    return true;
  }

  /** Discard the rest so a tee feeding a spool keeps flowing (the answer needs no more body). */
  drain(): void {
    this.drained = true;
    this.pending = [];
    if (!this.ended && this.stream !== null && !this.stream.destroyed) this.stream.resume();
  }

  /** The next chunk off the stream; null at its end or once a rewind made the caller stale. */
  private async pull(generation: number): Promise<Buffer | null> {
    for (;;) {
      if (generation !== this.generation) return null;
      const chunk = this.pullReady();
      if (chunk !== null) return chunk;
      if (this.ended) return null;
      await this.waitReadable();
    }
  }

  /** A non-empty chunk the stream holds now, or null. */
  private pullReady(): Buffer | null {
    for (;;) {
      if (this.ended || this.stream === null) return null;
      const next: unknown = this.stream.read();
      if (next === null) return null;
      const chunk = typeof next === 'string' ? Buffer.from(next) : Buffer.isBuffer(next) ? next : Buffer.from(next as Uint8Array);
      if (chunk.length > 0) return chunk;
    }
  }

  private waitReadable(): Promise<void> {
    // A body given as chunks is ended from the start: pull() never waits for it.
    const stream = this.stream;
    if (stream === null) return Promise.resolve();
    if (stream.readableEnded) {
      this.ended = true;
      return Promise.resolve();
    }
    if (stream.destroyed) return Promise.reject(stream.errored ? bodyError(stream.errored) : cutShort('destroyed'));
    return new Promise((resolve, reject) => {
      const done = () => {
        cleanup();
        resolve();
      };
      const onEnd = () => {
        this.ended = true;
        done();
      };
      const onError = (err: Error) => {
        cleanup();
        reject(bodyError(err));
      };
      const onClose = () => {
        cleanup();
        if (stream.readableEnded) {
          this.ended = true;
          resolve();
        } else reject(cutShort('closed'));
      };
      const cleanup = () => {
        stream.off('readable', done);
        stream.off('end', onEnd);
        stream.off('error', onError);
        stream.off('close', onClose);
      };
      stream.on('readable', done);
      stream.on('end', onEnd);
      stream.on('error', onError);
      stream.on('close', onClose);
    });
  }
}

/** The sender's socket failing is the client's doing; a stream that threw anything else is ours. */
function bodyError(err: unknown): ProxyError {
  return peerFailure(err, 'CLIENT_READ_FAILED');
}

function cutShort(how: 'closed' | 'destroyed'): ProxyError {
  return new ProxyError('CLIENT_READ_FAILED', `body stream ${how} before its end`);
}
