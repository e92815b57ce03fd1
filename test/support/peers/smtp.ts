// A real SMTP server on loopback for the e-mail alert tests: Debian's python3-aiosmtpd running
// smtp-sink.py (beside this file), which reports what it saw as JSON lines: the STARTTLS
// handshake, AUTH, refusals and each message with its envelope and text.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureBinary, startDaemon } from './common.js';

export interface SmtpMessage {
  mailFrom: string;
  rcptTos: string[];
  /** the whole message as received (RFC 5322 headers and body) */
  data: string;
  /** its headers by lower-case name, decoded (RFC 2047) by Python's email package */
  headers: Record<string, string>;
  /** its text/plain body, decoded (quoted-printable, charset) */
  text: string;
  /** the session was under TLS when DATA arrived */
  tls: boolean;
  /** ...and it got there by STARTTLS (RFC 3207) */
  starttls: boolean;
  login: string | null;
}

export type SmtpEvent =
  | { event: 'listening'; port: number }
  | { event: 'starttls' }
  | { event: 'auth'; mechanism: string; login: string | null; ok: boolean }
  | { event: 'refused'; code: number }
  | ({ event: 'message' } & SmtpMessage);

export interface SmtpSinkOptions {
  tls?: 'none' | 'starttls' | 'implicit';
  /** PEM files of the server certificate (tls other than none) */
  cert?: string;
  key?: string;
  /** AUTH required, with this login and password */
  user?: string;
  password?: string;
  /** answer the first N messages 451 (a temporary failure) */
  tempFail?: number;
  /** answer every message 550 (a permanent refusal) */
  reject?: boolean;
}

export interface SmtpSink {
  port: number;
  events: SmtpEvent[];
  /** the messages reported so far: the report (stdout) may arrive after the 250 did, so poll */
  messages(): SmtpMessage[];
  output(): string;
  stop(): Promise<void>;
}

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'smtp-sink.py');

export async function startSmtpSink(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
  // the package's CLI stands for its Python module; the sink runs on Debian's python3, which has it
  ensureBinary('aiosmtpd', ['python3-aiosmtpd']);
  const python = ensureBinary('python3', ['python3']);
  const args = [SCRIPT, '--tls', options.tls ?? 'none'];
  if (options.cert) args.push('--cert', options.cert);
  if (options.key) args.push('--key', options.key);
  if (options.user) args.push('--user', options.user, '--password', options.password ?? '');
  if (options.tempFail) args.push('--temp-fail', String(options.tempFail));
  if (options.reject) args.push('--reject');
  const daemon = startDaemon('smtp-sink', python, args, { env: { PYTHONUNBUFFERED: '1' } });
  const events: SmtpEvent[] = [];
  let partial = '';
  const listening = new Promise<number>((resolve, reject) => {
    daemon.child.stdout!.on('data', (chunk: Buffer) => {
      partial += chunk.toString('utf8');
      const lines = partial.split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        if (!line.startsWith('{')) continue;
        const event = JSON.parse(line) as SmtpEvent;
        events.push(event);
        if (event.event === 'listening') resolve(event.port);
      }
    });
    daemon.child.once('exit', (code) => reject(new Error(`smtp-sink exited (${code}) before listening:\n${daemon.output()}`)));
  });
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`smtp-sink did not listen within 10 s:\n${daemon.output()}`)), 10_000).unref());
  let port: number;
  try {
    port = await Promise.race([listening, timeout]);
  } catch (err) {
    await daemon.stop();
    throw err;
  }
  return {
    port,
    events,
    messages: () => events.flatMap((e) => (e.event === 'message' ? [e] : [])),
    output: daemon.output,
    stop: () => daemon.stop(),
  };
}
