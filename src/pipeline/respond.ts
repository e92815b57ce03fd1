// Writing answers to the client: pages (block, unavailable, error) and held messages (a spooled
// original, an adapted replacement, a relayed vendor page), each with correct framing. Also the
// small conversions between node's raw header lists and the HttpHead of core/types.
import http from 'node:http';
import type { Readable } from 'node:stream';
import { ramBytes, type SpooledBody } from '../body/index.js';
import type { HeaderList, HttpHead } from '../core/types.js';

export interface Page {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** Flat raw list (`[name, value, name, value]`) → pairs. */
export function toHeaderList(raw: readonly string[]): HeaderList {
  const out: HeaderList = [];
  for (let i = 0; i < raw.length; i += 2) out.push([raw[i]!, raw[i + 1]!]);
  return out;
}

/** Pairs → flat raw list. */
export function toRaw(list: HeaderList): string[] {
  const out: string[] = [];
  for (const [name, value] of list) out.push(name, value);
  return out;
}

const FRAMING = new Set(['content-length', 'transfer-encoding']);

/** A raw list without its framing headers, plus the Content-Length of a body we hold. */
export function withLength(raw: readonly string[], sizeBytes: number | undefined): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (!FRAMING.has(raw[i]!.toLowerCase())) out.push(raw[i]!, raw[i + 1]!);
  if (sizeBytes !== undefined) out.push('Content-Length', String(sizeBytes));
  return out;
}

/** Does this request carry a body (RFC 9112 §6.3)? */
export function requestHasBody(headers: http.IncomingHttpHeaders): boolean {
  if (headers['transfer-encoding'] !== undefined) return true;
  const length = headers['content-length'];
  return length !== undefined && length !== '0';
}

/** Does this response carry a body (RFC 9112 §6.3)? */
export function responseHasBody(method: string, status: number, headers: http.IncomingHttpHeaders): boolean {
  if (method === 'HEAD' || status < 200 || status === 204 || status === 304) return false;
  return headers['content-length'] !== '0';
}

export function declaredLength(headers: http.IncomingHttpHeaders): number | undefined {
  if (headers['transfer-encoding'] !== undefined) return undefined;
  const value = headers['content-length'];
  if (value === undefined || !/^\d{1,15}$/.test(value)) return undefined;
  return Number(value);
}

/** Our page, answered once; the connection closes afterwards when the body was not read. */
export function writePage(res: http.ServerResponse, page: Page, extra: Record<string, string> = {}, close = false): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const headers: Record<string, string> = { ...page.headers, ...extra, 'content-length': String(page.body.length) };
  if (close) headers.connection = 'close';
  // our own phrase: a writeHead that threw earlier may have left the response's statusMessage set
  res.writeHead(page.status, http.STATUS_CODES[page.status] ?? '', headers);
  res.end(page.body);
}

/**
 * Send a held body and end `to`: one write when it is in RAM (with the head, when that is still
 * unsent), else streamed from its file with backpressure. Counts bytes into `count`.
 */
export function pipeHeld(body: SpooledBody | null, to: NodeJS.WritableStream & { destroy(): unknown }, count: (n: number) => void): void {
  if (body === null || body.sizeBytes === 0) {
    to.end();
    return;
  }
  const whole = ramBytes(body);
  if (whole !== undefined) {
    count(whole.length);
    to.end(whole);
    return;
  }
  const stream = body.replay();
  stream.on('data', (chunk: Buffer) => count(chunk.length));
  cutOnError(stream, to);
  stream.pipe(to);
}

/**
 * A body streamed to the client that fails midway cuts the client's connection: it never gets a
 * complete-looking body. The usual cause is the client itself: its connection closed, so the
 * exchange released the spool under the reader, whose 'spool released' error would otherwise go
 * unheard and end the process.
 */
export function cutOnError(stream: Readable, to: { destroy(): unknown }): void {
  stream.once('error', () => to.destroy());
}

/** The head as the client or origin sees it, for ICAP encapsulation. */
export function requestHead(method: string, target: string, httpVersion: string, raw: readonly string[]): HttpHead {
  return { kind: 'request', method, target, version: httpVersion, headers: toHeaderList(raw) };
}

export function responseHead(status: number, reason: string, httpVersion: string, raw: readonly string[]): HttpHead {
  return { kind: 'response', status, reason, version: httpVersion, headers: toHeaderList(raw) };
}
