// Pulls the caller's body in pieces of a bounded size, so a preview can stop at exactly N bytes
// and the rest be sent only after `100 Continue` (RFC 3507 §4.5). Nothing is read ahead beyond
// the stream's own buffer.
import type { Readable } from 'node:stream';
import { toProxyError, type ProxyError } from '../core/errors.js';

export class BodySource {
  private readonly stream: Readable;
  private leftover: Buffer | null = null;
  private ended = false;
  /** bytes handed out so far */
  consumed = 0;

  constructor(stream: Readable) {
    this.stream = stream;
  }

  get done(): boolean {
    return this.ended && this.leftover === null;
  }

  /** Up to `max` bytes, or null at the end of the body. */
  async read(max = Number.POSITIVE_INFINITY): Promise<Buffer | null> {
    let chunk = this.leftover;
    this.leftover = null;
    while (chunk === null) {
      if (this.ended) return null;
      const next: unknown = this.stream.read();
      if (next !== null) {
        chunk = typeof next === 'string' ? Buffer.from(next) : Buffer.isBuffer(next) ? next : Buffer.from(next as Uint8Array);
        if (chunk.length === 0) chunk = null;
        continue;
      }
      await this.waitReadable();
    }
    if (chunk.length > max) {
      this.leftover = chunk.subarray(max);
      chunk = chunk.subarray(0, max);
    }
    this.consumed += chunk.length;
    return chunk;
  }

  /** Whether the body has more bytes (waits for the stream to tell). */
  async atEnd(): Promise<boolean> {
    if (this.leftover) return false;
    const next = await this.read();
    if (next === null) return true;
    this.consumed -= next.length;
    this.leftover = next;
    return false;
  }

  /** Discard the rest so a tee feeding a spool keeps flowing (the answer needs no more body). */
  drain(): void {
    this.leftover = null;
    if (!this.ended && !this.stream.destroyed) {
      this.stream.on('error', () => undefined);
      this.stream.resume();
    }
  }

  private waitReadable(): Promise<void> {
    if (this.stream.readableEnded) {
      this.ended = true;
      return Promise.resolve();
    }
    if (this.stream.destroyed) return Promise.reject(bodyError(this.stream.errored ?? new Error('body stream destroyed before its end')));
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
        if (this.stream.readableEnded) {
          this.ended = true;
          resolve();
        } else reject(bodyError(new Error('body stream closed before its end')));
      };
      const cleanup = () => {
        this.stream.off('readable', done);
        this.stream.off('end', onEnd);
        this.stream.off('error', onError);
        this.stream.off('close', onClose);
      };
      this.stream.on('readable', done);
      this.stream.on('end', onEnd);
      this.stream.on('error', onError);
      this.stream.on('close', onClose);
    });
  }
}

function bodyError(err: unknown): ProxyError {
  return toProxyError(err, 'CLIENT_READ_FAILED');
}
