// An adapted body (an ICAP 200's) read against the original it may merely echo. c-icap's
// srv_content_filtering answers every body it passes with a 200 that carries the body unchanged:
// spooling and hashing that copy to learn it is the same cost a second spool and a second SHA-256
// per scanned body. Here, while the original is held in RAM, each incoming chunk is compared with
// the original's bytes at its offset (native Buffer.compare, no copy) and only kept by reference;
// the first byte that differs, or one past the original's end, starts a spool seeded with what
// matched so far, and the rest is piped into it with backpressure.
//
//   matching ──(chunk differs / body longer)──► spooling ──end──► SpooledBody
//      └──end, same length──► 'same' (nothing kept)       └──end shorter──► SpooledBody
//
// While matching, what is kept is bounded by the original's size (already in RAM).
import type { Readable } from 'node:stream';
import { ProxyError } from '../core/errors.js';
import { Spool, type SpooledBody, type SpoolOptions } from './spool.js';

/**
 * Read `body` to its end. Resolves 'same' when it is byte for byte `original` (a RAM-held body's
 * chunks, SpooledBody.ram, of `originalBytes` in all), else the body held in a spool of its own
 * (the caller disposes it). Rejects when `body` fails or the spool does (past `options.maxBytes`).
 */
export function holdUnlessSame(body: Readable, original: readonly Buffer[], originalBytes: number, options: SpoolOptions): Promise<SpooledBody | 'same'> {
  return new Promise((resolve, reject) => new SameMatch(body, original, originalBytes, options, resolve, reject).start());
}

/**
 * The whole body in a spool of its own. pipe, not stream.pipeline(): Node 20's pipeline aborts an
 * AbortController of its own when it ends, which builds a DOMException with its stack for every
 * held body (2 % of a scanned request in the profile). Either side failing still ends both.
 */
export function holdWhole(body: Readable, options: SpoolOptions): Promise<SpooledBody> {
  return holdRest(body, new Spool(options));
}

/** One comparison; a class so a scanned body costs one object and its bound listeners. */
class SameMatch {
  /** the incoming chunks that matched so far (references, no copies) */
  private readonly kept: Buffer[] = [];
  private offset = 0;
  /** position in the original: chunk index and that chunk's first byte */
  private index = 0;
  private indexStart = 0;
  private settled = false;
  private readonly onData = (chunk: Buffer) => this.data(chunk);
  private readonly onEnd = () => this.end();
  private readonly onError = (err: Error) => this.fail(err);
  private readonly onClose = () => {
    if (!this.body.readableEnded) this.fail(new ProxyError('ICAP_READ_FAILED', 'the adapted body ended before its last chunk'));
  };

  constructor(
    private readonly body: Readable,
    private readonly original: readonly Buffer[],
    private readonly originalBytes: number,
    private readonly options: SpoolOptions,
    private readonly resolve: (result: SpooledBody | 'same') => void,
    private readonly reject: (err: Error) => void,
  ) {}

  start(): void {
    this.body.on('data', this.onData);
    this.body.once('end', this.onEnd);
    this.body.once('error', this.onError);
    this.body.once('close', this.onClose);
  }

  private data(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.offset + chunk.length <= this.originalBytes && this.matches(chunk)) {
      this.kept.push(chunk);
      this.offset += chunk.length;
      return;
    }
    // It differs: from here it is an adapted body like any other, seeded with what matched.
    this.stop();
    const spool = new Spool(this.options);
    for (const part of this.kept) spool.write(part);
    this.kept.length = 0;
    spool.write(chunk);
    this.settled = true;
    holdRest(this.body, spool).then(this.resolve, this.reject);
  }

  /** Whether `chunk` equals the original's bytes at the current offset (advances the cursor). */
  private matches(chunk: Buffer): boolean {
    let from = 0;
    while (from < chunk.length) {
      const part = this.original[this.index]!;
      const at = this.offset + from - this.indexStart;
      const n = Math.min(part.length - at, chunk.length - from);
      if (chunk.compare(part, at, at + n, from, from + n) !== 0) return false;
      from += n;
      if (at + n === part.length) {
        this.indexStart += part.length;
        this.index++;
      }
    }
    return true;
  }

  private end(): void {
    if (this.settled) return;
    this.stop();
    this.settled = true;
    if (this.offset === this.originalBytes) {
      this.resolve('same');
      return;
    }
    // Shorter than the original: what came is the adapted body.
    const spool = new Spool(this.options);
    for (const part of this.kept) spool.write(part);
    spool.end();
    spool.done.then(this.resolve, this.reject);
  }

  private fail(err: Error): void {
    if (this.settled) return;
    this.stop();
    this.settled = true;
    this.reject(err);
  }

  private stop(): void {
    this.body.off('data', this.onData);
    this.body.off('end', this.onEnd);
    this.body.off('error', this.onError);
    this.body.off('close', this.onClose);
  }
}

/** The rest of `body` into `spool` (which may already hold its first bytes). */
function holdRest(body: Readable, spool: Spool): Promise<SpooledBody> {
  body.once('error', (err) => spool.destroy(err));
  spool.done.catch((err: unknown) => body.destroy(err as Error));
  if (body.readableEnded) spool.end();
  else body.pipe(spool);
  return spool.done;
}
