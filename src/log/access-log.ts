// Subscribers that turn lifecycle events into log lines: one access line per exchange, one line
// per failed hop (levels in hop-error-level.ts), one line per CONNECT refusal. Paths never carry
// their query; no header or body is ever logged.
import type { Logger } from 'pino';
import { events } from '../core/events.js';
import { hopErrorLevel, untrustedCaAlert } from './hop-error-level.js';

export interface AccessLogOptions {
  /** the CA certificate clients must trust, named in the hint when one refuses ours; default ca/ca.pem */
  caCertFile?: string;
}

export function subscribeAccessLog(logger: Logger, options: AccessLogOptions = {}): () => void {
  const caCertFile = options.caCertFile ?? 'ca/ca.pem';
  const access = logger.child({ log: 'access' });
  const errors = logger.child({ log: 'error' });
  const unsubscribe = [
    events.exchangeEnd.subscribe(({ exchange, durationMs }) => {
      // decisions[0] is the request side, decisions[1] the response side (when it was reached); a
      // CONNECT has one, whose pass means "intercepted, each request decided"
      const decision =
        exchange.method === 'CONNECT'
          ? exchange.decisions.map((d) => `connect=${d.action === 'pass' ? 'intercept' : d.action}`).join(' ')
          : exchange.decisions.map((d, i) => `${i === 0 ? 'upload' : 'download'}=${d.action === 'scan' ? `scan:${d.service}` : d.action}`).join(' ') || 'none';
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
          delivery: exchange.delivery,
          error: exchange.error?.code,
        },
        'exchange',
      );
    }),
    events.error.subscribe(({ exchange, error }) => {
      const fields = { id: exchange?.id, host: exchange?.host ?? error.details?.['host'], code: error.code, hop: error.hop };
      const level = hopErrorLevel(error);
      if (level === 'error') {
        // pino's err serializer: type, message and the stack of the error and of its cause chain
        errors.error({ ...fields, err: error }, 'internal error: a defect of the proxy (failed closed)');
        return;
      }
      const alert = untrustedCaAlert(error);
      if (alert !== undefined) {
        errors.info(
          { ...fields, alert, err: error.message },
          `client rejected the proxy certificate (TLS alert ${alert}): it does not trust the proxy CA; install ${caCertFile} on the client (also served at /ca.pem on the admin listener)`,
        );
        return;
      }
      errors[level]({ ...fields, err: error.message }, 'hop failed');
    }),
    events.connect.subscribe((event) => {
      if (event.outcome === 'refused') access.info({ client: event.client.ip, user: event.client.user, method: 'CONNECT', host: event.host, status: event.status }, 'connect refused');
    }),
  ];
  return () => unsubscribe.forEach((fn) => fn());
}
