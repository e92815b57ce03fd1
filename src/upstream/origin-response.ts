// An origin's response as the pipeline reads it: the head fields of node's IncomingMessage that
// it uses, and the body, which becomes a Readable only when someone streams it. A small response
// that came whole with its head (the common pass-through GET) is taken as one Buffer and written
// with one call: no stream, no pipe, no events. A streamed body is paced by its consumer (push()
// past the high-water mark pauses undici's parser, _read resumes it: a slow client slows the
// origin read); until it is asked for, at most HIGH_WATER bytes are buffered before the parser
// pauses.
import http from 'node:http';
import { Readable } from 'node:stream';

/** What the pipeline reads of a response. */
export interface OriginResponse {
  readonly statusCode: number;
  readonly statusMessage: string;
  readonly httpVersion: string;
  readonly headers: http.IncomingHttpHeaders;
  /** flat name/value list as received, case and order kept */
  readonly rawHeaders: string[];
  readonly remoteAddress: string | undefined;
  /**
   * The body as a Readable, made on the first call (the same one after). After a failure of the
   * origin it says 'aborted', then errors with the ProxyError that names the moment.
   */
  body(): Readable;
  /**
   * The whole body at once, when the origin already sent all of it and nothing streamed any of
   * it; undefined otherwise (stream it with body()).
   */
  takeWhole(): Buffer | undefined;
  /** Drop the response: a body not read to its end drops the origin connection. */
  destroy(): void;
}

/** RFC 9112 §4: reason-phrase = *( HTAB / SP / VCHAR / obs-text ); node refuses to send anything else. */
const REASON = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * The origin's reason phrase as the client may be sent it: one with a character outside the
 * grammar (DEL, a control, which undici's parser lets through) is replaced by the standard
 * phrase of the status. A reason phrase carries no meaning (RFC 9110 §15: clients ignore it);
 * sent on, node's writeHead would throw and the exchange would fail.
 */
export function reasonPhrase(status: number, text: string | undefined): string {
  return text !== undefined && REASON.test(text) ? text : (http.STATUS_CODES[status] ?? '');
}

/** Fields of which node keeps the first and drops repeats (lib/_http_incoming.js matchKnownFields). */
const FIRST_ONLY = new Set([
  'content-type', 'content-length', 'user-agent', 'referer', 'host', 'authorization', 'proxy-authorization', 'if-modified-since',
  'if-unmodified-since', 'from', 'location', 'max-forwards', 'retry-after', 'etag', 'last-modified', 'server', 'age', 'expires',
]);

/**
 * Raw header bytes (undici hands name/value Buffers) as node's rawHeaders and headers: latin1, one
 * byte per character, as node's parser decodes them; repeats joined by node's rules.
 */
export function decodeHead(raw: readonly Buffer[]): { rawHeaders: string[]; headers: http.IncomingHttpHeaders } {
  const rawHeaders = new Array<string>(raw.length);
  const headers: Record<string, string | string[]> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toString('latin1');
    const value = raw[i + 1]!.toString('latin1');
    rawHeaders[i] = name;
    rawHeaders[i + 1] = value;
    const key = name.toLowerCase();
    const prior = headers[key];
    if (prior === undefined) headers[key] = key === 'set-cookie' ? [value] : value;
    else if (key === 'set-cookie') (prior as string[]).push(value);
    else if (FIRST_ONLY.has(key)) continue;
    else headers[key] = `${prior as string}${key === 'cookie' ? '; ' : ', '}${value}`;
  }
  return { rawHeaders, headers };
}

export interface ResponseControl {
  /** the consumer wants more: resume the origin read */
  resume(): void;
  /** the consumer gave up before the end: drop the connection */
  readAbandoned(error: Error | null): void;
}

/** Bytes buffered for a body nobody streams yet before the origin read pauses (a Readable's default). */
const HIGH_WATER = 16 * 1024;

/** A response from undici's handler (origin-exchange.ts), which feeds it push(), complete() and fail(). */
export class UndiciResponse implements OriginResponse {
  readonly statusCode: number;
  readonly statusMessage: string;
  /** undici does not expose the received version; every origin it talks to is read as HTTP/1.1 */
  readonly httpVersion = '1.1';
  readonly headers: http.IncomingHttpHeaders;
  readonly rawHeaders: string[];
  readonly remoteAddress: string | undefined;
  readonly #control: ResponseControl;
  /** body bytes received while nobody streams the body */
  #chunks: Buffer[] = [];
  #buffered = 0;
  /** the origin sent the last byte of the body */
  #complete = false;
  /** the origin failed after the head, before anyone streamed the body */
  #failure: Error | undefined;
  #stream: OriginBody | undefined;
  #taken = false;
  #dropped = false;

  constructor(statusCode: number, statusMessage: string, raw: readonly Buffer[], remoteAddress: string | undefined, control: ResponseControl) {
    this.statusCode = statusCode;
    this.statusMessage = reasonPhrase(statusCode, statusMessage);
    const head = decodeHead(raw);
    this.rawHeaders = head.rawHeaders;
    this.headers = head.headers;
    this.remoteAddress = remoteAddress;
    this.#control = control;
  }

  /** Body bytes from the origin (undici's onData); false pauses its parser. */
  push(chunk: Buffer): boolean {
    if (this.#stream) return this.#stream.push(chunk);
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    return this.#buffered < HIGH_WATER;
  }

  /** The origin's last byte arrived (undici's onComplete). */
  complete(): void {
    this.#complete = true;
    this.#stream?.push(null);
  }

  /**
   * The origin failed after the head. As node's IncomingMessage: 'aborted' then the error, a turn
   * later, so that a reader that just received the head has its listeners on.
   */
  fail(error: Error): void {
    const stream = this.#stream;
    if (!stream) {
      this.#failure = error;
      return;
    }
    setImmediate(() => {
      stream.emit('aborted');
      stream.destroy(error);
    });
  }

  body(): Readable {
    if (this.#stream) return this.#stream;
    const stream = (this.#stream = new OriginBody(this.#control));
    for (const chunk of this.#chunks) stream.push(chunk);
    this.#chunks = [];
    if (this.#complete) stream.push(null);
    else if (this.#failure) this.fail(this.#failure);
    else if (this.#dropped) stream.destroy();
    return stream;
  }

  takeWhole(): Buffer | undefined {
    if (!this.#complete || this.#taken || this.#stream || this.#dropped) return undefined;
    // taken once: a later body() is an empty stream that ends
    this.#taken = true;
    const chunks = this.#chunks;
    this.#chunks = [];
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  }

  destroy(): void {
    if (this.#stream) return void this.#stream.destroy();
    if (this.#dropped) return;
    this.#dropped = true;
    this.#chunks = [];
    if (!this.#complete) this.#control.readAbandoned(null);
  }
}

/** A streamed body: reading it resumes the origin, destroying it before its end drops the connection. */
class OriginBody extends Readable {
  readonly #control: ResponseControl;

  constructor(control: ResponseControl) {
    super();
    this.#control = control;
  }

  override _read(): void {
    this.#control.resume();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.readableEnded) this.#control.readAbandoned(error);
    // As node's IncomingMessage: an error nobody listens for is not thrown (the exchange already
    // failed through its own path, or was abandoned on purpose).
    process.nextTick(() => callback(this.listenerCount('error') > 0 ? error : null));
  }
}

/** node's IncomingMessage as an OriginResponse (an upgrade the origin answered without switching). */
export function incomingResponse(message: http.IncomingMessage): OriginResponse {
  return {
    statusCode: message.statusCode ?? 502,
    statusMessage: reasonPhrase(message.statusCode ?? 502, message.statusMessage),
    httpVersion: message.httpVersion,
    headers: message.headers,
    rawHeaders: message.rawHeaders,
    remoteAddress: message.socket?.remoteAddress,
    body: () => message,
    takeWhole: () => undefined,
    destroy: () => void message.destroy(),
  };
}
