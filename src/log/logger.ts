// The pino root logger: JSON lines for machines, readable lines when stdout is a TTY. Never a
// body, never a secret: no subscriber logs a header, a query string or a body (tests assert it),
// so there is no redact list (its wildcard paths cost 6 % of passthrough throughput, measured).
import pino, { type Logger } from 'pino';

export interface LogOptions {
  level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  format: 'auto' | 'json' | 'pretty';
}

export function createLogger(options: LogOptions, destination: NodeJS.WritableStream = process.stdout): Logger {
  const pretty = options.format === 'pretty' || (options.format === 'auto' && destination === process.stdout && process.stdout.isTTY === true);
  const base = { level: options.level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime };
  if (pretty) {
    return pino({ ...base, transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', singleLine: true } } });
  }
  const sink = destination === process.stdout ? logDestination(1) : (destination as pino.DestinationStream);
  return pino(base, sink);
}

/** Lines wait for this many bytes to be written together, */
const MIN_WRITE_BYTES = 4096;
/** or at most this long. */
const FLUSH_MS = 100;

/**
 * Where the log goes (stdout, or a file): sonic-boom, asynchronously, so that a log line never
 * blocks an exchange on a slow pipe, and in writes of at least MIN_WRITE_BYTES, at most FLUSH_MS
 * late. A write per access line (a string copied and handed to a thread of the pool, which wakes
 * to write it) was a large share of the pass path's CPU (docs/decisions.md, session 13). What
 * waits is written on exit (pino's flushSync), and an idle process makes no write
 * (patches/sonic-boom+4.2.1.patch).
 */
export function logDestination(dest: number | string): pino.DestinationStream {
  return pino.destination({ dest, sync: false, minLength: MIN_WRITE_BYTES, periodicFlush: FLUSH_MS });
}
