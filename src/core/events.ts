// Lifecycle events on node:diagnostics_channel (mitmproxy's hooks, one type per moment). The
// proxy front and the pipeline publish; log/ and metrics/ subscribe. Publishing with no
// subscriber costs one `hasSubscribers` check. Kept in core/ because the front, the pipeline,
// the log and the metrics all name them.
import dc from 'node:diagnostics_channel';
import type { Exchange } from './exchange.js';
import type { ProxyError } from './errors.js';
import type { Decision, Direction, Verdict } from './types.js';

/** Fires when a request head was accepted and the exchange begins; nothing was sent yet. */
export interface ExchangeStartEvent {
  exchange: Exchange;
}
/** Fires after the policy decided for one direction; the decision can no longer change. */
export interface DecisionEvent {
  exchange: Exchange;
  direction: Direction;
  decision: Decision;
}
/** Fires when a body has a verdict (from cache, ICAP or a fail mode), before it is enforced. */
export interface VerdictEvent {
  exchange: Exchange;
  direction: Direction;
  service: string;
  verdict: Verdict;
  istag: string | undefined;
  sha256: string | undefined;
  sizeBytes: number;
  /** the verdict is a violation the policy only monitors */
  monitored: boolean;
  /** the policy rule that asked for the scan */
  rule: string;
}
/** Fires once when the exchange is over (completed, refused or failed). */
export interface ExchangeEndEvent {
  exchange: Exchange;
  durationMs: number;
}
/** Fires when a hop failed; `exchange` is absent for failures outside one (a CONNECT). */
export interface ErrorEvent {
  exchange?: Exchange;
  error: ProxyError;
}
/** Fires when a CONNECT was answered: tunnelled untouched, intercepted, or refused. */
export interface ConnectEvent {
  client: { ip: string; port: number; user?: string | undefined };
  host: string;
  port: number;
  outcome: 'tunnel' | 'intercept' | 'refused';
  status?: number;
}
/** Fires when a tunnel (or an intercepted TLS connection) closes. */
export interface TunnelEndEvent {
  host: string;
  mode: 'tunnel' | 'intercept';
  bytesUp: number;
  bytesDown: number;
  durationMs: number;
}

function typed<T>(name: string) {
  const channel = dc.channel(name);
  return {
    channel,
    name,
    publish(message: T): void {
      if (channel.hasSubscribers) channel.publish(message);
    },
    subscribe(fn: (message: T) => void): () => void {
      const handler = (message: unknown) => fn(message as T);
      channel.subscribe(handler);
      return () => channel.unsubscribe(handler);
    },
  };
}

export const events = {
  exchangeStart: typed<ExchangeStartEvent>('dlp-proxy:exchange:start'),
  decision: typed<DecisionEvent>('dlp-proxy:exchange:decision'),
  verdict: typed<VerdictEvent>('dlp-proxy:exchange:verdict'),
  exchangeEnd: typed<ExchangeEndEvent>('dlp-proxy:exchange:end'),
  error: typed<ErrorEvent>('dlp-proxy:error'),
  connect: typed<ConnectEvent>('dlp-proxy:connect'),
  tunnelEnd: typed<TunnelEndEvent>('dlp-proxy:tunnel:end'),
};
