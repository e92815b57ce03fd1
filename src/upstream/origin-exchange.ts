// One request to an origin through undici's dispatcher API (its low-level handler: raw header
// bytes, and `false` from onData pauses the parser, so the consumer's pace reaches the origin
// socket). The caller gets what node's ClientRequest gave it: a Writable for the request body (or
// gives the body whole, or none, and no Writable is made) and a promise of the response head.
// Failures are ProxyErrors naming the moment:
//
//   open ──head──► start ──onConnect──► sent ──onHeaders──► response ──onComplete──► done
//     │ (request body idle: UPSTREAM_IDLE_TIMEOUT)    │ UPSTREAM_HEADERS_TIMEOUT     │ UPSTREAM_IDLE_TIMEOUT (undici bodyTimeout)
//     └─ connect: UPSTREAM_DESTINATION_FORBIDDEN | _DNS_FAILED | _CONNECT_FAILED | _CONNECT_TIMEOUT | _TLS_FAILED
import diagnostics from 'node:diagnostics_channel';
import { Readable, Writable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { ProxyError, type ErrorCode } from '../core/errors.js';
import { UndiciResponse, type OriginResponse } from './origin-response.js';

const TLS_ERROR = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO|HOSTNAME|ERR_TLS|EPROTO|DEPTH_ZERO/;

/** undici's own codes (lib/core/errors.js) that name a moment of their own */
const UNDICI_CODES: Record<string, ErrorCode> = {
  UND_ERR_CONNECT_TIMEOUT: 'UPSTREAM_CONNECT_TIMEOUT',
  UND_ERR_HEADERS_TIMEOUT: 'UPSTREAM_HEADERS_TIMEOUT',
  UND_ERR_BODY_TIMEOUT: 'UPSTREAM_IDLE_TIMEOUT',
  UND_ERR_REQ_CONTENT_LENGTH_MISMATCH: 'UPSTREAM_WRITE_FAILED',
};

/** Map a socket-level (or undici) failure to the code that names it. */
export function upstreamErrorCode(err: NodeJS.ErrnoException): ErrorCode {
  const code = err.code ?? '';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_FAIL' || code === 'EAI_NONAME') return 'UPSTREAM_DNS_FAILED';
  if (code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'EADDRNOTAVAIL') return 'UPSTREAM_CONNECT_FAILED';
  if (code === 'EPIPE') return 'UPSTREAM_WRITE_FAILED';
  const undici = UNDICI_CODES[code];
  if (undici) return undici;
  if (TLS_ERROR.test(code)) return 'UPSTREAM_TLS_FAILED';
  return 'UPSTREAM_READ_FAILED';
}

/** A failure as the exchange reports it: ours pass as they are, a peer's is named by its moment. */
export function upstreamError(where: string, err: NodeJS.ErrnoException): ProxyError {
  if (err instanceof ProxyError) return err;
  // undici refused the head it was given (a repeated Host, RFC 9112 §3.2; a target that is not
  // origin-form): the client's request cannot be forwarded
  if (err.code === 'UND_ERR_INVALID_ARG' && /header|path/.test(err.message)) return new ProxyError('CLIENT_BAD_REQUEST', `${where}: ${err.message}`, { cause: err });
  // anything else undici refuses to do, or a JavaScript error thrown on our side of the handler,
  // is a defect of ours, not the origin's (fails closed)
  if (err.code === 'UND_ERR_INVALID_ARG' || err.code === 'UND_ERR_NOT_SUPPORTED' || err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError) {
    return new ProxyError('INTERNAL', `${where}: ${err.message}`, { cause: err });
  }
  // undici's HTTPParserError (a malformed head or body framing) comes without a code: a read failure
  return new ProxyError(upstreamErrorCode(err), `${where}: ${err.code ? `${err.code} ` : ''}${err.message}`, { cause: err });
}

/** RFC 9110 §9.2.2: the methods a proxy may send again when the connection closed before an answer */
const IDEMPOTENT: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);
/** how a kept-alive connection fails when the origin closed it just as we reused it */
const CONNECTION_LOST: ReadonlySet<string> = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);

// The socket a request goes out on (its peer address, whether it carried a request before): undici
// tells it only through this channel, published synchronously right after the handler's onConnect
// (client-h1.js writeH1).
let connecting: OriginExchange | undefined;
const carried = new WeakSet<object>();
diagnostics.subscribe('undici:client:sendHeaders', (message) => {
  if (connecting === undefined) return;
  const socket = (message as { socket?: { remoteAddress?: string } }).socket;
  connecting.remoteAddress = socket?.remoteAddress;
  connecting.reusedConnection = socket !== undefined && carried.has(socket);
  if (socket) carried.add(socket);
  connecting = undefined;
});

export interface ExchangeTimeouts {
  /** from open() to the response head (connect and queueing included) */
  headersTimeoutMs: number;
  /** the request body makes no progress for this long */
  idleTimeoutMs: number;
}

/**
 * The request body the caller pipes (or ends). undici starts the request on the first sign of
 * the body: `pipe` (or a write) sends it streamed, `end()` alone sends none (a GET has no
 * `Transfer-Encoding: chunked` on the wire).
 */
class OriginRequestBody extends Writable {
  readonly #exchange: OriginExchange;
  #body: Readable | undefined;
  #pending: (() => void) | undefined;
  #idle: NodeJS.Timeout | undefined;

  constructor(exchange: OriginExchange) {
    // kept open after 'finish': the caller's destroy() (the client left mid-response) must still
    // reach the exchange and drop the origin connection
    super({ autoDestroy: false });
    this.#exchange = exchange;
    // failures reach the caller through the response promise; a Writable's 'error' must not throw
    this.on('error', () => undefined);
    this.once('pipe', () => this.#streamed());
  }

  #streamed(): Readable {
    if (this.#body) return this.#body;
    this.#body = new Readable({ read: () => this.#drained() });
    const { idleTimeoutMs } = this.#exchange.timeouts;
    this.#idle = setTimeout(() => this.#exchange.fail(new ProxyError('UPSTREAM_IDLE_TIMEOUT', `${this.#exchange.where}: request body idle for ${idleTimeoutMs} ms`)), idleTimeoutMs);
    this.#exchange.start(this.#body);
    return this.#body;
  }

  #drained(): void {
    const pending = this.#pending;
    this.#pending = undefined;
    pending?.();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#idle?.refresh();
    if (this.#streamed().push(chunk)) callback();
    else this.#pending = callback;
  }

  override _final(callback: (error?: Error | null) => void): void {
    clearTimeout(this.#idle);
    if (this.#body) this.#body.push(null);
    else this.#exchange.start(null);
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    clearTimeout(this.#idle);
    this.#exchange.fail(error instanceof ProxyError ? error : new ProxyError('UPSTREAM_WRITE_FAILED', `${this.#exchange.where}: request abandoned${error ? `: ${error.message}` : ''}`, { cause: error ?? undefined }));
    callback(error);
  }
}

export class OriginExchange implements Dispatcher.DispatchHandler {
  readonly where: string;
  readonly timeouts: ExchangeTimeouts;
  readonly response: Promise<OriginResponse>;
  remoteAddress: string | undefined;
  /** the request went out on a pooled connection that had carried an earlier one */
  reusedConnection = false;
  readonly #method: string;
  /** what start() sent, kept while the request may be sent again: an idempotent method, a body held whole or none */
  #replay: Buffer | null | undefined;
  #retried = false;
  readonly #dispatch: (body: Readable | Buffer | null, handler: OriginExchange) => void;
  #resolve!: (response: OriginResponse) => void;
  #reject!: (error: ProxyError) => void;
  #headersTimer: NodeJS.Timeout;
  #started = false;
  #failure: ProxyError | undefined;
  #done = false;
  #abort: ((error?: Error) => void) | undefined;
  #resume: (() => void) | undefined;
  #res: UndiciResponse | undefined;
  #request: OriginRequestBody | undefined;

  constructor(where: string, method: string, timeouts: ExchangeTimeouts, dispatch: (body: Readable | Buffer | null, handler: OriginExchange) => void) {
    this.where = where;
    this.#method = method;
    this.timeouts = timeouts;
    this.#dispatch = dispatch;
    this.response = new Promise<OriginResponse>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // The caller may drop the promise when the exchange already failed elsewhere.
    this.response.catch(() => undefined);
    this.#headersTimer = setTimeout(
      () => this.fail(new ProxyError('UPSTREAM_HEADERS_TIMEOUT', `${where}: no response head within ${timeouts.headersTimeoutMs} ms`)),
      timeouts.headersTimeoutMs,
    );
  }

  /**
   * The request body as a Writable, made on first use: a request sent without a body or with one
   * held whole (start() at once) never makes one.
   */
  get request(): Writable {
    return (this.#request ??= new OriginRequestBody(this));
  }

  /** The caller gave up on the exchange (its client left): drop the request and its connection. */
  abandon(): void {
    this.fail(new ProxyError('UPSTREAM_WRITE_FAILED', `${this.where}: request abandoned`));
  }

  /**
   * Hand the request to undici, once, with its body: streamed (Readable), whole (a Buffer, written
   * with the head), or none (null).
   */
  start(body: Readable | Buffer | null): void {
    if (this.#started || this.#done) return;
    this.#started = true;
    if (!(body instanceof Readable) && IDEMPOTENT.has(this.#method)) this.#replay = body;
    this.#send(body);
  }

  #send(body: Readable | Buffer | null): void {
    try {
      this.#dispatch(body, this);
    } catch (err) {
      this.fail(upstreamError(this.where, err as NodeJS.ErrnoException));
    }
  }

  /**
   * End the exchange with this error, wherever it stands; later failures are ignored. `byConsumer`:
   * the response's reader destroyed it (a block page replaces it): nothing more is said to it.
   */
  fail(error: ProxyError, byConsumer = false): void {
    if (this.#done) return;
    this.#done = true;
    this.#failure = error;
    clearTimeout(this.#headersTimer);
    const res = this.#res;
    // after the head, the body's reader hears it (UndiciResponse.fail), unless it is the one that gave up
    if (res && !byConsumer) res.fail(error);
    else if (!res) this.#reject(error);
    if (this.#abort) this.#abort(error);
    if (this.#request && !this.#request.destroyed) this.#request.destroy(error);
  }

  // --- undici's handler (legacy form: raw header Buffers, boolean flow control) ---

  onConnect(abort: (error?: Error) => void): void {
    if (this.#failure) return abort(this.#failure);
    this.#abort = abort;
    connecting = this;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    // RFC 9110 §15.2: 1xx interim responses are not forwarded; the final one follows.
    if (statusCode < 200 || this.#done) return true;
    clearTimeout(this.#headersTimer);
    this.#resume = resume;
    this.#res = new UndiciResponse(statusCode, statusText, rawHeaders, this.remoteAddress, this);
    this.#resolve(this.#res);
    return true;
  }

  onData(chunk: Buffer): boolean {
    return this.#res!.push(chunk);
  }

  onComplete(): void {
    this.#done = true;
    this.#res!.complete();
  }

  onError(err: Error): void {
    // A kept-alive connection the origin closed just as we reused it (its idle timeout, unannounced)
    // fails before any answer: an idempotent request whose bytes we still have goes once more, on
    // another connection, as a browser would; once (a retry is not retried). Never a POST: a proxy
    // MUST NOT retry a non-idempotent request (RFC 9110 §9.2.2).
    if (!this.#done && !this.#res && !this.#retried && this.reusedConnection && this.#replay !== undefined && CONNECTION_LOST.has((err as NodeJS.ErrnoException).code ?? '')) {
      this.#retried = true;
      this.#abort = undefined;
      this.#send(this.#replay);
      return;
    }
    this.fail(upstreamError(this.where, err as NodeJS.ErrnoException));
  }

  // --- the response's control (UndiciResponse) ---

  resume(): void {
    this.#resume?.();
  }

  readAbandoned(error: Error | null): void {
    this.fail(error instanceof ProxyError ? error : new ProxyError('UPSTREAM_READ_FAILED', `${this.where}: response abandoned`, { cause: error ?? undefined }), true);
  }
}
