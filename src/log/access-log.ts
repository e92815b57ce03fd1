// Subscribers that turn lifecycle events into log lines: one access line per exchange, one line
// per failed hop (warn for origin and ICAP trouble, debug for clients that go away), one line per
// CONNECT refusal. Paths never carry their query; no header or body is ever logged.
import type { Logger } from 'pino';
import { events } from '../core/events.js';

export function subscribeAccessLog(logger: Logger): () => void {
  const access = logger.child({ log: 'access' });
  const errors = logger.child({ log: 'error' });
  const unsubscribe = [
    events.exchangeEnd.subscribe(({ exchange, durationMs }) => {
      // decisions[0] is the request side, decisions[1] the response side (when it was reached)
      const decision = exchange.decisions.map((d, i) => `${i === 0 ? 'upload' : 'download'}=${d.action === 'scan' ? `scan:${d.service}` : d.action}`).join(' ') || 'none';
      access.info(
        {
          id: exchange.id,
          client: exchange.client.ip,
          user: exchange.client.user,
          method: exchange.method,
          scheme: exchange.scheme,
          host: exchange.host,
          port: exchange.port,
          path: exchange.path,
          status: exchange.status,
          bytesIn: exchange.requestBytes,
          bytesOut: exchange.responseBytes,
          durationMs: Math.round(durationMs * 10) / 10,
          decision,
          verdict: exchange.verdicts.map((v) => `${v.action}/${v.source}`).join(',') || undefined,
          error: exchange.error?.code,
        },
        'exchange',
      );
    }),
    events.error.subscribe(({ exchange, error }) => {
      const level = error.hop === 'client' ? 'debug' : 'warn';
      errors[level]({ id: exchange?.id, host: exchange?.host, code: error.code, hop: error.hop, err: error.message }, 'hop failed');
    }),
    events.connect.subscribe((event) => {
      if (event.outcome === 'refused') access.info({ client: event.client.ip, user: event.client.user, method: 'CONNECT', host: event.host, status: event.status }, 'connect refused');
    }),
  ];
  return () => unsubscribe.forEach((fn) => fn());
}
