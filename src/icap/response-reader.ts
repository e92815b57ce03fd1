// The read side of one transaction: turns decoder events into the interim answer (100 Continue),
// the final answer (204, or 200 with its adapted HTTP head) and, for a 200 with a body, a Readable
// that honours backpressure (the socket pauses while the consumer is full). A consumer that
// destroys the body early puts the reader in discard mode: the rest is read and dropped so the
// connection can still be reused.
//
// When the body sent is held whole in RAM, a 200's body is compared with it as it arrives (c-icap's
// srv_content_filtering answers every body it passes with such an echo): an echo byte for byte is
// answered at its last chunk as `echo`, with no stream, nothing kept and nothing copied; the first
// byte that differs (or one past the original's end, or an end before it) turns it into a body
// like any other, starting with the original's bytes that matched.
//
//   head ──200 with body, original held──► echo ──differs / ends short──► body ──► done
//     │                                     └──ends, same length──► done (echo)
//     └──200 with body──► body ──► done
import { Readable } from 'node:stream';
import { ProxyError } from '../core/errors.js';
import type { HttpHead } from '../core/types.js';
import type { IcapResponseEvent, IcapResponseHead } from './codec/index.js';
import type { IcapConnection, ResponseSink } from './connection.js';

export interface FinalAnswer {
  head: IcapResponseHead;
  /** encapsulated HTTP heads in order (req-hdr, res-hdr) */
  http: HttpHead[];
  /** null when the answer carries no body, or when it was the body sent (`echo`) */
  body: Readable | null;
  /** the answer's body was byte for byte the body sent */
  echo: boolean;
}

type Phase = 'head' | 'http' | 'echo' | 'body' | 'discard' | 'done';

export class ResponseReader implements ResponseSink {
  private phase: Phase = 'head';
  private finalHead: IcapResponseHead | null = null;
  private readonly http: HttpHead[] = [];
  private output: Readable | null = null;
  private continueWaiter: { resolve(v: 'continue' | 'final'): void; reject(e: ProxyError): void } | null = null;
  private readonly final: Promise<FinalAnswer>;
  private resolveFinal!: (a: FinalAnswer) => void;
  private rejectFinal!: (e: ProxyError) => void;
  private failure: ProxyError | null = null;
  /** the whole response was read off the connection */
  ended = false;
  /** the final answer said `Connection: close` (c-icap after MaxKeepAliveRequests) */
  closeRequested = false;
  private readonly onEnded: () => void;
  /** the body sent, when held whole: a 200's body is compared with it */
  private readonly match: EchoMatch | null;

  constructor(
    private readonly conn: IcapConnection,
    onEnded: () => void,
    original?: readonly Buffer[],
  ) {
    this.onEnded = onEnded;
    this.match = original ? new EchoMatch(original) : null;
    this.final = new Promise((resolve, reject) => {
      this.resolveFinal = resolve;
      this.rejectFinal = reject;
    });
    this.final.catch(() => undefined);
  }

  /** The final answer (any status); rejects on connection or protocol failure. */
  answer(): Promise<FinalAnswer> {
    return this.final;
  }

  get failed(): ProxyError | null {
    return this.failure;
  }

  /** Status of the final answer, once its head arrived. */
  get status(): number | undefined {
    return this.finalHead?.status;
  }

  get answered(): boolean {
    return this.finalHead !== null;
  }

  /** After a preview: resolves 'continue' on 100, 'final' once the final answer's head arrived. */
  awaitPreviewAnswer(): Promise<'continue' | 'final'> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.finalHead) return Promise.resolve('final');
    return new Promise((resolve, reject) => (this.continueWaiter = { resolve, reject }));
  }

  /** Answers whose body nobody wants (errors, 204 with a body): read and drop the rest. */
  discard(): void {
    if (this.phase === 'body' || this.phase === 'http' || this.phase === 'head') this.phase = this.ended ? 'done' : 'discard';
    this.conn.resume();
  }

  onEvent(event: IcapResponseEvent): void {
    switch (event.type) {
      case 'continue':
        if (this.continueWaiter && !this.finalHead) {
          const w = this.continueWaiter;
          this.continueWaiter = null;
          w.resolve('continue');
        }
        return;
      case 'head': {
        this.finalHead = event.head;
        this.closeRequested = (event.head.headers.get('connection') ?? '').toLowerCase().split(',').some((t) => t.trim() === 'close');
        const heads = event.head.encapsulated?.heads.length ?? 0;
        this.phase = heads > 0 ? 'http' : 'body';
        if (heads === 0) this.deliver();
        return;
      }
      case 'http-head':
        this.http.push(event.head);
        if (this.phase === 'http' && this.http.length === this.finalHead!.encapsulated!.heads.length) {
          this.phase = 'body';
          this.deliver();
        }
        return;
      case 'body':
        if (this.phase === 'echo') {
          if (this.match!.next(event.data)) return;
          this.differs();
        }
        if (this.phase === 'body' && this.output && !this.output.push(bodyChunk(event.data))) this.conn.pause();
        return;
      case 'end':
        this.ended = true;
        if (this.phase === 'echo') {
          if (this.match!.whole) this.resolveFinal({ head: this.finalHead!, http: this.http, body: null, echo: true });
          else this.differs();
        }
        if (this.phase === 'body') this.output?.push(null);
        this.phase = 'done';
        this.onEnded();
        return;
    }
  }

  onError(err: ProxyError): void {
    if (this.failure) return;
    this.failure = err;
    this.phase = 'done';
    this.continueWaiter?.reject(err);
    this.continueWaiter = null;
    this.rejectFinal(err);
    if (this.output && !this.output.readableEnded) this.output.destroy(err);
  }

  private deliver(): void {
    const head = this.finalHead!;
    const carriesBody = head.encapsulated !== null && head.encapsulated.body.name !== 'null-body';
    if (this.continueWaiter) {
      const w = this.continueWaiter;
      this.continueWaiter = null;
      w.resolve('final');
    }
    if (carriesBody && head.status === 200) {
      if (this.match) {
        // the answer waits for the body's end, or its first byte that differs
        this.phase = 'echo';
        return;
      }
      this.output = this.bodyStream();
    } else if (carriesBody) {
      this.phase = 'discard';
    }
    this.resolveFinal({ head, http: this.http, body: this.output, echo: false });
  }

  /** Not an echo after all: the answer is a body that starts with the original's bytes that matched. */
  private differs(): void {
    this.phase = 'body';
    const output = this.bodyStream();
    this.output = output;
    let room = true;
    for (const part of this.match!.matched()) room = output.push(part) && room;
    if (!room) this.conn.pause();
    this.resolveFinal({ head: this.finalHead!, http: this.http, body: output, echo: false });
  }

  private bodyStream(): Readable {
    return new Readable({
      highWaterMark: 64 * 1024,
      read: () => this.conn.resume(),
      destroy: (err, cb) => {
        if (!this.ended && !this.failure) this.discard();
        cb(err);
      },
    });
  }
}

/** The body sent, compared piece by piece with an answer's body as it arrives (no copies). */
class EchoMatch {
  private readonly bytes: number;
  /** bytes of the answer that matched */
  private offset = 0;
  /** the original's chunk holding `offset`, and that chunk's first byte */
  private index = 0;
  private indexStart = 0;

  constructor(private readonly original: readonly Buffer[]) {
    let bytes = 0;
    for (const part of original) bytes += part.length;
    this.bytes = bytes;
  }

  get whole(): boolean {
    return this.offset === this.bytes;
  }

  /** Whether `data` is the original's next bytes; advances when it is. */
  next(data: Uint8Array): boolean {
    if (this.offset + data.length > this.bytes) return false;
    let from = 0;
    let index = this.index;
    let indexStart = this.indexStart;
    while (from < data.length) {
      const part = this.original[index]!;
      const at = this.offset + from - indexStart;
      const n = Math.min(part.length - at, data.length - from);
      if (part.compare(data, from, from + n, at, at + n) !== 0) return false;
      from += n;
      if (at + n === part.length) {
        indexStart += part.length;
        index++;
      }
    }
    this.offset += data.length;
    this.index = index;
    this.indexStart = indexStart;
    return true;
  }

  /** The original's bytes that matched so far, as views of its chunks. */
  matched(): Buffer[] {
    const out: Buffer[] = [];
    let left = this.offset;
    for (let i = 0; left > 0; i++) {
      const part = this.original[i]!;
      out.push(left >= part.length ? part : part.subarray(0, left));
      left -= part.length;
    }
    return out;
  }
}

/**
 * A body chunk as a Buffer. The decoder hands out views of the socket's reads, which the socket
 * never reuses (each read is its own allocation, trimmed to what it got): a piece that is most of
 * its read is passed on as a view, without the copy that cost 3 % of an ICAP transaction's CPU. A
 * small piece is copied, so a peer cutting its body into tiny chunks cannot make a held body pin
 * whole read buffers.
 */
function bodyChunk(data: Uint8Array): Buffer {
  return data.byteLength * 2 >= data.buffer.byteLength ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : Buffer.from(data);
}
