// One server of a service: its pool, its OPTIONS (fetched on first use, refreshed at Options-TTL
// and by every probe), its last ISTag, and its health with the OPTIONS probes that drive it:
//
//   up         a probe every probeIntervalMs unless a transaction succeeded meanwhile, and one at
//              once after a failure (one in flight at most, at most one a second)
//   suspended  a probe after each jittered, doubling revival delay, until one is answered
//
// Timers start when the service is first used (monitor()), are unref'd, and stop at close().
import type { ErrorCode, ProxyError } from '../core/errors.js';
import { events } from '../core/events.js';
import { fetchOptions } from './fetch-options.js';
import type { IcapOptions } from './icap-options.js';
import { parseIcapUrl } from './icap-url.js';
import { peerFailure } from './peer-failure.js';
import { IcapPool, type PoolOptions } from './pool.js';
import { ServerHealth, type HealthPolicy, type ServerState, type StateChange } from './server-health.js';

// Failures that say the server itself is unreachable or stuck; they count toward suspension. A
// 503 (overloaded), a 500 or a malformed answer about one body only lower the balancer's score.
const HEALTH_FAILURES: ReadonlySet<ErrorCode> = new Set([
  'ICAP_CONNECT_FAILED',
  'ICAP_CONNECT_TIMEOUT',
  'ICAP_TLS_FAILED',
  'ICAP_TLS_CLIENT_CERT_REJECTED',
  'ICAP_WRITE_FAILED',
  'ICAP_READ_FAILED',
  'ICAP_READ_TIMEOUT',
  'ICAP_PREVIEW_TIMEOUT',
]);

// Our own limits and defects, not the server's doing: they never count for or against it.
const LOCAL: ReadonlySet<ErrorCode> = new Set(['ICAP_ABORTED', 'ICAP_QUEUE_TIMEOUT', 'INTERNAL']);

const PROBE_GAP_MS = 1000;

export interface ServerView {
  /** host:port */
  server: string;
  url: string;
  state: ServerState;
  /** when the state began (ms since the epoch) */
  since: number;
  failures: number;
  lastError?: string;
  istag?: string;
}

export interface ServiceServerOptions {
  url: string;
  weight: number;
  pool: PoolOptions;
  readIdleTimeoutMs: number;
  health: HealthPolicy;
  onState(server: ServiceServer, change: StateChange): void;
  onIstag(server: ServiceServer): void;
}

export class ServiceServer {
  readonly url: string;
  readonly label: string;
  readonly weight: number;
  readonly pool: IcapPool;
  readonly health: ServerHealth;
  options: IcapOptions | undefined;
  /** the ISTag this server sent last (OPTIONS or an answer) */
  istag: string | undefined;
  private readonly config: ServiceServerOptions;
  private fetching: Promise<IcapOptions> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private probing = false;
  private lastProbeAt = Number.NEGATIVE_INFINITY;
  private lastSuccessAt = Number.NEGATIVE_INFINITY;
  private monitoring = false;
  private closed = false;

  constructor(config: ServiceServerOptions) {
    this.config = config;
    this.url = config.url;
    this.weight = config.weight;
    this.pool = new IcapPool(parseIcapUrl(config.url), config.pool);
    this.label = this.pool.target.label;
    this.health = new ServerHealth(config.health);
  }

  get up(): boolean {
    return this.health.state === 'up';
  }

  /** OPTIONS, cached until Options-TTL passes (RFC 3507 §4.10.2); one fetch at a time. */
  getOptions(signal?: AbortSignal): Promise<IcapOptions> {
    if (this.options && !this.options.isExpired()) return Promise.resolve(this.options);
    return this.refresh(signal, this.config.readIdleTimeoutMs).then((options) => {
      this.noteSuccess();
      return options;
    });
  }

  noteIstag(istag: string): void {
    if (istag === '' || istag === this.istag) return;
    this.istag = istag;
    this.config.onIstag(this);
  }

  noteSuccess(): void {
    this.lastSuccessAt = Date.now();
    this.report(this.health.noteSuccess(false));
  }

  /** A transaction failed here. Ignored once suspended: only probes speak for a suspended server. */
  noteFailure(error: ProxyError): void {
    if (!this.up || !HEALTH_FAILURES.has(error.code)) return;
    this.report(this.health.noteFailure(`${error.code}: ${error.message}`));
    if (this.up && this.monitoring && !this.probing && Date.now() - this.lastProbeAt >= PROBE_GAP_MS) this.runProbe();
  }

  /** Start the probe timers (idempotent); a server never asked for OPTIONS is probed at once. */
  monitor(): void {
    if (this.monitoring || this.closed) return;
    this.monitoring = true;
    if (!this.options && !this.fetching) this.runProbe();
    else this.schedule();
  }

  view(): ServerView {
    const view: ServerView = { server: this.label, url: this.url, state: this.health.state, since: this.health.since, failures: this.health.failures };
    if (this.health.lastError !== undefined) view.lastError = this.health.lastError;
    if (this.istag !== undefined) view.istag = this.istag;
    return view;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.pool.close();
  }

  private refresh(signal: AbortSignal | undefined, answerTimeoutMs: number): Promise<IcapOptions> {
    this.fetching ??= (async () => {
      try {
        const conn = await this.pool.acquire(signal);
        const options = await fetchOptions(conn, answerTimeoutMs, (reuse) => this.pool.release(conn, reuse));
        this.options = options;
        this.pool.setServerMax(options.maxConnections);
        if (options.istag) this.noteIstag(options.istag);
        return options;
      } finally {
        this.fetching = undefined;
      }
    })();
    return this.fetching;
  }

  private runProbe(): void {
    void this.probe().finally(() => this.schedule());
  }

  private async probe(): Promise<void> {
    if (this.probing || this.closed) return;
    // A full pool means transactions are running there, and they report on the server already.
    if (this.up && this.pool.full) return;
    this.probing = true;
    this.lastProbeAt = Date.now();
    const { probeTimeoutMs } = this.config.health;
    try {
      await this.refresh(AbortSignal.timeout(probeTimeoutMs), Math.min(this.config.readIdleTimeoutMs, probeTimeoutMs));
      if (!this.closed) this.report(this.health.noteSuccess(true));
    } catch (err) {
      const e = peerFailure(err, 'ICAP_PROTOCOL_ERROR', { server: this.label });
      // No transaction carries a probe's failure to the log: a defect of ours is published here.
      if (e.code === 'INTERNAL') events.error.publish({ error: e });
      // A suspended server stays so for any answer but OPTIONS 200 (a 503 too: it is no help yet).
      const counts = this.up ? HEALTH_FAILURES.has(e.code) : !LOCAL.has(e.code);
      if (!this.closed && counts) this.report(this.health.noteFailure(`${e.code}: ${e.message}`));
    } finally {
      this.probing = false;
    }
  }

  private report(change: StateChange | undefined): void {
    if (!change) return;
    this.config.onState(this, change);
    this.schedule();
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.monitoring || this.closed) return;
    const { probeIntervalMs } = this.config.health;
    if (this.up && probeIntervalMs === 0) return;
    const delay = this.up ? probeIntervalMs : this.health.revivalDelay();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      // Traffic that succeeded within the interval already proved the server up.
      if (this.up && Date.now() - this.lastSuccessAt < probeIntervalMs) this.schedule();
      else this.runProbe();
    }, delay);
    this.timer.unref();
  }
}
