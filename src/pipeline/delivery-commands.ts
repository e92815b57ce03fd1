// The driver's side of the delivery commands (exchange-machine.ts → exchange-pipeline.ts #execute):
// a download scan that may trickle, the patience start and fetch, the end of a trickle. Kept out
// of the driver so that it only routes each command here.
import type http from 'node:http';
import { Readable } from 'node:stream';
import type { ErrorCode } from '../core/errors.js';
import { events } from '../core/events.js';
import type { Exchange } from '../core/exchange.js';
import type { Direction, Verdict } from '../core/types.js';
import type { BodyScanner, BodyToScan, ScanOutcome } from './body-scan.js';
import type { Delivery } from './delivery.js';
import type { ExchangeCommand, ExchangeEvent } from './exchange-protocol.js';
import { originForm } from './message-heads.js';
import { PatienceStore } from './patience-store.js';
import { answerPatience, startPatience } from './patience.js';
import type { Page } from './respond.js';
import { cutTrickle, finishTrickle, scanTrickled } from './trickle.js';

/** What of the driver's per-exchange context these commands use. */
export interface DeliveryContext {
  exchange: Exchange;
  req: http.IncomingMessage;
  res: http.ServerResponse;
  /** the origin's response; the patience scan takes it over */
  response?: { destroy(): unknown } | undefined;
}

/** What of the driver's options these commands use. */
export interface DeliveryDriver {
  scanner: BodyScanner;
  delivery?: Delivery | undefined;
  page(status: number, code: ErrorCode, host: string | undefined, accept: string | undefined, incidentId?: string): Page;
  blockPage(exchange: Exchange, direction: Direction, verdict: Verdict, rule: string, accept: string | undefined): Page;
}

type Scan = Extract<ExchangeCommand, { type: 'scan' }>;

/** Stages 2-5 of one body; a download with a trickle plan trickles while it is scanned. */
export async function runScan(ctx: DeliveryContext, driver: DeliveryDriver, command: Scan, body: Readable | null, serverIp: string | undefined): Promise<{ outcome: ScanOutcome; trickled: boolean }> {
  // a body measured for a size rule is held whole already: scanned from its spool, never trickled
  const held = command.body.kind === 'held' ? command.body.body : undefined;
  const input: BodyToScan = {
    exchange: ctx.exchange,
    direction: command.side,
    decision: command.decision,
    reqHead: command.reqHead,
    ...(command.resHead ? { resHead: command.resHead } : {}),
    body: body ?? Readable.from([]),
    ...(held ? { held } : {}),
    declaredBytes: command.declaredBytes,
    serverIp,
  };
  const scanned = await scanTrickled(driver.scanner, input, held ? undefined : command.trickle, ctx.res, (n) => (ctx.exchange.responseBytes += n));
  if (command.side === 'download') ctx.exchange.delivery = scanned.trickled ? 'trickle' : 'hold';
  return scanned;
}

/** The progress page now, the scan in the background; or, without room, the rule's fallback. */
export function runPatience(ctx: DeliveryContext, driver: DeliveryDriver, command: Extract<ExchangeCommand, { type: 'patience' }>, body: Readable): ExchangeEvent {
  const { exchange, req } = ctx;
  const accept = req.headers.accept;
  const started =
    driver.delivery !== undefined &&
    startPatience({
      exchange,
      res: ctx.res,
      store: driver.delivery.store,
      scanner: driver.scanner,
      input: { exchange, direction: 'download', decision: command.decision, reqHead: command.reqHead, resHead: command.resHead, body, declaredBytes: command.declaredBytes },
      answer: command.answer,
      target: originForm(req.url ?? '/'),
      head: command.head,
      accept,
      blockPage: (verdict) => driver.blockPage(exchange, 'download', verdict, command.decision.rule, accept),
      errorPage: (error) => driver.page(error.status, error.code, exchange.host, accept, exchange.id),
    });
  if (!started) return { type: 'patience-refused' };
  exchange.delivery = 'patience';
  // The background scan reads the origin's response to its end: the exchange's close must not cut it.
  ctx.response = undefined;
  return { type: 'patience-answered' };
}

/** Without a Delivery (none configured) every patience link is unknown. */
const NO_STORE = new PatienceStore({ maxHeldBytes: 0, ttlMs: 1 });

export async function runPatienceFetch(ctx: DeliveryContext, driver: DeliveryDriver, command: Extract<ExchangeCommand, { type: 'patience-fetch' }>): Promise<undefined> {
  const store = driver.delivery?.store ?? NO_STORE;
  const fetch = { exchange: ctx.exchange, res: ctx.res, store, request: command.request, target: originForm(ctx.req.url ?? '/'), accept: ctx.req.headers.accept };
  // a link another cluster worker holds: asked of that worker (patience-relay.ts)
  const relay = driver.delivery?.relay;
  await (relay?.heldElsewhere(command.request) ? relay.forward(fetch) : answerPatience(fetch));
  return undefined;
}

export async function runTrickleEnd(ctx: DeliveryContext, command: Extract<ExchangeCommand, { type: 'finish-trickle' | 'cut' }>): Promise<undefined> {
  if (command.type === 'finish-trickle') {
    await finishTrickle(ctx.res, command.body);
    return undefined;
  }
  const answer = command.answer;
  if (answer.kind === 'error' || answer.kind === 'unavailable') {
    ctx.exchange.error = answer.error;
    events.error.publish({ exchange: ctx.exchange, error: answer.error });
  }
  ctx.response?.destroy();
  cutTrickle(ctx.res);
  return undefined;
}
