// Subscribers that turn lifecycle events into log lines: one access line per exchange, one line
// per failed hop (levels in hop-error-level.ts), one line per CONNECT refusal. Paths never carry
// their query; no header or body is ever logged.
import pino, { type Logger } from 'pino';
import type { Exchange } from '../core/exchange.js';
import { events } from '../core/events.js';
import { hopErrorLevel, untrustedCaAlert } from './hop-error-level.js';

export interface AccessLogOptions {
  /** the CA certificate clients must trust, named in the hint when one refuses ours; default ca/ca.pem */
  caCertFile?: string;
}

export function subscribeAccessLog(logger: Logger, options: AccessLogOptions = {}): () => void {
  const caCertFile = options.caCertFile ?? 'ca/ca.pem';
  const access = logger.child({ log: 'access' });
  // The access line, one per exchange, is serialised here once, as pino would write it (its level,
  // time and bindings, then the fields) but without its generic walk over an object built for it.
  const stream = (access as unknown as Record<symbol, { write(line: string): unknown }>)[pino.symbols.streamSym]!;
  const time = (access as unknown as Record<symbol, () => string>)[pino.symbols.timeSym]!;
  const bindings = (access as unknown as Record<symbol, string>)[pino.symbols.chindingsSym]!;
  // the timestamp (pino's isoTime, to the millisecond) is formatted once per millisecond, not per line
  let stampMs = -1;
  let stamp = '';
  const writeLine = (fields: string) => {
    const ms = Date.now();
    if (ms !== stampMs) {
      stampMs = ms;
      stamp = time();
    }
    return stream.write(`{"level":30${stamp}${bindings}${fields},"msg":"exchange"}\n`);
  };
  const errors = logger.child({ log: 'error' });
  const unsubscribe = [
    events.exchangeEnd.subscribe(({ exchange, durationMs }) => {
      if (access.isLevelEnabled('info')) writeLine(accessLine(exchange, durationMs));
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

/**
 * The fields of an exchange's access line, as JSON members after a comma. Strings from traffic
 * (host, path, user) go through JSON.stringify; absent fields are left out, as pino leaves out
 * undefined. decisions[0] is the request side, decisions[1] the response side (when it was
 * reached); a CONNECT has one, whose pass means "intercepted, each request decided".
 */
export function accessLine(exchange: Exchange, durationMs: number): string {
  const decision =
    exchange.method === 'CONNECT'
      ? exchange.decisions.map((d) => `connect=${d.action === 'pass' ? 'intercept' : d.action}`).join(' ')
      : exchange.decisions.map((d, i) => `${i === 0 ? 'upload' : 'download'}=${d.action === 'scan' ? `scan:${d.service}` : d.action}`).join(' ') || 'none';
  const q = JSON.stringify;
  // id (our base32), client (a socket address) and method (one of the tokens Node's parser takes)
  // hold nothing JSON escapes; host, path, user and names from the config go through stringify.
  let line = `,"id":"${exchange.id}","client":"${exchange.client.ip}"`;
  if (exchange.client.user !== undefined) line += `,"user":${q(exchange.client.user)}`;
  line += `,"method":"${exchange.method}","scheme":"${exchange.scheme}","host":${q(exchange.host)},"port":${exchange.port},"path":${q(exchange.path)}`;
  if (exchange.status !== undefined) line += `,"status":${exchange.status}`;
  line += `,"bytesIn":${exchange.requestBytes},"bytesOut":${exchange.responseBytes},"durationMs":${Math.round(durationMs * 10) / 10},"decision":${q(decision)}`;
  if (exchange.verdicts.length > 0) line += `,"verdict":${q(exchange.verdicts.map((v) => `${v.action}/${v.source}`).join(','))}`;
  if (exchange.delivery !== undefined) line += `,"delivery":"${exchange.delivery}"`;
  if (exchange.error !== undefined) line += `,"error":${q(exchange.error.code)}`;
  return line;
}
