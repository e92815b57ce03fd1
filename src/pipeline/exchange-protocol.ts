// What the exchange machine (exchange-machine.ts) and its driver (exchange-pipeline.ts) say to
// each other: the facts of a request and a response, a side's body as the driver must send it on,
// the events the driver feeds in, the commands the machine returns, and the machine's states.
import type { IncomingHttpHeaders } from 'node:http';
import type { Overflow, Spool, SpooledBody } from '../body/index.js';
import type { ProxyError } from '../core/errors.js';
import type { Decision, Direction, HttpHead, Verdict } from '../core/types.js';
import type { AdaptedMessage } from '../enforce/classify.js';
import type { ScanOutcome } from './body-scan.js';
import type { TricklePlan } from './delivery.js';
import type { PatienceOp } from './patience.js';
import type { RangePlan } from './ranges.js';

export interface RequestFacts {
  method: string;
  /** origin-form: path and query, as the client sent them */
  target: string;
  httpVersion: string;
  headers: IncomingHttpHeaders;
  rawHeaders: readonly string[];
  /** a WebSocket handshake (GET with Upgrade: websocket) that arrived on the upgrade path */
  websocket: boolean;
}

export interface ResponseFacts {
  status: number;
  reason: string;
  httpVersion: string;
  headers: IncomingHttpHeaders;
  rawHeaders: readonly string[];
}

/** A side's body as the driver must send it on. */
export type BodyRef =
  | { kind: 'none' }
  /** the sender's stream, unread */
  | { kind: 'stream' }
  /** held whole in a spool */
  | { kind: 'held'; body: SpooledBody }
  /** past the scan cap: the spool's prefix, the chunk that overflowed, then the paused stream */
  | { kind: 'overflow'; spool: Spool; overflow: Overflow }
  /** the ICAP server's replacement */
  | { kind: 'adapted'; body: SpooledBody | null }
  /** byte ranges of a held body (206), or the whole of it */
  | { kind: 'range'; body: SpooledBody; plan: Extract<RangePlan, { kind: 'ranges' }> };

export type Answer =
  | { kind: 'block'; direction: Direction; verdict: Verdict; rule: string }
  | { kind: 'error'; error: ProxyError }
  | { kind: 'unavailable'; error: ProxyError }
  /** the scanning service's own block page (services.*.relayBlockPage) */
  | { kind: 'vendor-page'; message: AdaptedMessage };

export type ExchangeCommand =
  /** hold this side's body to learn its length (a rule matches on size) */
  | { type: 'measure'; side: Direction }
  /** stages 2-5 for this side's body */
  | { type: 'scan'; side: Direction; decision: Decision; reqHead: HttpHead; resHead?: HttpHead; body: BodyRef; declaredBytes: number | undefined; trickle?: TricklePlan }
  /** answer at once with the progress page (or 202 JSON) and scan in the background (patience.ts) */
  | { type: 'patience'; answer: 'html' | 'json'; decision: Decision; reqHead: HttpHead; resHead: HttpHead; body: BodyRef; declaredBytes: number; head: { status: number; reason: string; headers: string[] } }
  /** a status poll or file fetch of a patience download: answered by the proxy */
  | { type: 'patience-fetch'; request: PatienceOp }
  /** the verdict passed a trickled body: the rest of it */
  | { type: 'finish-trickle'; body: BodyRef }
  /** anything but a pass after the head went out: destroy the client connection, never a complete body */
  | { type: 'cut'; answer: Answer }
  /**
   * our page; the exchange ends. `close`: the client's body was not all read, so the connection
   * cannot carry another request; the origin's response, if any, is abandoned.
   */
  | { type: 'answer'; answer: Answer; close: boolean }
  /** open the origin request and send the body (upgrade: a WebSocket handshake) */
  | { type: 'forward'; method: string; path: string; headers: string[]; body: BodyRef; upgrade: boolean }
  /** answer the client with the origin's response (or its replacement) */
  | { type: 'respond'; status: number; reason: string; headers: string[]; body: BodyRef }
  /** the origin switched to WebSocket: relay, scanning messages by these decisions */
  | { type: 'relay-websocket'; upload: Decision; download: Decision };

export type ExchangeEvent =
  | { type: 'request'; request: RequestFacts }
  | { type: 'measured'; side: Direction; body: SpooledBody }
  | { type: 'overflowed'; side: Direction; spool: Spool; overflow: Overflow }
  /** `trickled`: the response head already went out (trickle) */
  | { type: 'scanned'; side: Direction; outcome: ScanOutcome; trickled?: boolean }
  | { type: 'patience-answered' }
  | { type: 'patience-refused' }
  | { type: 'response'; response: ResponseFacts };

export type State =
  | 'start'
  | 'measuring-upload'
  | 'scanning-upload'
  | 'forwarded'
  | 'measuring-download'
  | 'scanning-download'
  | 'starting-patience'
  | 'patient'
  | 'cut'
  | 'relaying'
  | 'responded'
  | 'answered';
