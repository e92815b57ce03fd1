// The read side of one transaction: turns decoder events into the interim answer (100 Continue),
// the final answer (204, or 200 with its adapted HTTP head) and, for a 200 with a body, a Readable
// that honours backpressure (the socket pauses while the consumer is full). A consumer that
// destroys the body early puts the reader in discard mode: the rest is read and dropped so the
// connection can still be reused.
import { Readable } from 'node:stream';
import { ProxyError } from '../core/errors.js';
import type { HttpHead } from '../core/types.js';
import type { IcapResponseEvent, IcapResponseHead } from './codec/index.js';
import type { IcapConnection, ResponseSink } from './connection.js';

export interface FinalAnswer {
  head: IcapResponseHead;
  /** encapsulated HTTP heads in order (req-hdr, res-hdr) */
  http: HttpHead[];
  /** null when the answer carries no body */
  body: Readable | null;
}

type Phase = 'head' | 'http' | 'body' | 'discard' | 'done';

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

  constructor(
    private readonly conn: IcapConnection,
    onEnded: () => void,
  ) {
    this.onEnded = onEnded;
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
        if (this.phase === 'body' && this.output && !this.output.push(bodyChunk(event.data))) this.conn.pause();
        return;
      case 'end':
        this.ended = true;
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
    if (carriesBody && head.status === 200) {
      this.output = new Readable({
        highWaterMark: 64 * 1024,
        read: () => this.conn.resume(),
        destroy: (err, cb) => {
          if (!this.ended && !this.failure) this.discard();
          cb(err);
        },
      });
    } else if (carriesBody) {
      this.phase = 'discard';
    }
    if (this.continueWaiter) {
      const w = this.continueWaiter;
      this.continueWaiter = null;
      w.resolve('final');
    }
    this.resolveFinal({ head, http: this.http, body: this.output });
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
