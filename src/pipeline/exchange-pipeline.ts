// The driver of one exchange: it feeds the events of the sockets to the exchange's state machine
// (exchange-machine.ts, where the stage order and every decision live) and runs the commands the
// machine returns: measure or scan a body (body-scan.ts), answer with our page, forward to the
// origin, respond to the client, relay a WebSocket. Every way in ends up here:
//
//   handle()         a plain or intercepted request (a ServerResponse answers it)
//   upgrade()        a WebSocket handshake (a ServerResponse over the raw socket answers a refusal)
//   decideConnect()  a CONNECT: tunnel, intercept, or refuse, by the same policy
//
// Nothing of a held body crosses to the other side before its verdict: a blocked upload opens no
// connection to the origin, a blocked download sends the client no byte of the original. Bodies
// passed without scanning stream straight through with backpressure (pipe).
import http from 'node:http';
import type net from 'node:net';
import { Readable, type Duplex } from 'node:stream';
import { feedSpool, overflowStream, ramBytes, Spool } from '../body/index.js';
import { ProxyError, toProxyError, type ErrorCode } from '../core/errors.js';
import { events } from '../core/events.js';
import { forwardHeaders } from '../core/headers.js';
import type { ClientInfo, Exchange } from '../core/exchange.js';
import type { HostPort } from '../core/host.js';
import type { Direction, Verdict } from '../core/types.js';
import { newIncidentId } from '../enforce/incident-id.js';
import type { Policy } from '../policy/index.js';
import { incomingResponse, type OriginClient, type OriginResponse, type OriginTarget } from '../upstream/index.js';
import type { BodyScanner, ScanOutcome } from './body-scan.js';
import { runPatience, runPatienceFetch, runScan, runTrickleEnd } from './delivery-commands.js';
import type { Delivery } from './delivery.js';
import { decideConnect, ExchangeMachine, policyVerdict } from './exchange-machine.js';
import type { Answer, BodyRef, ExchangeCommand, ExchangeEvent, ResponseFacts } from './exchange-protocol.js';
import { originForm } from './message-heads.js';
import { rangeBody } from './ranges.js';
import { cutOnError, pipeHeld, toRaw, withLength, writePage, type Page } from './respond.js';
import { relayWebSocketExchange, type WebSocketLimits } from './websocket-session.js';

export interface PipelineOptions {
  viaName: string;
  upstream: OriginClient;
  policy: Policy;
  scanner: BodyScanner;
  /** what a body past scan.maxScanBytes gets */
  oversizeAction: 'block' | 'pass';
  websocket: WebSocketLimits;
  /** our error and unavailable pages */
  page(status: number, code: ErrorCode, host: string | undefined, accept: string | undefined, incidentId?: string): Page;
  /** our block page */
  blockPage(exchange: Exchange, direction: Direction, verdict: Verdict, rule: string, accept: string | undefined): Page;
  /** policy[].delivery and the patience store (delivery.ts); none = every download held */
  delivery?: Delivery | undefined;
}

export type ConnectDecision = { action: 'tunnel' | 'intercept' } | { action: 'refuse'; page: Page };

/** What the driver holds for one exchange besides the machine. */
interface Context {
  exchange: Exchange;
  machine: ExchangeMachine;
  req: http.IncomingMessage;
  res: http.ServerResponse;
  origin: OriginTarget;
  /** the origin's response, once its head arrived */
  response?: OriginResponse;
  /** its body as a stream, once something streams it (#responseBody) */
  responseBody?: Readable;
  /** a WebSocket handshake: the client's raw socket and the bytes after its head */
  client?: { socket: Duplex; head: Buffer };
  /** after a 101: the origin's raw socket and the bytes after its head */
  switched?: { socket: Duplex; head: Buffer; response: http.IncomingMessage };
  /** everything held for this exchange, released when it ends */
  held: Array<{ dispose(): unknown }>;
}

export class ExchangePipeline {
  readonly #options: PipelineOptions;

  constructor(options: PipelineOptions) {
    this.#options = options;
  }

  handle(req: http.IncomingMessage, res: http.ServerResponse, origin: OriginTarget, client: ClientInfo, intercepted: boolean): void {
    this.#start(req, res, origin, client, intercepted, undefined);
  }

  /**
   * A WebSocket handshake (the front sends every other upgrade back as an ordinary request). Our
   * answers go through a ServerResponse over the raw socket, so a refusal, a block page or an
   * origin that does not switch protocols is written exactly as for any request.
   */
  upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, origin: OriginTarget, client: ClientInfo, intercepted: boolean): void {
    const res = new http.ServerResponse(req);
    res.assignSocket(socket as net.Socket);
    res.shouldKeepAlive = false;
    res.once('finish', () => socket.end());
    socket.on('error', () => socket.destroy());
    this.#start(req, res, origin, client, intercepted, { socket, head });
  }

  /** CONNECT: the same policy decides; a block refuses the tunnel with our block page. */
  decideConnect(target: HostPort, client: ClientInfo, req: http.IncomingMessage): ConnectDecision {
    const exchange = newExchange(req, { scheme: 'https', host: target.host, port: target.port }, client, false);
    events.exchangeStart.publish({ exchange });
    const decision = decideConnect(this.#options.policy, exchange);
    let result: ConnectDecision;
    if (decision.action === 'block') {
      const verdict = policyVerdict(decision);
      exchange.verdicts.push(verdict);
      events.verdict.publish({ exchange, direction: 'upload', service: '', verdict, istag: undefined, sha256: undefined, sizeBytes: 0, monitored: false, rule: decision.rule });
      const page = this.#options.blockPage(exchange, 'upload', verdict, decision.rule, req.headers.accept);
      exchange.status = page.status;
      result = { action: 'refuse', page: { ...page, headers: { ...page.headers, 'x-dlp-incident': exchange.id } } };
    } else {
      exchange.status = 200;
      result = { action: decision.action === 'tunnel' ? 'tunnel' : 'intercept' };
    }
    const outcome = result.action === 'refuse' ? 'refused' : result.action;
    events.connect.publish({ client, host: target.host, port: target.port, outcome, ...(result.action === 'refuse' ? { status: result.page.status } : {}) });
    events.exchangeEnd.publish({ exchange, durationMs: performance.now() - exchange.startedAt });
    return result;
  }

  #start(req: http.IncomingMessage, res: http.ServerResponse, origin: OriginTarget, client: ClientInfo, intercepted: boolean, upgrade: Context['client']): void {
    const exchange = newExchange(req, origin, client, intercepted);
    events.exchangeStart.publish({ exchange });
    const machine = new ExchangeMachine(exchange, { policy: this.#options.policy, viaName: this.#options.viaName, maxScanBytes: this.#options.scanner.scan.maxScanBytes, oversizeAction: this.#options.oversizeAction, delivery: this.#options.delivery?.forRule });
    const ctx: Context = { exchange, machine, req, res, origin, held: [], ...(upgrade ? { client: upgrade } : {}) };
    res.once('close', () => {
      for (const body of ctx.held) void body.dispose();
      ctx.response?.destroy();
      // a client gone before any answer has no status (a ServerResponse says 200 until written)
      if (res.headersSent) exchange.status ??= res.statusCode;
      events.exchangeEnd.publish({ exchange, durationMs: performance.now() - exchange.startedAt });
    });
    const request = { method: exchange.method, target: originForm(req.url ?? '/'), httpVersion: req.httpVersion, headers: req.headers, rawHeaders: req.rawHeaders, websocket: upgrade !== undefined };
    this.#run(ctx, [], 0, { type: 'request', request });
  }

  /**
   * Commands → their results as the next event → the machine's next commands, until the exchange
   * is answered; it starts with no command and the request event. A command whose result is
   * already there (a pass decided on the heads, a page, a reply written at once) continues in the
   * same turn: only one that waits for a socket or a scan hands the rest to its promise.
   */
  #run(ctx: Context, commands: ExchangeCommand[], from: number, event: ExchangeEvent | undefined): void {
    try {
      for (;;) {
        for (let i = from; i < commands.length; i++) {
          const result = this.#execute(ctx, commands[i]!);
          if (result instanceof Promise) {
            const prior = event;
            result.then(
              (next) => this.#run(ctx, commands, i + 1, next ?? prior),
              (err) => this.#fail(ctx, toProxyError(err)),
            );
            return;
          }
          event = result ?? event;
        }
        if (!event) return;
        commands = ctx.machine.handle(event);
        from = 0;
        event = undefined;
      }
    } catch (err) {
      this.#fail(ctx, toProxyError(err));
    }
  }

  /** One command: its resulting event now, or a promise of it when it waits on I/O. */
  #execute(ctx: Context, command: ExchangeCommand): ExchangeEvent | undefined | Promise<ExchangeEvent | undefined> {
    switch (command.type) {
      case 'measure':
        return this.#measure(ctx, command.side);
      case 'scan':
        return this.#scan(ctx, command);
      case 'patience':
        return runPatience(ctx, this.#options, command, this.#bodyStream(ctx, 'download', command.body)!);
      case 'patience-fetch':
        return runPatienceFetch(ctx, this.#options, command);
      case 'finish-trickle':
      case 'cut':
        return runTrickleEnd(ctx, command);
      case 'answer':
        this.#answer(ctx, command.answer, command.close);
        return undefined;
      case 'forward':
        return this.#forward(ctx, command);
      case 'respond':
        this.#respond(ctx, command);
        return undefined;
      case 'relay-websocket': {
        const switched = ctx.switched!;
        return relayWebSocketExchange(ctx.exchange, ctx.req, ctx.client!, switched, command, this.#options.scanner, this.#options.websocket).then(() => undefined);
      }
    }
  }

  async #scan(ctx: Context, command: Extract<ExchangeCommand, { type: 'scan' }>): Promise<ExchangeEvent> {
    // a held body is scanned from its spool (runScan), not replayed into a second one
    const body = command.body.kind === 'held' ? null : this.#bodyStream(ctx, command.side, command.body);
    const { outcome, trickled } = await runScan(ctx, this.#options, command, body, ctx.response?.remoteAddress);
    this.#hold(ctx, outcome);
    return { type: 'scanned', side: command.side, outcome, trickled };
  }

  /** Hold a body to learn its length, up to the scan cap. */
  async #measure(ctx: Context, side: Direction): Promise<ExchangeEvent> {
    const { scan } = this.#options.scanner;
    const spool = new Spool({ memoryBytes: scan.spoolMemoryBytes, maxBytes: scan.maxScanBytes, ...(scan.spoolDir === undefined ? {} : { dir: scan.spoolDir }) });
    ctx.held.push({ dispose: () => spool.destroy() });
    const source = side === 'upload' ? ctx.req : this.#responseBody(ctx);
    const overflow = await feedSpool(source, spool, scan.maxScanBytes, side === 'upload' ? 'CLIENT_READ_FAILED' : 'UPSTREAM_READ_FAILED', side === 'upload' ? 'the client' : 'the origin');
    if (side === 'upload') ctx.exchange.requestBytes = spool.size + (overflow?.chunk.length ?? 0);
    if (overflow) return { type: 'overflowed', side, spool, overflow };
    const body = await spool.done;
    return { type: 'measured', side, body };
  }

  /** A readable of a side's body as the machine refers to it; null when there is none. */
  #bodyStream(ctx: Context, side: Direction, ref: BodyRef): Readable | null {
    switch (ref.kind) {
      case 'none':
        return null;
      case 'stream':
        return side === 'upload' ? ctx.req : this.#responseBody(ctx);
      case 'held':
        return ref.body.replay();
      case 'overflow':
        return overflowStream(ref.spool, ref.overflow);
      case 'adapted':
        return ref.body ? ref.body.replay() : null;
      case 'range':
        return ref.body.replay();
    }
  }

  async #forward(ctx: Context, command: Extract<ExchangeCommand, { type: 'forward' }>): Promise<ExchangeEvent> {
    const { upstream } = this.#options;
    const head = { method: command.method, path: command.path, headers: command.headers };
    if (command.upgrade) {
      const answer = await upstream.openUpgrade(ctx.origin, head);
      const response = incomingResponse(answer.response);
      if (response.statusCode === 101) ctx.switched = answer;
      else ctx.response = response;
      return { type: 'response', response: responseFacts(response) };
    }
    // a body held in RAM goes out with the head, and no body at all at once: no stream between the
    // spool and the socket, no Writable for undici to read
    const whole = ramBody(command.body);
    const body = whole ? null : this.#bodyStream(ctx, 'upload', command.body);
    const opened = upstream.open(ctx.origin, head, whole ?? (body ? undefined : null));
    // released with the exchange (its one 'close' listener): a request still open then is abandoned
    ctx.held.push({ dispose: () => ctx.res.writableFinished || opened.abandon() });
    if (whole) ctx.req.resume(); // whatever is left of the client's body was already held
    else if (body) {
      const request = opened.request;
      // bytes received from the client: counted as they stream (an overflow replays its prefix)
      if (command.body.kind === 'stream' || command.body.kind === 'overflow') {
        ctx.exchange.requestBytes = 0;
        body.on('data', (chunk: Buffer) => (ctx.exchange.requestBytes += chunk.length));
      }
      body.pipe(request);
      body.once('error', (err) => request.destroy(err));
      if (command.body.kind === 'stream') ctx.req.once('aborted', () => request.destroy());
      else ctx.req.resume(); // whatever is left of the client's body was already held
    }
    ctx.response = await opened.response;
    return { type: 'response', response: responseFacts(ctx.response) };
  }

  /** The origin's response body as a stream, made on first use; a failure of it cuts the client. */
  #responseBody(ctx: Context): Readable {
    if (ctx.responseBody) return ctx.responseBody;
    const body = (ctx.responseBody = ctx.response!.body());
    body.once('error', (err) => {
      const error = new ProxyError('UPSTREAM_READ_FAILED', `${ctx.origin.host}: response body: ${err.message}`, { cause: err });
      ctx.exchange.error = error;
      events.error.publish({ exchange: ctx.exchange, error });
      ctx.res.destroy(error);
    });
    return body;
  }

  #respond(ctx: Context, command: Extract<ExchangeCommand, { type: 'respond' }>): void {
    const { res, exchange } = ctx;
    exchange.status = command.status;
    const count = (n: number) => (exchange.responseBytes += n);
    const body = command.body;
    if (body.kind === 'range') {
      const type = ctx.response?.headers['content-type'];
      const plan = rangeBody(body.plan.ranges, body.body.sizeBytes, type);
      // several ranges: multipart/byteranges replaces the origin's Content-Type (RFC 9110 §14.6)
      const own = plan.headers.some(([name]) => name === 'Content-Type') ? command.headers.filter((_, i, all) => !/^content-type$/i.test(all[i - (i % 2)]!)) : command.headers;
      const headers = [...own, ...plan.headers.flat(), 'Content-Length', String(plan.contentLength)];
      res.writeHead(command.status, command.reason, headers);
      ctx.responseBody?.resume();
      const segments = async function* () {
        for (const segment of plan.segments) {
          if (Buffer.isBuffer(segment)) yield segment;
          else yield* body.body.replay(segment.start, segment.end + 1);
        }
      };
      const stream = Readable.from(segments(), { objectMode: false });
      stream.on('data', (chunk: Buffer) => count(chunk.length));
      cutOnError(stream, res);
      stream.pipe(res);
      return;
    }
    res.writeHead(command.status, command.reason, command.headers);
    if (body.kind === 'held' || body.kind === 'adapted') {
      pipeHeld(body.body, res, count);
      return;
    }
    // a body that came whole with its head goes out with it, in one write, without a stream
    const whole = body.kind === 'stream' ? ctx.response!.takeWhole() : undefined;
    if (whole !== undefined) {
      count(whole.length);
      res.end(whole);
      return;
    }
    const stream = this.#bodyStream(ctx, 'download', body);
    if (!stream) {
      res.end();
      return;
    }
    stream.on('data', (chunk: Buffer) => count(chunk.length));
    cutOnError(stream, res);
    stream.pipe(res);
    ctx.responseBody?.once('aborted', () => res.destroy());
  }

  /** Our page (block, error, unavailable, or the service's own); the origin's response is abandoned. */
  #answer(ctx: Context, answer: Answer, close: boolean): void {
    const { exchange, res, req } = ctx;
    ctx.response?.destroy();
    ctx.switched?.socket.destroy();
    const accept = req.headers.accept;
    if (answer.kind === 'vendor-page') {
      // The service relays its own page (relayBlockPage): its status and body, our incident id.
      const page = answer.message;
      if (page.body) ctx.held.push(page.body);
      exchange.status = page.head.status ?? 403;
      if (res.headersSent) return void res.destroy();
      const headers = withLength(forwardHeaders(toRaw(page.head.headers), { via: `1.1 ${this.#options.viaName}` }), page.body?.sizeBytes ?? 0);
      res.writeHead(exchange.status, page.head.reason ?? '', [...headers, 'x-dlp-incident', exchange.id]);
      pipeHeld(page.body, res, () => undefined);
      return;
    }
    let page: Page;
    if (answer.kind === 'block') page = this.#options.blockPage(exchange, answer.direction, answer.verdict, answer.rule, accept);
    else {
      exchange.error = answer.error;
      events.error.publish({ exchange, error: answer.error });
      page = this.#options.page(answer.error.status, answer.error.code, exchange.host, accept, exchange.id);
    }
    exchange.status = page.status;
    writePage(res, page, { 'x-dlp-incident': exchange.id }, close);
  }

  #hold(ctx: Context, outcome: ScanOutcome): void {
    if (outcome.action === 'pass' || outcome.action === 'replace') ctx.held.push(outcome.body);
    if (outcome.action === 'replace' && outcome.message.body) ctx.held.push(outcome.message.body);
    if (outcome.action === 'oversize') ctx.held.push({ dispose: () => outcome.spool.destroy() });
  }

  /** A hop failed: our page when nothing was sent yet, else cut the client's connection. */
  #fail(ctx: Context, error: ProxyError): void {
    const { exchange, req, res } = ctx;
    exchange.error = error;
    events.error.publish({ exchange, error });
    ctx.response?.destroy();
    if (res.headersSent || res.destroyed) {
      res.destroy();
      ctx.client?.socket.destroy();
      return;
    }
    exchange.status = error.status;
    // The rest of an unread request body is not worth waiting for: close after the page.
    req.unpipe();
    req.resume();
    try {
      writePage(res, this.#options.page(error.status, error.code, exchange.host, req.headers.accept, exchange.id), {}, true);
    } catch (err) {
      // the last resort of an exchange must not throw (nothing above it listens): a defect of
      // ours, logged, and the connection cut
      events.error.publish({ exchange, error: toProxyError(err) });
      res.destroy();
    }
  }
}

function newExchange(req: http.IncomingMessage, origin: OriginTarget, client: ClientInfo, intercepted: boolean): Exchange {
  const target = req.method === 'CONNECT' ? '' : originForm(req.url ?? '/');
  const query = target.indexOf('?');
  return {
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
}

/** A held or adapted body's bytes as one Buffer, when it is in RAM and not empty. */
function ramBody(ref: BodyRef): Buffer | undefined {
  const body = ref.kind === 'held' || ref.kind === 'adapted' ? ref.body : null;
  return body ? ramBytes(body) : undefined;
}

function responseFacts(response: OriginResponse): ResponseFacts {
  return { status: response.statusCode, reason: response.statusMessage, httpVersion: response.httpVersion, headers: response.headers, rawHeaders: response.rawHeaders };
}
