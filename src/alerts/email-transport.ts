// The SMTP hop of the e-mail alerts, through nodemailer (docs/decisions.md says why): one SMTP
// session per mail (no pool: nodemailer's pool requeues failed messages by itself, which would
// hide attempts from our own retry count), with STARTTLS required (RFC 3207), implicit TLS
// (RFC 8314 §3.3, port 465) or, for a relay on the same host, none; AUTH when a user is given;
// the server certificate checked against the system roots plus an optional CA. Every wait of the
// session is bounded by timeoutMs, and the caller's AbortSignal cuts it at once. nodemailer is
// loaded when a transport is made: a proxy without e-mail alerts never holds its 7 MiB.

export interface OutgoingMail {
  to: readonly string[];
  subject: string;
  text: string;
  /** extra headers (X-DLP-Incident) */
  headers?: Record<string, string>;
}

/** What the sender needs of a mail hop (a fake in unit tests, SMTP in the app). */
export interface MailTransport {
  /** Resolves when the server took the mail; rejects with a MailError otherwise. */
  send(mail: OutgoingMail, signal: AbortSignal): Promise<void>;
  close(): void;
}

/** A failed attempt: whether another attempt may succeed, and what to tell the operator. */
export class MailError extends Error {
  constructor(
    message: string,
    readonly retry: boolean,
    /** SMTP reply code (RFC 5321 §4.2), 0 when the server never answered */
    readonly responseCode: number,
    /** nodemailer's code (ECONNECTION, ETIMEDOUT, EAUTH, ETLS, EENVELOPE, ...) or EABORT */
    readonly errorCode: string,
  ) {
    super(message);
    this.name = 'MailError';
  }
}

export interface SmtpTransportOptions {
  host: string;
  port: number;
  tls: 'starttls' | 'implicit' | 'none';
  /** TLS server name to verify (and send as SNI), when it differs from host */
  servername?: string | undefined;
  user?: string | undefined;
  pass?: string | undefined;
  /** PEM text trusted besides the system roots */
  ca?: string | undefined;
  from: string;
  timeoutMs: number;
}

export async function createSmtpTransport(options: SmtpTransportOptions): Promise<MailTransport> {
  const { default: nodemailer } = await import('nodemailer');
  const transporter = nodemailer.createTransport({
    host: options.host,
    port: options.port,
    secure: options.tls === 'implicit',
    requireTLS: options.tls === 'starttls',
    ignoreTLS: options.tls === 'none',
    ...(options.user !== undefined ? { auth: { user: options.user, pass: options.pass ?? '' } } : {}),
    tls: { minVersion: 'TLSv1.2', ...(options.ca ? { ca: options.ca } : {}), ...(options.servername ? { servername: options.servername } : {}) },
    connectionTimeout: options.timeoutMs,
    greetingTimeout: options.timeoutMs,
    socketTimeout: options.timeoutMs,
    dnsTimeout: options.timeoutMs,
    socketCloseTimeout: 1_000,
    // a relay on loopback (a local postfix) is a normal setup, not something to skip
    allowInternalNetworkInterfaces: true,
    // the mail is our own text: nothing may pull a file or a URL into it
    disableFileAccess: true,
    disableUrlAccess: true,
    logger: false,
    debug: false,
  });
  return {
    async send(mail, signal) {
      try {
        await transporter.sendMail({
          from: options.from,
          to: [...mail.to],
          subject: mail.subject,
          text: mail.text,
          // RFC 3834 §5: an automatic message; vacation responders do not answer it
          headers: { 'Auto-Submitted': 'auto-generated', ...mail.headers },
          signal,
        });
      } catch (err) {
        throw toMailError(err);
      }
    },
    close: () => transporter.close(),
  };
}

/**
 * A 5xx reply is the server's final word (RFC 5321 §4.2.1: "permanent negative completion"), so
 * it is not retried; a 4xx, a timeout, a refused connection or a failed handshake may pass.
 * A cut attempt may already have been accepted: a retry can then deliver it twice, which an
 * alert can afford and a lost alert cannot.
 */
export function toMailError(err: unknown): MailError {
  const e = err as { message?: unknown; responseCode?: unknown; code?: unknown; name?: unknown };
  const responseCode = typeof e.responseCode === 'number' ? e.responseCode : 0;
  const errorCode = typeof e.code === 'string' ? e.code : e.name === 'AbortError' ? 'EABORT' : 'EUNKNOWN';
  const message = typeof e.message === 'string' ? e.message : String(err);
  return new MailError(message, !(responseCode >= 500 && responseCode <= 599), responseCode, errorCode);
}
