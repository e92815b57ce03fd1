// The pino root logger: JSON lines for machines, readable lines when stdout is a TTY. Never a
// body, never a secret: the redact list is a second line of defence behind "never log headers".
import pino, { type Logger } from 'pino';

export interface LogOptions {
  level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  format: 'auto' | 'json' | 'pretty';
}

const REDACT = [
  '*.authorization',
  '*.proxy-authorization',
  '*.cookie',
  '*.set-cookie',
  '*.headers.authorization',
  '*.headers["proxy-authorization"]',
  '*.headers.cookie',
  '*.headers["set-cookie"]',
];

export function createLogger(options: LogOptions, destination: NodeJS.WritableStream = process.stdout): Logger {
  const pretty = options.format === 'pretty' || (options.format === 'auto' && destination === process.stdout && process.stdout.isTTY === true);
  const base = { level: options.level, base: { pid: process.pid }, redact: { paths: REDACT, censor: '[redacted]' }, timestamp: pino.stdTimeFunctions.isoTime };
  if (pretty) {
    return pino({ ...base, transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', singleLine: true } } });
  }
  return pino(base, destination as pino.DestinationStream);
}
