// The stage order for one exchange, in one place (DESIGN.md "Data flow"):
//
//   1 policy    decide(request head)                  → pass | block | scan(service)
//   2-5         scanBody(): spool → verdict cache → REQMOD → enforce      (body-scan.ts)
//   6 upstream  forward the original or replaced request; read the response head
//   7           1-5 again for the response body with RESPMOD, then write to the client
//
// Nothing of a held body crosses to the other side before its verdict: a blocked upload opens
// no connection to the origin, a blocked download sends the client no byte of the original.
// Bodies passed without scanning stream straight through with backpressure (pipe).
import http from 'node:http';
import { Readable, type Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Spool, type SpooledBody } from '../body/index.js';
import { ProxyError, toProxyError, type ErrorCode } from '../core/errors.js';
import { events } from '../core/events.js';
import type { ClientInfo, Exchange } from '../core/exchange.js';
import { forwardHeaders } from '../core/headers.js';
import { rawResponse } from '../core/raw-response.js';
import { formatAuthority } from '../core/host.js';
import type { Decision, Direction, HttpHead, Verdict } from '../core/types.js';
import { newIncidentId } from '../enforce/incident-id.js';
import type { Policy, PolicyInput } from '../policy/index.js';
import type { OriginClient, OriginTarget } from '../upstream/index.js';
import { scanBody, type BodyScanner, type ScanOutcome } from './body-scan.js';
import { relayUpgrade } from './upgrade-relay.js';
import { declaredLength, pipeHeld, requestHasBody, requestHead, responseHasBody, responseHead, toRaw, withLength, writePage, type Page } from './respond.js';

export interface PipelineOptions {
  viaName: string;
  upstream: OriginClient;
  policy: Policy;
  scanner: BodyScanner;
  /** what an oversize body gets when scanning is asked for */
  oversizeAction: 'block' | 'pass';
  /** our error and unavailable pages */
  page(status: number, code: ErrorCode, host: string | undefined, accept: string | undefined, incidentId?: string): Page;
  /** our block page */
  blockPage(exchange: Exchange, direction: Direction, verdict: Verdict, rule: string, accept: string | undefined): Page;
}

/** Request headers never forwarded besides the hop-by-hop ones. */
const DROP_REQUEST = new Set(['host', 'expect']);

/** Ends an exchange early: the answer was written, the rest of the work is skipped. */
class Answered extends Error {}

export class ExchangePipeline {
  readonly #options: PipelineOptions;

  constructor(options: PipelineOptions) {
    this.#options = options;
  }

  handle(req: http.IncomingMessage, res: http.ServerResponse, origin: OriginTarget, client: ClientInfo, intercepted: boolean): void {
    const exchange = this.#begin(req, origin, client, intercepted);
    const held: SpooledBody[] = [];
    res.once('close', () => {
      for (const body of held) void body.dispose();
      exchange.status ??= res.statusCode;
      events.exchangeEnd.publish({ exchange, durationMs: performance.now() - exchange.startedAt });
    });
    this.#run(exchange, req, res, origin, held).catch((err) => {
      if (!(err instanceof Answered)) this.#fail(exchange, req, res, toProxyError(err));
    });
  }

  /** A protocol upgrade (WebSocket): relayed byte for byte once the origin switches. */
  upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, origin: OriginTarget, client: ClientInfo): void {
    const exchange = this.#begin(req, origin, client, false);
    const headers = this.#requestHeaders(req.rawHeaders, req.httpVersion, origin, true);
    relayUpgrade(this.#options.upstream, this.#options.viaName, exchange, headers, originForm(req.url ?? '/'), socket, head, origin).catch((err) => {
      const error = toProxyError(err);
      exchange.error = error;
      exchange.status = error.status;
      events.error.publish({ exchange, error });
      if (socket.writable) socket.end(rawResponse(this.#options.page(error.status, error.code, origin.host, req.headers.accept, exchange.id)));
      else socket.destroy();
      events.exchangeEnd.publish({ exchange, durationMs: performance.now() - exchange.startedAt });
    });
  }

  #begin(req: http.IncomingMessage, origin: OriginTarget, client: ClientInfo, intercepted: boolean): Exchange {
    const target = originForm(req.url ?? '/');
    const query = target.indexOf('?');
    const exchange: Exchange = {
      id: newIncidentId(),
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

  async #run(exchange: Exchange, req: http.IncomingMessage, res: http.ServerResponse, origin: OriginTarget, held: SpooledBody[]): Promise<void> {
    const { policy } = this.#options;
    const accept = req.headers.accept;
    const defaultPort = origin.scheme === 'https' ? 443 : 80;
    const path = originForm(req.url ?? '/');
    const headers = this.#requestHeaders(req.rawHeaders, req.httpVersion, origin);
    const reqHead = requestHead(exchange.method, `${origin.scheme}://${formatAuthority(origin.host, origin.port, defaultPort)}${path}`, req.httpVersion, headers);

    // 1: policy for the request body
    const hasBody = requestHasBody(req.headers);
    let body: Readable = req;
    let bodyBytes = hasBody ? declaredLength(req.headers) : 0;
    const upInput = policyInput(exchange, 'upload', req.headers['content-type'], undefined, hasBody, bodyBytes);
    if (hasBody && policy.needsSize(upInput)) {
      ({ body, bodyBytes } = await this.#measure(req, held));
      upInput.bodyBytes = bodyBytes;
    }
    const upDecision = this.#decide(exchange, 'upload', upInput);
    if (upDecision.action === 'block') this.#block(exchange, res, 'upload', policyVerdict(upDecision), upDecision.rule, accept, hasBody);

    // 2-5: the request body (a bodiless request is scanned only when its rule asks: scanEmptyBodies)
    if (upDecision.action === 'scan') {
      const outcome = await this.#scan(exchange, res, 'upload', upDecision, reqHead, undefined, hasBody ? body : Readable.from([]), bodyBytes, accept, held);
      if (outcome.action === 'replace') {
        const adapted = outcome.message;
        if (adapted.body) held.push(adapted.body);
        const adaptedHeaders = withLength(this.#requestHeaders(toRaw(adapted.head.headers), req.httpVersion, origin), adapted.body?.sizeBytes ?? 0);
        return this.#forward(exchange, req, res, origin, { method: adapted.head.method ?? exchange.method, path: originForm(adapted.head.target ?? path), headers: adaptedHeaders, held: adapted.body }, held, reqHead);
      }
      if (hasBody) return this.#forward(exchange, req, res, origin, { method: exchange.method, path, headers: withLength(headers, outcome.body.sizeBytes), held: outcome.body }, held, reqHead);
    }
    return this.#forward(exchange, req, res, origin, { method: exchange.method, path, headers, stream: hasBody ? body : null }, held, reqHead);
  }

  /** Hold a body of unknown length to learn its size (a rule matches on size). */
  async #measure(stream: Readable, held: SpooledBody[]): Promise<{ body: Readable; bodyBytes: number }> {
    const { scan } = this.#options.scanner;
    const spool = new Spool({ memoryBytes: scan.spoolMemoryBytes, ...optional('dir', scan.spoolDir) });
    await pipeline(stream, spool);
    const spooled = await spool.done;
    held.push(spooled);
    return { body: spooled.replay(), bodyBytes: spooled.sizeBytes };
  }

  /** 6 and 7: send the request on, then the response side of stages 1-5. */
  async #forward(
    exchange: Exchange,
    req: http.IncomingMessage,
    res: http.ServerResponse,
    origin: OriginTarget,
    out: { method: string; path: string; headers: string[]; stream?: Readable | null; held?: SpooledBody | null },
    held: SpooledBody[],
    reqHead: HttpHead,
  ): Promise<void> {
    const { policy } = this.#options;
    const accept = req.headers.accept;
    // 6: upstream
    const upstream = this.#options.upstream.open(origin, { method: out.method, path: out.path, headers: out.headers });
    res.once('close', () => {
      if (!res.writableFinished) upstream.request.destroy();
    });
    if (out.held !== undefined) {
      pipeHeld(out.held, upstream.request, (n) => (exchange.requestBytes += n));
      req.resume(); // anything left of the client's body was already held
    } else if (out.stream) {
      out.stream.on('data', (chunk: Buffer) => (exchange.requestBytes += chunk.length));
      out.stream.pipe(upstream.request);
      req.once('aborted', () => upstream.request.destroy());
    } else {
      upstream.request.end();
    }
    const response = await upstream.response;
    const status = response.statusCode ?? 502;

    // 7: the response side
    const via = `${response.httpVersion} ${this.#options.viaName}`;
    const resHeaders = forwardHeaders(response.rawHeaders, { via });
    const hasBody = responseHasBody(exchange.method, status, response.headers);
    const downInput = policyInput(exchange, 'download', req.headers['content-type'], response.headers['content-type'], hasBody, hasBody ? declaredLength(response.headers) : 0);
    let download: Readable = response;
    let downBytes = downInput.bodyBytes;
    if (hasBody && policy.needsSize(downInput)) {
      ({ body: download, bodyBytes: downBytes } = await this.#measure(response, held));
      downInput.bodyBytes = downBytes;
    }
    const downDecision = this.#decide(exchange, 'download', downInput);
    if (downDecision.action === 'block') {
      response.destroy();
      this.#block(exchange, res, 'download', policyVerdict(downDecision), downDecision.rule, accept, false);
    }
    if (downDecision.action === 'scan' && hasBody) {
      const resHead = responseHead(status, response.statusMessage ?? '', response.httpVersion, resHeaders);
      const outcome = await this.#scan(exchange, res, 'download', downDecision, reqHead, resHead, download, downBytes, accept, held, () => response.destroy());
      if (outcome.action === 'replace') {
        const adapted = outcome.message;
        if (adapted.body) held.push(adapted.body);
        exchange.status = adapted.head.status ?? status;
        res.writeHead(exchange.status, adapted.head.reason ?? '', withLength(forwardHeaders(toRaw(adapted.head.headers), { via }), adapted.body?.sizeBytes ?? 0));
        pipeHeld(adapted.body, res, (n) => (exchange.responseBytes += n));
        return;
      }
      if (outcome.action === 'pass') {
        exchange.status = status;
        res.writeHead(status, response.statusMessage, withLength(resHeaders, outcome.body.sizeBytes));
        pipeHeld(outcome.body, res, (n) => (exchange.responseBytes += n));
        return;
      }
    }
    // pass unscanned: stream with backpressure
    exchange.status = status;
    res.writeHead(status, response.statusMessage, resHeaders);
    download.on('data', (chunk: Buffer) => (exchange.responseBytes += chunk.length));
    download.pipe(res);
    response.once('error', (err) => {
      const error = new ProxyError('UPSTREAM_READ_FAILED', `${origin.host}: response body: ${err.message}`, { cause: err });
      exchange.error = error;
      events.error.publish({ exchange, error });
      res.destroy(error);
    });
    response.once('aborted', () => res.destroy());
  }

  #decide(exchange: Exchange, direction: Direction, input: PolicyInput): Decision {
    const decision = this.#options.policy.decide(input);
    exchange.decisions.push(decision);
    events.decision.publish({ exchange, direction, decision });
    return decision;
  }

  /** Stages 2-5 for one body; answers the client itself on block or unavailable. */
  async #scan(
    exchange: Exchange,
    res: http.ServerResponse,
    direction: Direction,
    decision: Decision,
    reqHead: HttpHead,
    resHead: HttpHead | undefined,
    body: Readable,
    declaredBytes: number | undefined,
    accept: string | undefined,
    held: SpooledBody[],
    abandon?: () => void,
  ): Promise<Extract<ScanOutcome, { action: 'pass' | 'replace' }>> {
    const { scanner } = this.#options;
    if (declaredBytes !== undefined && declaredBytes > scanner.scan.maxScanBytes && this.#options.oversizeAction === 'block') {
      abandon?.();
      const verdict: Verdict = { action: 'block', reason: `larger than the ${scanner.scan.maxScanBytes} bytes that can be scanned`, violations: ['oversize'], source: 'policy' };
      this.#publishVerdict(exchange, direction, decision, verdict, declaredBytes);
      this.#block(exchange, res, direction, verdict, decision.rule, accept, direction === 'upload');
    }
    const outcome = await scanBody(scanner, { exchange, direction, decision, reqHead, ...(resHead ? { resHead } : {}), body, declaredBytes });
    if (outcome.action === 'pass' || outcome.action === 'replace') {
      held.push(outcome.body);
      return outcome;
    }
    abandon?.();
    if (outcome.action === 'unavailable') {
      exchange.error = outcome.error;
      exchange.status = 503;
      writePage(res, this.#options.page(503, outcome.error.code, exchange.host, accept, exchange.id), { 'x-dlp-incident': exchange.id }, direction === 'upload');
      throw new Answered();
    }
    if (outcome.page) {
      // The service relays its own page (relayBlockPage): its status and body, our incident id.
      const page = outcome.page;
      if (page.body) held.push(page.body);
      exchange.status = page.head.status ?? 403;
      res.writeHead(exchange.status, page.head.reason ?? '', [...withLength(forwardHeaders(toRaw(page.head.headers), { via: `1.1 ${this.#options.viaName}` }), page.body?.sizeBytes ?? 0), 'x-dlp-incident', exchange.id]);
      pipeHeld(page.body, res, () => undefined);
      throw new Answered();
    }
    this.#block(exchange, res, direction, outcome.verdict, decision.rule, accept, direction === 'upload');
    throw new Answered();
  }

  /** Our block page (403, x-dlp-incident). Never returns. */
  #block(exchange: Exchange, res: http.ServerResponse, direction: Direction, verdict: Verdict, rule: string, accept: string | undefined, closeAfter: boolean): never {
    if (verdict.source === 'policy' && !exchange.verdicts.includes(verdict)) this.#publishVerdict(exchange, direction, { action: 'block', rule, explain: '' }, verdict, 0);
    const page = this.#options.blockPage(exchange, direction, verdict, rule, accept);
    exchange.status = page.status;
    writePage(res, page, { 'x-dlp-incident': exchange.id }, closeAfter);
    throw new Answered();
  }

  #publishVerdict(exchange: Exchange, direction: Direction, decision: Decision, verdict: Verdict, sizeBytes: number): void {
    exchange.verdicts.push(verdict);
    events.verdict.publish({ exchange, direction, service: decision.service ?? '', verdict, istag: undefined, sha256: undefined, sizeBytes, monitored: false, rule: decision.rule });
  }

  #requestHeaders(raw: readonly string[], httpVersion: string, origin: OriginTarget, keepUpgrade = false): string[] {
    const headers = forwardHeaders(raw, { via: `${httpVersion} ${this.#options.viaName}`, drop: DROP_REQUEST, keepUpgrade });
    headers.unshift('Host', formatAuthority(origin.host, origin.port, origin.scheme === 'https' ? 443 : 80));
    return headers;
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
    // The rest of an unread request body is not worth waiting for: close after the page.
    req.unpipe();
    req.resume();
    writePage(res, this.#options.page(error.status, error.code, exchange.host, req.headers.accept, exchange.id), {}, true);
  }
}

/** What the policy sees of one side of the exchange: heads and body facts, never the body. */
function policyInput(
  exchange: Exchange,
  direction: Direction,
  requestContentType: string | undefined,
  responseContentType: string | undefined,
  hasBody: boolean,
  bodyBytes: number | undefined,
): PolicyInput {
  return {
    direction,
    method: exchange.method,
    host: exchange.host,
    path: exchange.path,
    ...optional('requestContentType', requestContentType),
    ...optional('responseContentType', responseContentType),
    ...optional('bodyBytes', bodyBytes),
    hasBody,
    clientIp: exchange.client.ip,
    ...optional('user', exchange.client.user),
  };
}

function policyVerdict(decision: Decision): Verdict {
  return { action: 'block', reason: `blocked by the rule "${decision.rule}"`, violations: [`policy:${decision.rule}`], source: 'policy' };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** The origin-form target (path and query) of a request, as the client sent it. */
export function originForm(url: string): string {
  const match = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(url);
  if (!match) return url === '' ? '/' : url;
  const rest = url.slice(match[0].length);
  return rest === '' ? '/' : rest.startsWith('/') ? rest : `/${rest}`;
}
