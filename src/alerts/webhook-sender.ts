// One webhook target: a bounded FIFO of alerts, POSTed one at a time in order, each attempt
// bounded by timeoutMs, failures retried with exponential backoff (errors, timeouts, 429 and 5xx;
// another 4xx is the target's final word). enqueue() is O(1) and does no I/O, so a slow or dead
// webhook never slows traffic: it only fills its queue, and what does not fit is dropped and
// counted. Outcomes are published on the 'dlp-proxy:alert' channel (metrics/ counts them).
import dc from 'node:diagnostics_channel';
import http from 'node:http';
import https from 'node:https';

export const ALERT_CHANNEL = 'dlp-proxy:alert';

export type AlertOutcome = 'sent' | 'retried' | 'failed' | 'dropped';

/** Published on ALERT_CHANNEL once per outcome. */
export interface AlertMessage {
  webhook: string;
  outcome: AlertOutcome;
  /** HTTP status of the attempt, 0 when none was read */
  status: number;
}

export interface WebhookTarget {
  name: string;
  url: string;
  headers: Record<string, string>;
  timeoutMs: number;
  queueSize: number;
  retries: number;
  retryBackoffMs: number;
  /** PEM text trusted besides the system roots (https only) */
  ca?: string;
}

export interface WebhookStats {
  name: string;
  queued: number;
  sent: number;
  failed: number;
  dropped: number;
}

const channel = dc.channel(ALERT_CHANNEL);
// A backoff never grows past this, whatever retryBackoffMs and the attempt number say.
const MAX_BACKOFF_MS = 60_000;

type Attempt = { ok: true; status: number } | { ok: false; retry: boolean; status: number };

export class WebhookSender {
  readonly name: string;
  readonly #target: WebhookTarget;
  readonly #url: URL;
  readonly #agent: http.Agent;
  readonly #queue: unknown[] = [];
  #running = false;
  #closed = false;
  #inflight: http.ClientRequest | undefined;
  #wake: (() => void) | undefined;
  readonly #counts = { sent: 0, failed: 0, dropped: 0 };

  constructor(target: WebhookTarget) {
    this.name = target.name;
    this.#target = target;
    this.#url = new URL(target.url);
    const agentOptions = { keepAlive: true, maxSockets: 1 };
    this.#agent = this.#url.protocol === 'https:' ? new https.Agent({ ...agentOptions, ...(target.ca ? { ca: target.ca } : {}) }) : new http.Agent(agentOptions);
  }

  /** Queue one alert; false (and a 'dropped' count) when the queue is full or closed. */
  enqueue(payload: unknown): boolean {
    if (this.#closed || this.#queue.length >= this.#target.queueSize) {
      this.#publish('dropped', 0);
      return false;
    }
    this.#queue.push(payload);
    // Serialising and sending happen on a later turn, never inside the publisher's call.
    if (!this.#running) {
      this.#running = true;
      setImmediate(() => void this.#drain());
    }
    return true;
  }

  stats(): WebhookStats {
    return { name: this.name, queued: this.#queue.length, ...this.#counts };
  }

  /** Stop at once: the attempt in flight is cut, alerts still queued are dropped and counted. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#inflight?.destroy();
    this.#wake?.();
    for (let i = this.#queue.length; i > 0; i--) this.#publish('dropped', 0);
    this.#queue.length = 0;
    this.#agent.destroy();
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0 && !this.#closed) {
      const body = Buffer.from(JSON.stringify(this.#queue[0]), 'utf8');
      for (let attempt = 0; !this.#closed; attempt++) {
        const result = await this.#post(body);
        if (this.#closed) break;
        if (result.ok) {
          this.#publish('sent', result.status);
          break;
        }
        if (!result.retry || attempt >= this.#target.retries) {
          this.#publish('failed', result.status);
          break;
        }
        this.#publish('retried', result.status);
        await this.#sleep(backoffMs(this.#target.retryBackoffMs, attempt));
      }
      if (!this.#closed) this.#queue.shift();
    }
    this.#running = false;
  }

  #post(body: Buffer): Promise<Attempt> {
    return new Promise((resolve) => {
      let settled = false;
      const done = (result: Attempt) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.#inflight = undefined;
        resolve(result);
      };
      const client = this.#url.protocol === 'https:' ? https : http;
      const req = client.request(this.#url, {
        method: 'POST',
        agent: this.#agent,
        headers: { ...this.#target.headers, 'content-type': 'application/json', 'content-length': String(body.length), 'user-agent': 'dlp-proxy-alerts' },
      });
      this.#inflight = req;
      // One deadline for the whole attempt (connect, send, answer head), as undici's headersTimeout.
      const timer = setTimeout(() => {
        req.destroy();
        done({ ok: false, retry: true, status: 0 });
      }, this.#target.timeoutMs);
      req.on('response', (res) => {
        res.resume();
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) done({ ok: true, status });
        else done({ ok: false, retry: status === 429 || status >= 500 || status === 408, status });
      });
      req.on('error', () => done({ ok: false, retry: true, status: 0 }));
      req.on('close', () => done({ ok: false, retry: true, status: 0 }));
      req.end(body);
    });
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

  #publish(outcome: AlertOutcome, status: number): void {
    if (outcome === 'sent' || outcome === 'failed' || outcome === 'dropped') this.#counts[outcome]++;
    if (channel.hasSubscribers) channel.publish({ webhook: this.name, outcome, status } satisfies AlertMessage);
  }
}

/** Exponential backoff with "equal jitter" (AWS architecture blog): uniform in [c/2, c], c = min(cap, base·2^n). */
export function backoffMs(baseMs: number, attempt: number, random = Math.random): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, baseMs * 2 ** attempt);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
