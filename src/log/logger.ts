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
  // stdout through sonic-boom, asynchronously: a log line never blocks an exchange on a slow pipe
  const sink = destination === process.stdout ? pino.destination({ dest: 1, sync: false }) : (destination as pino.DestinationStream);
  return pino(base, sink);
}
