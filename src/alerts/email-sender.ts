// The e-mail queue: alert mails sent one at a time, in order, each attempt bounded by timeoutMs,
// failures retried with exponential backoff (a 4xx, a timeout, a refused connection; a 5xx is the
// server's final word). enqueue() is O(1) and does no I/O, and a mail's text is composed only when
// its turn comes, so a slow or dead SMTP server never slows traffic: it only fills the queue,
// whose bound the caller keeps (email-alerts.ts counts the incidents held). Outcomes are published
// on the 'dlp-proxy:alert:email' channel (metrics/ counts them).
import dc from 'node:diagnostics_channel';
import { backoffMs } from './webhook-sender.js';
import { MailError, toMailError, type MailTransport, type OutgoingMail } from './email-transport.js';

export const EMAIL_ALERT_CHANNEL = 'dlp-proxy:alert:email';

/** sent, retried and failed count mails; dropped counts the incidents that no mail will carry. */
export type EmailOutcome = 'sent' | 'retried' | 'failed' | 'dropped';

/** Published on EMAIL_ALERT_CHANNEL once per outcome. */
export interface EmailAlertMessage {
  route: string;
  outcome: EmailOutcome;
  /** the incidents the mail lists (1 in immediate mode), or the incidents dropped */
  incidents: number;
}

/** One mail waiting for its turn: its text is made when it is sent. */
export interface QueuedMail {
  route: string;
  incidents: number;
  compose(): OutgoingMail;
}

/** A failed attempt, for the operator's log; `final` when the mail is given up. */
export interface EmailFailure {
  route: string;
  attempt: number;
  final: boolean;
  error: MailError;
}

export interface EmailSenderOptions {
  transport: MailTransport;
  retries: number;
  retryBackoffMs: number;
  timeoutMs: number;
  /** called once a mail leaves the queue, whatever its outcome */
  settled(mail: QueuedMail): void;
  onFailure?: ((failure: EmailFailure) => void) | undefined;
}

const channel = dc.channel(EMAIL_ALERT_CHANNEL);

export function publishEmailOutcome(message: EmailAlertMessage): void {
  if (channel.hasSubscribers) channel.publish(message);
}

export class EmailSender {
  readonly #options: EmailSenderOptions;
  readonly #queue: QueuedMail[] = [];
  readonly #counts = { sent: 0, failed: 0 };
  #running = false;
  /** no new mail is taken (close() began) */
  #closing = false;
  /** the grace is over: the attempt in flight is cut, what is queued is dropped */
  #closed = false;
  #abort: AbortController | undefined;
  #wake: (() => void) | undefined;
  #idle: Array<() => void> = [];

  constructor(options: EmailSenderOptions) {
    this.#options = options;
  }

  get queued(): number {
    return this.#queue.length;
  }

  counts(): { sent: number; failed: number } {
    return { ...this.#counts };
  }

  /** Queue one mail; once closing, it is dropped and counted instead (false). */
  enqueue(mail: QueuedMail): boolean {
    if (this.#closing) {
      this.#drop(mail);
      return false;
    }
    this.#queue.push(mail);
    if (!this.#running) {
      this.#running = true;
      setImmediate(() => void this.#drain());
    }
    return true;
  }

  /**
   * Take no more mail, give what is queued up to `graceMs` to go out (retries included), then cut
   * the attempt in flight and drop (and count) the rest.
   */
  async close(graceMs: number): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    if (this.#running) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([new Promise<void>((resolve) => this.#idle.push(resolve)), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
      clearTimeout(timer);
    }
    this.#closed = true;
    this.#abort?.abort();
    this.#wake?.();
    for (const mail of this.#queue.splice(0)) this.#drop(mail);
    this.#options.transport.close();
  }

  async #drain(): Promise<void> {
    const { retries, retryBackoffMs } = this.#options;
    while (this.#queue.length > 0 && !this.#closed) {
      const mail = this.#queue[0]!;
      let outgoing: OutgoingMail | undefined;
      try {
        outgoing = mail.compose();
      } catch (err) {
        // a defect of ours: this mail is given up (counted as failed), the queue goes on
        this.#options.onFailure?.({ route: mail.route, attempt: 0, final: true, error: new MailError(String(err), false, 0, 'ECOMPOSE') });
        this.#counts.failed++;
        publishEmailOutcome({ route: mail.route, outcome: 'failed', incidents: mail.incidents });
      }
      for (let attempt = 0; outgoing && !this.#closed; attempt++) {
        const error = await this.#attempt(outgoing);
        if (this.#closed) break;
        if (!error) {
          this.#counts.sent++;
          publishEmailOutcome({ route: mail.route, outcome: 'sent', incidents: mail.incidents });
          break;
        }
        const final = !error.retry || attempt >= retries;
        this.#options.onFailure?.({ route: mail.route, attempt, final, error });
        if (final) {
          this.#counts.failed++;
          publishEmailOutcome({ route: mail.route, outcome: 'failed', incidents: mail.incidents });
          break;
        }
        publishEmailOutcome({ route: mail.route, outcome: 'retried', incidents: mail.incidents });
        await this.#sleep(backoffMs(retryBackoffMs, attempt));
      }
      // a mail cut by close() stays queued: close() drops and counts it
      if (this.#closed) break;
      this.#queue.shift();
      this.#options.settled(mail);
    }
    this.#running = false;
    for (const resolve of this.#idle.splice(0)) resolve();
  }

  /** One SMTP session for the mail, cut at timeoutMs; the error, or undefined when it was taken. */
  async #attempt(mail: OutgoingMail): Promise<MailError | undefined> {
    const abort = new AbortController();
    this.#abort = abort;
    const timer = setTimeout(() => abort.abort(), this.#options.timeoutMs);
    try {
      await this.#options.transport.send(mail, abort.signal);
      return undefined;
    } catch (err) {
      return err instanceof MailError ? err : toMailError(err);
    } finally {
      clearTimeout(timer);
      this.#abort = undefined;
    }
  }

  #drop(mail: QueuedMail): void {
    publishEmailOutcome({ route: mail.route, outcome: 'dropped', incidents: mail.incidents });
    this.#options.settled(mail);
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = undefined;
        resolve();
      }, ms);
      this.#wake = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
    });
  }
}
