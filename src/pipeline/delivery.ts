// How a scanned download reaches the client while it is scanned (policy rule `delivery`):
//
//   hold      nothing until the verdict, then all of it (the default: a block is a clean block page)
//   trickle   once trickleMinBytes arrived, the head and then slow bytes, never the last
//             trickleHoldBytes before the verdict; a block cuts the connection (trickle.ts)
//   patience  a browser navigation gets a progress page at once and fetches the file once scanned;
//             a JSON client gets 202 and a status URL; any other client the rule's patienceFallback
//             (patience.ts, patience-store.ts; across cluster workers patience-relay.ts)
//
// planDelivery() is pure: the exchange machine asks it which of these applies to one download.
// A cut is only detectable when the framing says where the body ends, so trickle needs a
// Content-Length from the origin or a chunked response (HTTP/1.1 client); an HTTP/1.0 client of an
// unknown-length body is held. A byte range the proxy cuts from the scanned whole is held too.
import type { IncomingHttpHeaders } from 'node:http';
import type { Config, PolicyRule, RuleDelivery } from '../config/schema.js';
import { prefersJson } from '../enforce/prefers-json.js';
import { PatienceRelay } from './patience-relay.js';
import { PatienceStore } from './patience-store.js';

export type DeliveryMode = RuleDelivery['mode'];

export interface TricklePlan {
  holdBytes: number;
  bytesPerSecond: number;
  /** the head goes out once this much of the body arrived without a verdict */
  minBytes: number;
  status: number;
  reason: string;
  headers: string[];
}

export type DeliveryPlan = { mode: 'hold' } | { mode: 'trickle'; trickle: TricklePlan } | { mode: 'patience'; answer: 'html' | 'json'; fallback: DeliveryPlan };

export interface DeliveryFacts {
  method: string;
  requestHeaders: IncomingHttpHeaders;
  httpVersion: string;
  /** the origin's Content-Length, when it sent one */
  declaredBytes: number | undefined;
  /** the client's Range was stripped: its answer is cut from the scanned whole */
  ranged: boolean;
  /** the response head as the client would get it: status, reason, forwarded headers */
  status: number;
  reason: string;
  headers: string[];
}

const HOLD: DeliveryPlan = Object.freeze({ mode: 'hold' });

export function planDelivery(rule: RuleDelivery | undefined, facts: DeliveryFacts): DeliveryPlan {
  if (!rule || rule.mode === 'hold' || facts.ranged) return HOLD;
  if (rule.mode === 'trickle') return planTrickle(rule, facts);
  const known = facts.declaredBytes !== undefined && facts.declaredBytes >= rule.trickleMinBytes;
  const fallback = rule.patienceFallback === 'trickle' ? planTrickle(rule, facts) : HOLD;
  // An unknown length is most often a page, not a download: never a progress page for it.
  if (facts.method !== 'GET' || !known) return fallback;
  if (isNavigation(facts.requestHeaders)) return { mode: 'patience', answer: 'html', fallback };
  if (prefersJson(facts.requestHeaders.accept)) return { mode: 'patience', answer: 'json', fallback };
  return fallback;
}

function planTrickle(rule: RuleDelivery, facts: DeliveryFacts): DeliveryPlan {
  const declared = facts.declaredBytes;
  if (declared !== undefined && (declared < rule.trickleMinBytes || declared <= rule.trickleHoldBytes)) return HOLD;
  // Without a length, only chunked framing lets the client tell a cut from the end (RFC 9112 §7.1).
  if (declared === undefined && facts.httpVersion === '1.0') return HOLD;
  return {
    mode: 'trickle',
    trickle: {
      holdBytes: rule.trickleHoldBytes,
      bytesPerSecond: rule.trickleBytesPerSecond,
      minBytes: Math.max(rule.trickleMinBytes, rule.trickleHoldBytes + 1),
      status: facts.status,
      reason: facts.reason,
      headers: facts.headers,
    },
  };
}

/** A browser's top-level navigation (Fetch: Sec-Fetch-Mode), or an Accept that puts HTML first. */
export function isNavigation(headers: IncomingHttpHeaders): boolean {
  const mode = headers['sec-fetch-mode'];
  if (mode !== undefined) return mode === 'navigate';
  const accept = headers.accept;
  return accept !== undefined && /^\s*text\/html\b/i.test(accept);
}

/** The per-rule settings and the patience store of one proxy; built once at start. */
export class Delivery {
  readonly store: PatienceStore;
  /** in a cluster worker with a patience rule: the way to the other workers' patience files */
  readonly relay: PatienceRelay | undefined;
  readonly #rules = new Map<string, RuleDelivery>();

  /** `worker`: this cluster worker's id and the cluster's relay secret (patience-relay.ts). */
  constructor(rules: readonly PolicyRule[], scan: Pick<Config['scan'], 'patience'>, worker?: { id: number; relaySecret: string }) {
    for (const rule of rules) if (rule.delivery.mode !== 'hold') this.#rules.set(rule.name, rule.delivery);
    this.store = new PatienceStore({ maxHeldBytes: scan.patience.maxHeldBytes, ttlMs: scan.patience.ttlMs, holder: worker?.id });
    const patient = [...this.#rules.values()].some((d) => d.mode === 'patience');
    this.relay = worker && patient ? new PatienceRelay(this.store, worker.relaySecret) : undefined;
  }

  /** The rule's delivery settings; undefined for hold. */
  forRule = (rule: string): RuleDelivery | undefined => this.#rules.get(rule);

  /** Every held file is deleted (their temp files are closed); the relay stops answering. */
  async close(): Promise<void> {
    await this.relay?.close();
    await this.store.close();
  }
}
