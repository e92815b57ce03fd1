// One exchange as explicit states (mitmproxy's HTTP layer is the model). The machine does no I/O:
// each event it is handed (the request head, a measured or scanned body, the response head)
// moves it to its next state and returns the commands to run; the driver (exchange-pipeline.ts)
// runs them against sockets and feeds their results back. So the order of an exchange reads top
// to bottom here, every way in — plain, intercepted, WebSocket upgrade — is decided by the same
// policy call, and a test can play an exchange as a script of events and expected commands.
//
//   start ─request─► [loop: refuse] ─► (size rule: measuring-upload) ─► upload decided
//     upload decided ─┬─ block ──────────────────────────────────────────────────► answered
//                     ├─ scan ──► scanning-upload ─┬─ block / 503 / vendor page ──► answered
//                     │                             ├─ oversize ─ block ──────────► answered
//                     │                             └─ pass / replace / oversize pass ─┐
//                     └─ pass (websocket: both directions decided first) ─────────────┴► forwarded
//   forwarded ─response─► 101 to a websocket: relaying
//                        └► (size rule: measuring-download) ─► download decided
//     download decided ─┬─ block ──────────────────────────────────────────────────► answered
//                       ├─ scan ──► scanning-download ─┬─ block / 503 / vendor page ─► answered
//                       │                              └─ pass / replace / oversize pass ─► responded
//                       │   trickled (head already sent) ─┬─ pass / oversize pass ──────► responded
//                       │                                  └─ anything else ────────────► cut
//                       ├─ scan, patience ─► starting-patience ─┬─ page sent ─► patient (scan goes on)
//                       │                                       └─ no room ──► scanning-download (fallback)
//                       └─ pass ─────────────────────────────────────────────────────► responded
//   start ─request with the reserved patience parameter─► answered (by the proxy, never the origin)
//
// A byte range of a download the policy may scan is never fetched as such: Range and If-Range are
// stripped upstream, the whole is scanned, and the range is cut from the spool (ranges.ts).
import type { SpooledBody } from '../body/index.js';
import { ProxyError } from '../core/errors.js';
import { events } from '../core/events.js';
import type { Exchange } from '../core/exchange.js';
import { forwardHeaders } from '../core/headers.js';
import { formatAuthority } from '../core/host.js';
import type { Decision, Direction, HttpHead, Verdict } from '../core/types.js';
import type { AdaptedMessage } from '../enforce/classify.js';
import type { RuleDelivery } from '../config/schema.js';
import type { Policy, PolicyInput } from '../policy/index.js';
import type { ScanOutcome } from './body-scan.js';
import { planDelivery, type DeliveryPlan } from './delivery.js';
import { patienceRequest } from './patience.js';
import { dropNamed, headerValue, isPartial, onlyInspectableExtensions, onlyScannableCodings, originForm, viaNames } from './message-heads.js';
import { planRanges } from './ranges.js';
import type { Answer, BodyRef, ExchangeCommand, ExchangeEvent, RequestFacts, ResponseFacts, State } from './exchange-protocol.js';
import { declaredLength, requestHasBody, requestHead, responseHasBody, responseHead, toRaw, withLength } from './respond.js';

export interface MachineOptions {
  policy: Policy;
  viaName: string;
  maxScanBytes: number;
  oversizeAction: 'block' | 'pass';
  /** a scan rule's delivery settings (policy[].delivery); undefined = hold */
  delivery?: ((rule: string) => RuleDelivery | undefined) | undefined;
}

/** Request fields never forwarded besides the hop-by-hop ones. */
const DROP_REQUEST = new Set(['host', 'expect']);
const DROP_RANGE = new Set(['host', 'expect', 'range', 'if-range']);

export class ExchangeMachine {
  state: State = 'start';
  readonly #exchange: Exchange;
  readonly #options: MachineOptions;
  #request!: RequestFacts;
  #response: ResponseFacts | undefined;
  #websocket = false;
  #upload = { hasBody: false, bytes: undefined as number | undefined, body: { kind: 'none' } as BodyRef };
  #download = { hasBody: false, bytes: undefined as number | undefined, body: { kind: 'none' } as BodyRef };
  #uploadDecision: Decision | undefined;
  #downloadDecision: Decision | undefined;
  #reqHead: HttpHead | undefined;
  /** the client's Range, when it was stripped upstream to fetch the whole */
  #range: { range: string; ifRange: string | undefined } | undefined;
  /** patience refused (no room): what to do instead */
  #fallback: DeliveryPlan | undefined;

  constructor(exchange: Exchange, options: MachineOptions) {
    this.#exchange = exchange;
    this.#options = options;
  }

  /** The next commands for one event. An event the current state does not expect is our defect. */
  handle(event: ExchangeEvent): ExchangeCommand[] {
    switch (event.type) {
      case 'request':
        this.#expect('start', event);
        return this.#onRequest(event.request);
      case 'measured':
      case 'overflowed':
        this.#expect(event.side === 'upload' ? 'measuring-upload' : 'measuring-download', event);
        return this.#onMeasured(event);
      case 'scanned':
        this.#expect(event.side === 'upload' ? 'scanning-upload' : 'scanning-download', event);
        if (event.trickled) return this.#afterTrickle(event.outcome);
        return this.#onScanned(event.side, event.outcome);
      case 'patience-answered':
        this.#expect('starting-patience', event);
        this.state = 'patient';
        return [];
      case 'patience-refused':
        this.#expect('starting-patience', event);
        return this.#scanDownload(this.#downloadDecision!, this.#fallback!);
      case 'response':
        this.#expect('forwarded', event);
        return this.#onResponse(event.response);
    }
  }

  #expect(state: State, event: ExchangeEvent): void {
    if (this.state !== state) throw new ProxyError('INTERNAL', `exchange state ${this.state} got event ${event.type}${'side' in event ? ` (${event.side})` : ''}`);
  }

  #onRequest(request: RequestFacts): ExchangeCommand[] {
    this.#request = request;
    const via = request.headers.via;
    if (via !== undefined && viaNames(via).includes(this.#options.viaName.toLowerCase())) {
      return this.#answer({ kind: 'error', error: new ProxyError('CLIENT_LOOP_DETECTED', `the request already passed through ${this.#options.viaName} (Via: ${via})`) });
    }
    this.#websocket = request.websocket;
    const up = this.#upload;
    up.hasBody = request.websocket || requestHasBody(request.headers);
    up.bytes = request.websocket ? undefined : up.hasBody ? declaredLength(request.headers) : 0;
    up.body = up.hasBody && !request.websocket ? { kind: 'stream' } : { kind: 'none' };
    const patience = patienceRequest(request.target);
    if (patience) {
      // answered by the proxy, never forwarded; still decided (a block rule refuses it) and logged
      const decision = this.#decide('upload', this.#input('upload'));
      if (decision.action === 'block') return this.#blockByPolicy('upload', decision);
      this.state = 'answered';
      return [{ type: 'patience-fetch', request: patience }];
    }
    if (!request.websocket && up.hasBody && this.#options.policy.needsSize(this.#input('upload'))) {
      this.state = 'measuring-upload';
      return [{ type: 'measure', side: 'upload' }];
    }
    return this.#decideUpload();
  }

  #onMeasured(event: Extract<ExchangeEvent, { type: 'measured' | 'overflowed' }>): ExchangeCommand[] {
    const side = event.side === 'upload' ? this.#upload : this.#download;
    if (event.type === 'overflowed') {
      // Larger than anything we hold: no size rule can be decided, the oversize action applies.
      side.body = { kind: 'overflow', spool: event.spool, overflow: event.overflow };
      const decision: Decision = { action: 'scan', rule: 'scan.maxScanBytes', explain: `body larger than ${this.#options.maxScanBytes} bytes` };
      this.#publishDecision(event.side, decision);
      return this.#oversize(event.side, decision);
    }
    side.bytes = event.body.sizeBytes;
    side.body = { kind: 'held', body: event.body };
    return event.side === 'upload' ? this.#decideUpload() : this.#decideDownload();
  }

  #decideUpload(): ExchangeCommand[] {
    const up = this.#upload;
    const decision = this.#decide('upload', this.#input('upload'));
    this.#uploadDecision = decision;
    if (decision.action === 'block') return this.#blockByPolicy('upload', decision);
    if (this.#websocket) {
      // The download decision is taken now too: it says whether server messages are scanned.
      const download = this.#decide('download', this.#input('download'));
      this.#downloadDecision = download;
      if (download.action === 'block') return this.#blockByPolicy('download', download);
      return this.#forward({ kind: 'none' });
    }
    if (decision.action === 'scan') {
      if (up.bytes !== undefined && up.bytes > this.#options.maxScanBytes) return this.#oversize('upload', decision);
      this.state = 'scanning-upload';
      return [{ type: 'scan', side: 'upload', decision, reqHead: this.#requestHead(), body: up.body, declaredBytes: up.bytes }];
    }
    return this.#forward(up.body);
  }

  #forward(body: BodyRef, adapted?: HttpHead): ExchangeCommand[] {
    const request = this.#request;
    let raw = adapted ? toRaw(adapted.headers) : request.rawHeaders;
    let drop = DROP_REQUEST;
    const codings = request.headers['accept-encoding'];
    if (!this.#websocket && (codings !== undefined || request.headers.range !== undefined) && this.#options.policy.mayScanDownload(this.#input('download'))) {
      if (codings !== undefined) raw = onlyScannableCodings(raw);
      if (request.headers.range !== undefined) {
        this.#range = { range: request.headers.range, ifRange: headerValue(request.headers['if-range']) };
        drop = DROP_RANGE;
      }
    }
    if (this.#websocket) raw = onlyInspectableExtensions(raw);
    let headers = this.#requestHeaders(raw, drop);
    if (body.kind === 'held') headers = withLength(headers, body.body.sizeBytes);
    if (body.kind === 'adapted') headers = withLength(headers, body.body?.sizeBytes ?? 0);
    this.state = 'forwarded';
    const path = adapted?.target !== undefined ? originForm(adapted.target) : request.target;
    return [{ type: 'forward', method: adapted?.method ?? request.method, path, headers, body, upgrade: this.#websocket }];
  }

  #onResponse(response: ResponseFacts): ExchangeCommand[] {
    this.#response = response;
    if (this.#websocket) {
      if (response.status === 101) {
        this.state = 'relaying';
        return [{ type: 'relay-websocket', upload: this.#uploadDecision!, download: this.#downloadDecision! }];
      }
      // The origin did not switch: an ordinary response, decided and scanned as any other.
      this.#websocket = false;
    }
    const down = this.#download;
    down.hasBody = responseHasBody(this.#request.method, response.status, response.headers);
    down.bytes = down.hasBody ? declaredLength(response.headers) : 0;
    down.body = down.hasBody ? { kind: 'stream' } : { kind: 'none' };
    if (down.hasBody && this.#options.policy.needsSize(this.#input('download'))) {
      this.state = 'measuring-download';
      return [{ type: 'measure', side: 'download' }];
    }
    return this.#decideDownload();
  }

  #decideDownload(): ExchangeCommand[] {
    const down = this.#download;
    const response = this.#response!;
    const decision = this.#decide('download', this.#input('download'));
    this.#downloadDecision = decision;
    if (decision.action === 'block') return this.#blockByPolicy('download', decision);
    if (decision.action === 'scan' && down.hasBody) {
      if (isPartial(response, down.bytes)) {
        const verdict: Verdict = { action: 'block', reason: 'the origin sent only part of the file; only a whole file can be scanned', violations: ['partial-content'], source: 'policy' };
        this.#publishVerdict('download', decision, verdict, 0);
        return this.#answer({ kind: 'block', direction: 'download', verdict, rule: decision.rule });
      }
      if (down.bytes !== undefined && down.bytes > this.#options.maxScanBytes) return this.#oversize('download', decision);
      return this.#scanDownload(decision, this.#deliveryPlan(decision));
    }
    // Passed unscanned. A client whose Range was stripped gets the whole (RFC 9110 §14.2 lets a
    // server ignore Range); only a scanned body is cut into ranges.
    return this.#respond(down.body);
  }

  /** How this download reaches the client while it is scanned (delivery.ts). */
  #deliveryPlan(decision: Decision): DeliveryPlan {
    const rule = this.#options.delivery?.(decision.rule);
    if (!rule) return { mode: 'hold' };
    const request = this.#request;
    const response = this.#response!;
    const bytes = this.#download.bytes;
    const headers = withLength(this.#responseHeaders(response.rawHeaders), bytes);
    return planDelivery(rule, { method: request.method, requestHeaders: request.headers, httpVersion: request.httpVersion, declaredBytes: bytes, ranged: this.#range !== undefined, status: response.status, reason: response.reason, headers });
  }

  #scanDownload(decision: Decision, plan: DeliveryPlan): ExchangeCommand[] {
    const down = this.#download;
    const scan = { decision, reqHead: this.#requestHead(), resHead: this.#responseHead(), body: down.body };
    if (plan.mode === 'patience') {
      this.state = 'starting-patience';
      this.#fallback = plan.fallback;
      const response = this.#response!;
      const head = { status: response.status, reason: response.reason, headers: this.#responseHeaders(response.rawHeaders) };
      return [{ type: 'patience', answer: plan.answer, ...scan, declaredBytes: down.bytes!, head }];
    }
    this.state = 'scanning-download';
    return [{ type: 'scan', side: 'download', ...scan, declaredBytes: down.bytes, ...(plan.mode === 'trickle' ? { trickle: plan.trickle } : {}) }];
  }

  /** The client has the head and part of the body: only a pass lets the rest follow. */
  #afterTrickle(outcome: ScanOutcome): ExchangeCommand[] {
    const decision = this.#downloadDecision!;
    switch (outcome.action) {
      case 'pass':
        this.#download.body = { kind: 'held', body: outcome.body };
        return this.#done([{ type: 'finish-trickle', body: this.#download.body }]);
      case 'oversize': {
        this.#download.body = { kind: 'overflow', spool: outcome.spool, overflow: outcome.overflow };
        const [command] = this.#oversize('download', decision);
        if (command?.type === 'respond') return this.#done([{ type: 'finish-trickle', body: command.body }]);
        return this.#cut(command?.type === 'answer' ? command.answer : { kind: 'block', direction: 'download', verdict: this.#exchange.verdicts.at(-1)!, rule: decision.rule });
      }
      case 'unavailable':
        return this.#cut({ kind: 'unavailable', error: outcome.error });
      case 'block':
      case 'replace':
        // body-scan.ts records a replacement after the head as a block ('replaced-after-trickle')
        return this.#cut({ kind: 'block', direction: 'download', verdict: outcome.verdict, rule: decision.rule });
    }
  }

  #cut(answer: Answer): ExchangeCommand[] {
    this.state = 'cut';
    return [{ type: 'cut', answer }];
  }

  #onScanned(side: Direction, outcome: ScanOutcome): ExchangeCommand[] {
    const decision = (side === 'upload' ? this.#uploadDecision : this.#downloadDecision)!;
    const state = side === 'upload' ? this.#upload : this.#download;
    switch (outcome.action) {
      case 'block':
        if (outcome.page) return this.#answer({ kind: 'vendor-page', message: outcome.page });
        return this.#answer({ kind: 'block', direction: side, verdict: outcome.verdict, rule: decision.rule });
      case 'unavailable':
        return this.#answer({ kind: 'unavailable', error: outcome.error });
      case 'oversize':
        state.body = { kind: 'overflow', spool: outcome.spool, overflow: outcome.overflow };
        return this.#oversize(side, decision);
      case 'replace':
        state.body = { kind: 'held', body: outcome.body };
        if (side === 'upload') return this.#forward({ kind: 'adapted', body: outcome.message.body }, outcome.message.head);
        return this.#respondAdapted(outcome.message);
      case 'pass':
        state.body = { kind: 'held', body: outcome.body };
        if (side === 'upload') return this.#forward(state.body);
        return this.#respondHeld(outcome.body);
    }
  }

  /** Past scan.maxScanBytes: block, or send it on unscanned (logged and counted as such). */
  #oversize(side: Direction, decision: Decision): ExchangeCommand[] {
    const state = side === 'upload' ? this.#upload : this.#download;
    const size = state.bytes ?? (state.body.kind === 'overflow' ? state.body.spool.size + state.body.overflow.chunk.length : this.#options.maxScanBytes + 1);
    const what = side === 'upload' ? 'upload' : 'download';
    if (this.#options.oversizeAction === 'block') {
      const verdict: Verdict = { action: 'block', reason: `the ${what} is larger than the ${this.#options.maxScanBytes} bytes that can be scanned`, violations: ['oversize'], source: 'policy' };
      this.#publishVerdict(side, decision, verdict, size);
      return this.#answer({ kind: 'block', direction: side, verdict, rule: decision.rule });
    }
    const verdict: Verdict = { action: 'pass', reason: `the ${what} is larger than the ${this.#options.maxScanBytes} bytes that can be scanned: passed unscanned (scan.oversizeAction: pass)`, violations: [], source: 'unscanned' };
    this.#publishVerdict(side, decision, verdict, size);
    return side === 'upload' ? this.#forward(state.body) : this.#respond(state.body);
  }

  #respondHeld(body: SpooledBody): ExchangeCommand[] {
    const response = this.#response!;
    if (this.#range && response.status === 200) {
      const plan = planRanges(this.#range.range, this.#range.ifRange, { etag: headerValue(response.headers.etag), lastModified: headerValue(response.headers['last-modified']) }, body.sizeBytes);
      if (plan.kind === 'unsatisfiable') {
        const headers = withLength(dropNamed(this.#responseHeaders(response.rawHeaders), 'content-range'), 0);
        headers.push('Content-Range', `bytes */${body.sizeBytes}`);
        return this.#done([{ type: 'respond', status: 416, reason: 'Range Not Satisfiable', headers, body: { kind: 'none' } }]);
      }
      if (plan.kind === 'ranges') {
        const headers = dropNamed(this.#responseHeaders(response.rawHeaders), 'content-range', 'content-length', 'transfer-encoding');
        return this.#done([{ type: 'respond', status: 206, reason: 'Partial Content', headers, body: { kind: 'range', body, plan } }]);
      }
    }
    return this.#respond({ kind: 'held', body });
  }

  #respondAdapted(message: AdaptedMessage): ExchangeCommand[] {
    const head = message.head;
    const headers = withLength(this.#responseHeaders(toRaw(head.headers)), message.body?.sizeBytes ?? 0);
    return this.#done([{ type: 'respond', status: head.status ?? 200, reason: head.reason ?? '', headers, body: { kind: 'adapted', body: message.body } }]);
  }

  #respond(body: BodyRef): ExchangeCommand[] {
    const response = this.#response!;
    let headers = this.#responseHeaders(response.rawHeaders);
    if (body.kind === 'held') headers = withLength(headers, body.body.sizeBytes);
    return this.#done([{ type: 'respond', status: response.status, reason: response.reason, headers, body }]);
  }

  #done(commands: ExchangeCommand[]): ExchangeCommand[] {
    this.state = 'responded';
    return commands;
  }

  /** A rule's own block: a verdict of source `policy`, logged as a violation like any other. */
  #blockByPolicy(side: Direction, decision: Decision): ExchangeCommand[] {
    const verdict = policyVerdict(decision);
    this.#publishVerdict(side, decision, verdict, 0);
    return this.#answer({ kind: 'block', direction: side, verdict, rule: decision.rule });
  }

  #answer(answer: Answer): ExchangeCommand[] {
    this.state = 'answered';
    const body = this.#upload.body.kind;
    return [{ type: 'answer', answer, close: body === 'stream' || body === 'overflow' }];
  }

  #decide(direction: Direction, input: PolicyInput): Decision {
    const decision = this.#options.policy.decide(input);
    this.#publishDecision(direction, decision);
    return decision;
  }

  #publishDecision(direction: Direction, decision: Decision): void {
    this.#exchange.decisions.push(decision);
    events.decision.publish({ exchange: this.#exchange, direction, decision });
  }

  #publishVerdict(direction: Direction, decision: Decision, verdict: Verdict, sizeBytes: number): void {
    this.#exchange.verdicts.push(verdict);
    events.verdict.publish({ exchange: this.#exchange, direction, service: decision.service ?? '', verdict, istag: undefined, sha256: undefined, sizeBytes, monitored: false, rule: decision.rule });
  }

  /** What the policy sees of one side: heads and body facts, never the body. */
  #input(direction: Direction): PolicyInput {
    const e = this.#exchange;
    const side = direction === 'upload' ? this.#upload : this.#download;
    const response = direction === 'download' ? this.#response : undefined;
    const input: PolicyInput = {
      direction,
      method: e.method,
      host: e.host,
      path: e.path,
      hasBody: this.#websocket || (direction === 'download' && response === undefined) || side.hasBody,
      clientIp: e.client.ip,
    };
    if (this.#websocket) input.protocol = 'websocket';
    const requestType = headerValue(this.#request.headers['content-type']);
    if (requestType !== undefined) input.requestContentType = requestType;
    const responseType = headerValue(response?.headers['content-type']);
    if (responseType !== undefined) input.responseContentType = responseType;
    if (!this.#websocket && (direction === 'upload' || response !== undefined) && side.bytes !== undefined) input.bodyBytes = side.bytes;
    if (e.client.user !== undefined) input.user = e.client.user;
    return input;
  }

  #requestHeaders(raw: readonly string[], drop: ReadonlySet<string>): string[] {
    const request = this.#request;
    const headers = forwardHeaders(raw, { via: `${request.httpVersion} ${this.#options.viaName}`, drop, keepUpgrade: this.#websocket });
    headers.unshift('Host', formatAuthority(this.#exchange.host, this.#exchange.port, this.#exchange.scheme === 'https' ? 443 : 80));
    return headers;
  }

  #responseHeaders(raw: readonly string[]): string[] {
    const headers = forwardHeaders(raw, { via: `${this.#response?.httpVersion ?? '1.1'} ${this.#options.viaName}` });
    // RFC 9110 §8.6, RFC 9112 §6.1: no framing header in a 1xx or 204, whatever the origin sent
    const status = this.#response?.status ?? 200;
    return status < 200 || status === 204 ? dropNamed(headers, 'content-length', 'transfer-encoding') : headers;
  }

  /** The request head as the ICAP server sees it: absolute URI, the headers we forward. */
  #requestHead(): HttpHead {
    if (this.#reqHead) return this.#reqHead;
    const e = this.#exchange;
    const uri = `${e.scheme}://${formatAuthority(e.host, e.port, e.scheme === 'https' ? 443 : 80)}${this.#request.target}`;
    this.#reqHead = requestHead(e.method, uri, this.#request.httpVersion, this.#requestHeaders(this.#request.rawHeaders, DROP_REQUEST));
    return this.#reqHead;
  }

  #responseHead(): HttpHead {
    const r = this.#response!;
    return responseHead(r.status, r.reason, r.httpVersion, this.#responseHeaders(r.rawHeaders));
  }
}

/** CONNECT, decided by the same policy and published as the same decision event. */
export function decideConnect(policy: Policy, exchange: Exchange): Decision {
  const decision = policy.decideConnect(exchange.host, { clientIp: exchange.client.ip, ...(exchange.client.user === undefined ? {} : { user: exchange.client.user }) });
  exchange.decisions.push(decision);
  events.decision.publish({ exchange, direction: 'upload', decision });
  return decision;
}

export function policyVerdict(decision: Decision): Verdict {
  return { action: 'block', reason: `blocked by the rule "${decision.rule}"`, violations: [`policy:${decision.rule}`], source: 'policy' };
}
