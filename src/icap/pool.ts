// Connections to one ICAP server (undici's pool.js shape): at most min(configured, this worker's
// share of the server's Max-Connections) open at once, idle ones reused last-in first-out and
// closed after an idle timeout, callers beyond the limit queued with a deadline (ICAP_QUEUE_TIMEOUT).
// One timer per pool closes idle connections: the oldest is first in the idle list (reuse takes
// the newest), so the timer is set for it alone, not one timer per release.
import { ProxyError } from '../core/errors.js';
import { connectIcap, type IcapConnection, type TlsMaterial } from './connection.js';
import type { IcapTarget } from './icap-url.js';

export interface PoolOptions {
  maxConnections: number;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  queueTimeoutMs: number;
  /** worker processes that each hold a pool to this server and share its Max-Connections */
  workerCount?: number;
  /** loaded once per service (no file reads per connection) */
  tls?: () => Promise<TlsMaterial | undefined>;
}

export interface PoolStats {
  server: string;
  connected: number;
  idle: number;
  busy: number;
  queued: number;
}

interface Waiter {
  resolve(conn: IcapConnection): void;
  reject(err: ProxyError): void;
  timer: NodeJS.Timeout;
  onAbort?: () => void;
  signal?: AbortSignal | undefined;
}

export class IcapPool {
  readonly target: IcapTarget;
  private readonly options: PoolOptions;
  private serverMax: number | undefined;
  /** oldest first; `since`: when it went idle (performance.now()) */
  private readonly idle: Array<{ conn: IcapConnection; since: number }> = [];
  private sweeper: NodeJS.Timeout | null = null;
  private readonly busy = new Set<IcapConnection>();
  private connecting = 0;
  private readonly queue: Waiter[] = [];
  private closed = false;

  constructor(target: IcapTarget, options: PoolOptions) {
    this.target = target;
    this.options = options;
  }

  /** The server's Max-Connections from OPTIONS (RFC 3507 §4.10.2); undefined lifts the cap. */
  setServerMax(max: number | undefined): void {
    this.serverMax = max;
  }

  get limit(): number {
    // RFC 3507 §4.10.2: Max-Connections is the server's total, so each of N workers takes a floor
    // share. With more workers than connections each keeps one (the server then refuses or queues).
    const share = this.serverMax === undefined ? Number.POSITIVE_INFINITY : Math.floor(this.serverMax / Math.max(1, this.options.workerCount ?? 1));
    return Math.max(1, Math.min(this.options.maxConnections, share));
  }

  /** Every allowed connection is taken: a new caller would queue. */
  get full(): boolean {
    return this.idle.length === 0 && this.busy.size + this.connecting >= this.limit;
  }

  stats(): PoolStats {
    const busy = this.busy.size + this.connecting;
    return { server: this.target.label, connected: busy + this.idle.length, idle: this.idle.length, busy, queued: this.queue.length };
  }

  /** A connection of one's own until release(); fresh connects are counted against the limit. */
  acquire(signal?: AbortSignal): Promise<IcapConnection> {
    if (this.closed) return Promise.reject(new ProxyError('ICAP_ABORTED', `ICAP pool for ${this.target.label} is closed`));
    if (signal?.aborted) return Promise.reject(aborted(this.target));
    const conn = this.takeIdle();
    if (conn) return Promise.resolve(conn);
    if (this.busy.size + this.connecting < this.limit) return this.open();
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        signal,
        timer: setTimeout(() => {
          this.dequeue(waiter);
          reject(
            new ProxyError('ICAP_QUEUE_TIMEOUT', `no ICAP connection to ${this.target.label} free within ${this.options.queueTimeoutMs} ms (${this.limit} in use)`, {
              details: { server: this.target.label, limit: this.limit, queueTimeoutMs: this.options.queueTimeoutMs },
            }),
          );
        }, this.options.queueTimeoutMs),
      };
      if (signal) {
        waiter.onAbort = () => {
          this.dequeue(waiter);
          reject(aborted(this.target));
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.queue.push(waiter);
    });
  }

  /** Give a connection back: kept when clean (`reuse` and reusable), otherwise closed. */
  release(conn: IcapConnection, reuse: boolean): void {
    if (!this.busy.delete(conn)) return;
    conn.detach();
    conn.transactions++;
    if (!reuse || !conn.reusable || this.closed) conn.destroy();
    else if (!this.handOver(conn)) {
      this.idle.push({ conn, since: performance.now() });
      if (this.sweeper === null) this.sweepAfter(this.options.idleTimeoutMs);
    }
    this.serveQueue();
  }

  private sweepAfter(ms: number): void {
    this.sweeper = setTimeout(() => this.sweep(), ms);
    this.sweeper.unref();
  }

  /** Close the connections idle for idleTimeoutMs; set the timer again for the oldest left. */
  private sweep(): void {
    this.sweeper = null;
    const now = performance.now();
    // a timer may run up to a millisecond before its time by performance.now()
    while (this.idle.length > 0 && now - this.idle[0]!.since >= this.options.idleTimeoutMs - 1) this.idle.shift()!.conn.destroy();
    if (this.idle.length > 0) this.sweepAfter(Math.max(1, this.idle[0]!.since + this.options.idleTimeoutMs - now));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.queue.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new ProxyError('ICAP_ABORTED', `ICAP pool for ${this.target.label} closed`));
    }
    if (this.sweeper !== null) clearTimeout(this.sweeper);
    this.sweeper = null;
    const all = [...this.idle.splice(0).map((i) => i.conn), ...this.busy];
    await Promise.all(all.map((c) => new Promise<void>((resolve) => (c.onClose(resolve), c.destroy()))));
  }

  private takeIdle(): IcapConnection | undefined {
    while (this.idle.length > 0) {
      const { conn } = this.idle.pop()!;
      if (!conn.reusable) {
        conn.destroy();
        continue;
      }
      this.busy.add(conn);
      return conn;
    }
    return undefined;
  }

  private async open(): Promise<IcapConnection> {
    this.connecting++;
    try {
      const tls = this.target.secure ? await this.options.tls?.() : undefined;
      const conn = await connectIcap(this.target, { connectTimeoutMs: this.options.connectTimeoutMs, tls });
      conn.onClose(() => this.dropIdle(conn));
      this.busy.add(conn);
      return conn;
    } finally {
      this.connecting--;
      // A failed connect frees a slot a queued caller may use.
      queueMicrotask(() => this.serveQueue());
    }
  }

  private handOver(conn: IcapConnection): boolean {
    const waiter = this.queue.shift();
    if (!waiter) return false;
    this.settle(waiter);
    this.busy.add(conn);
    waiter.resolve(conn);
    return true;
  }

  private serveQueue(): void {
    while (this.queue.length > 0) {
      const conn = this.takeIdle();
      if (conn) {
        const waiter = this.queue.shift()!;
        this.settle(waiter);
        waiter.resolve(conn);
        continue;
      }
      if (this.busy.size + this.connecting >= this.limit) return;
      const waiter = this.queue.shift()!;
      this.settle(waiter);
      this.open().then(waiter.resolve, waiter.reject);
    }
  }

  private settle(waiter: Waiter): void {
    clearTimeout(waiter.timer);
    if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
  }

  private dequeue(waiter: Waiter): void {
    const i = this.queue.indexOf(waiter);
    if (i >= 0) this.queue.splice(i, 1);
    this.settle(waiter);
  }

  private dropIdle(conn: IcapConnection): void {
    const i = this.idle.findIndex((e) => e.conn === conn);
    if (i >= 0) this.idle.splice(i, 1);
    this.busy.delete(conn);
    this.serveQueue();
  }
}

function aborted(target: IcapTarget): ProxyError {
  return new ProxyError('ICAP_ABORTED', `ICAP transaction to ${target.label} aborted`, { details: { server: target.label } });
}
