// An origin's response as the pipeline reads it: the head fields of node's IncomingMessage that
// it uses, and the body as a Readable whose consumer paces the origin (push() past the high-water
// mark pauses undici's parser, _read resumes it: a slow client slows the origin read).
import type http from 'node:http';
import { Readable } from 'node:stream';

/** What the pipeline reads of a response; node's IncomingMessage (upgrades) has the same shape. */
export interface OriginResponse extends Readable {
  readonly statusCode?: number | undefined;
  readonly statusMessage?: string | undefined;
  readonly httpVersion: string;
  readonly headers: http.IncomingHttpHeaders;
  /** flat name/value list as received, case and order kept */
  readonly rawHeaders: string[];
  readonly socket: { readonly remoteAddress?: string | undefined } | null;
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

export class UndiciResponse extends Readable implements OriginResponse {
  readonly statusCode: number;
  readonly statusMessage: string;
  /** undici does not expose the received version; every origin it talks to is read as HTTP/1.1 */
  readonly httpVersion = '1.1';
  readonly headers: http.IncomingHttpHeaders;
  readonly rawHeaders: string[];
  readonly socket: { readonly remoteAddress?: string | undefined };
  readonly #control: ResponseControl;
  /** the origin sent the last byte of the body (all of it is pushed) */
  #complete = false;

  constructor(statusCode: number, statusMessage: string, raw: readonly Buffer[], remoteAddress: string | undefined, control: ResponseControl) {
    super();
    this.statusCode = statusCode;
    this.statusMessage = statusMessage;
    const head = decodeHead(raw);
    this.rawHeaders = head.rawHeaders;
    this.headers = head.headers;
    this.socket = { remoteAddress };
    this.#control = control;
  }

  /** The origin's last byte arrived (undici's onComplete). */
  complete(): void {
    this.#complete = true;
    this.push(null);
  }

  /**
   * The whole body at once, when the origin already sent all of it and nothing has read any of it:
   * a small response arrives with its head, and the caller then writes it with one call instead of
   * through a pipe. Undefined otherwise (read it as a stream).
   */
  takeWhole(): Buffer | undefined {
    if (!this.#complete || this.readableFlowing !== null || this.destroyed) return undefined;
    // read() with no size takes everything buffered, in one Buffer; the stream then ends as usual
    return (this.read() as Buffer | null) ?? Buffer.alloc(0);
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

/** The whole body of a response the origin already finished (UndiciResponse.takeWhole), else undefined. */
export function wholeBody(response: Readable): Buffer | undefined {
  return response instanceof UndiciResponse ? response.takeWhole() : undefined;
}
