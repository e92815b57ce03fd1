// The stage order for one exchange, in one place (DESIGN.md "Data flow"):
//
//   1 policy    decide(request head)                  → pass | block | scan(service)
//   2 body      spool the request body                → SpooledBody (sha256, replay)
//   3 verdict   cache.getOrScan(key, scan)
//   4 icap      REQMOD
//   5 enforce   pass | replace | block (block page), fail-open/closed
//   6 upstream  forward the request, read the response head
//   7           steps 1-5 for the response body with RESPMOD, then write to the client
//
// Nothing of a held body crosses to the other side before its verdict. Bodies that are passed
// without scanning stream straight through with backpressure (pipe), so a slow reader slows the
// writer instead of growing the heap.
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { ProxyError, toProxyError, type ErrorCode } from '../core/errors.js';
import { events } from '../core/events.js';
import type { ClientInfo, Exchange } from '../core/exchange.js';
import { forwardHeaders } from '../core/headers.js';
import { formatAuthority } from '../core/host.js';
import type { Decision } from '../core/types.js';
import type { OriginClient, OriginTarget } from '../upstream/index.js';
import { newExchangeId } from './exchange-id.js';

export interface Page {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export interface PipelineOptions {
  viaName: string;
  upstream: OriginClient;
  page(status: number, code: ErrorCode, host: string | undefined, accept: string | undefined): Page;
}

/** Request headers never forwarded besides the hop-by-hop ones. */
const DROP_REQUEST = new Set(['host', 'expect']);

export class ExchangePipeline {
  readonly #options: PipelineOptions;

  constructor(options: PipelineOptions) {
    this.#options = options;
  }

  handle(req: http.IncomingMessage, res: http.ServerResponse, origin: OriginTarget, client: ClientInfo, intercepted: boolean): void {
    const exchange = this.#begin(req, origin, client, intercepted);
    let ended = false;
    res.once('close', () => {
      if (ended) return;
      ended = true;
      exchange.status ??= res.statusCode;
      events.exchangeEnd.publish({ exchange, durationMs: performance.now() - exchange.startedAt });
    });
    this.#run(exchange, req, res, origin).catch((err) => this.#fail(exchange, req, res, toProxyError(err)));
  }

  /** A protocol upgrade (WebSocket): relayed byte for byte once the origin switches. */
  upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, origin: OriginTarget, client: ClientInfo): void {
    const exchange = this.#begin(req, origin, client, false);
    this.#relayUpgrade(exchange, req, socket, head, origin).catch((err) => {
      const error = toProxyError(err);
      exchange.error = error;
      exchange.status = error.status;
      events.error.publish({ exchange, error });
      if (socket.writable) {
        const page = this.#options.page(error.status, error.code, origin.host, req.headers.accept);
        const head = [`HTTP/1.1 ${page.status} ${http.STATUS_CODES[page.status] ?? 'Error'}`, ...Object.entries(page.headers).map(([k, v]) => `${k}: ${v}`), `content-length: ${page.body.length}`, 'connection: close', '', ''];
        socket.end(Buffer.concat([Buffer.from(head.join('\r\n'), 'latin1'), page.body]));
      } else socket.destroy();
      events.exchangeEnd.publish({ exchange, durationMs: performance.now() - exchange.startedAt });
    });
  }

  #begin(req: http.IncomingMessage, origin: OriginTarget, client: ClientInfo, intercepted: boolean): Exchange {
    const target = originForm(req.url ?? '/');
    const query = target.indexOf('?');
    const exchange: Exchange = {
      id: newExchangeId(),
      startTime: new Date(),
      startedAt: performance.now(),
      client,
      method: req.method ?? 'GET',
      scheme: origin.scheme,
      host: origin.host,
      port: origin.port,
      path: query >= 0 ? target.slice(0, query) : target,
      intercepted,
      requestBytes: 0,
      responseBytes: 0,
      decisions: [],
      verdicts: [],
    };
    events.exchangeStart.publish({ exchange });
    return exchange;
  }

  async #run(exchange: Exchange, req: http.IncomingMessage, res: http.ServerResponse, origin: OriginTarget): Promise<void> {
    // 1-5: request side. Until the enforcement stages land every decision is pass.
    const decision: Decision = { action: 'pass', rule: 'default', explain: 'no rule matched' };
    exchange.decisions.push(decision);
    events.decision.publish({ exchange, direction: 'upload', decision });

    // 6: upstream
    const upstream = this.#options.upstream.open(origin, {
      method: exchange.method,
      path: originForm(req.url ?? '/'),
      headers: this.#requestHeaders(req, origin),
    });
    req.on('data', (chunk: Buffer) => (exchange.requestBytes += chunk.length));
    req.pipe(upstream.request);
    req.once('aborted', () => upstream.request.destroy());
    res.once('close', () => {
      if (!res.writableFinished) upstream.request.destroy();
    });
    const upstreamResponse = await upstream.response;

    // 7: response side (passes until the enforcement stages land)
    exchange.status = upstreamResponse.statusCode ?? 502;
    res.writeHead(exchange.status, upstreamResponse.statusMessage, forwardHeaders(upstreamResponse.rawHeaders, { via: `${upstreamResponse.httpVersion} ${this.#options.viaName}` }));
    upstreamResponse.on('data', (chunk: Buffer) => (exchange.responseBytes += chunk.length));
    upstreamResponse.pipe(res);
    upstreamResponse.once('error', (err) => {
      const error = new ProxyError('UPSTREAM_READ_FAILED', `${origin.host}: response body: ${err.message}`, { cause: err });
      exchange.error = error;
      events.error.publish({ exchange, error });
      res.destroy(error);
    });
    upstreamResponse.once('aborted', () => res.destroy());
  }

  #requestHeaders(req: http.IncomingMessage, origin: OriginTarget): string[] {
    const headers = forwardHeaders(req.rawHeaders, { via: `${req.httpVersion} ${this.#options.viaName}`, drop: DROP_REQUEST });
    headers.unshift('Host', formatAuthority(origin.host, origin.port, origin.scheme === 'https' ? 443 : 80));
    return headers;
  }

  async #relayUpgrade(exchange: Exchange, req: http.IncomingMessage, socket: Duplex, head: Buffer, origin: OriginTarget): Promise<void> {
    const headers = forwardHeaders(req.rawHeaders, { via: `${req.httpVersion} ${this.#options.viaName}`, drop: DROP_REQUEST, keepUpgrade: true });
    headers.unshift('Host', formatAuthority(origin.host, origin.port, origin.scheme === 'https' ? 443 : 80));
    const answer = await this.#options.upstream.openUpgrade(origin, { method: exchange.method, path: originForm(req.url ?? '/'), headers });
    const status = answer.response.statusCode ?? 502;
    exchange.status = status;
    const switching = status === 101;
    const lines = [`HTTP/1.1 ${status} ${answer.response.statusMessage ?? ''}`];
    const raw = switching ? answer.response.rawHeaders : forwardHeaders(answer.response.rawHeaders, { via: `1.1 ${this.#options.viaName}` });
    for (let i = 0; i < raw.length; i += 2) lines.push(`${raw[i]}: ${raw[i + 1]}`);
    if (!switching) lines.push('connection: close');
    socket.write(Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1'));
    const started = exchange.startedAt;
    const done = () => events.exchangeEnd.publish({ exchange, durationMs: performance.now() - started });
    if (!switching) {
      answer.response.pipe(socket);
      answer.response.once('end', () => socket.end());
      socket.once('close', done);
      return;
    }
    if (answer.head.length > 0) socket.write(answer.head);
    if (head.length > 0) answer.socket.write(head);
    socket.pipe(answer.socket);
    answer.socket.pipe(socket);
    const closeBoth = () => {
      socket.destroy();
      answer.socket.destroy();
    };
    socket.once('error', closeBoth);
    answer.socket.once('error', closeBoth);
    socket.once('close', closeBoth);
    answer.socket.once('close', () => {
      closeBoth();
      done();
    });
  }

  /** A hop failed: our page when nothing was sent yet, else cut the client's connection. */
  #fail(exchange: Exchange, req: http.IncomingMessage, res: http.ServerResponse, error: ProxyError): void {
    exchange.error = error;
    events.error.publish({ exchange, error });
    if (res.headersSent || res.destroyed) {
      res.destroy();
      return;
    }
    exchange.status = error.status;
    const page = this.#options.page(error.status, error.code, exchange.host, req.headers.accept);
    // The rest of an unread request body is not worth waiting for: close after the page.
    const headers = { ...page.headers, 'content-length': String(page.body.length), connection: 'close' };
    req.unpipe();
    req.resume();
    res.writeHead(page.status, headers);
    res.end(page.body);
  }
}

/** The origin-form target (path and query) of a request, as the client sent it. */
export function originForm(url: string): string {
  const match = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(url);
  if (!match) return url === '' ? '/' : url;
  const rest = url.slice(match[0].length);
  return rest === '' ? '/' : rest.startsWith('/') ? rest : `/${rest}`;
}
