// The facade the pipeline calls: one configured ICAP service over one or more servers. It picks a
// server per transaction (balancer.ts), fails a transaction over to another server when the bytes
// sent so far can be sent again, keeps each server's OPTIONS and health (service-server.ts), caps
// each pool at the server's Max-Connections, derives the service ISTag from the servers'
// (RFC 3507 §4.7), and publishes transactions, ISTag and server-state changes (channels.ts).
import type { Readable } from 'node:stream';
import { ProxyError, type ErrorCode } from '../core/errors.js';
import type { HttpHead, IcapResult } from '../core/types.js';
import { Balancer } from './balancer.js';
import { BodySource } from './body-source.js';
import {
  istagChannel,
  serverStateChannel,
  transactionChannel,
  type IcapIstagMessage,
  type IcapServerStateMessage,
  type IcapTransactionMessage,
} from './channels.js';
import type { IcapOptions } from './icap-options.js';
import { identityHeaders } from './identity-headers.js';
import { peerFailure } from './peer-failure.js';
import type { PoolStats } from './pool.js';
import { DEFAULT_HEALTH, type HealthPolicy, type StateChange } from './server-health.js';
import { ServiceServer, type ServerView } from './service-server.js';
import { tlsLoader, type TlsFiles } from './tls-files.js';
import { runTransaction } from './transaction.js';

export interface IcapServiceOptions {
  /** service name from config (e.g. 'dlp') */
  name: string;
  /** icap:// or icaps:// URLs */
  servers: Array<{ url: string; weight: number }>;
  /** file paths, read once */
  tls?: TlsFiles;
  maxConnections: number;
  connectTimeoutMs: number;
  previewTimeoutMs: number;
  readIdleTimeoutMs: number;
  queueTimeoutMs: number;
  idleTimeoutMs: number;
  /** worker processes of this proxy, each with its own pools: they share each Max-Connections */
  workerCount?: number;
  /** probes, suspension and revival; defaults in server-health.ts */
  health?: Partial<HealthPolicy>;
  /** body bytes kept per transaction so a failure after sending them can go to another server */
  retryRetainBytes?: number;
  /** a body given whole in RAM (an array) of at most this many bytes is sent without preview; default 0 */
  skipPreviewUpToBytes?: number;
}

export interface IcapRequest {
  method: 'REQMOD' | 'RESPMOD';
  /** the HTTP request head (always sent; RESPMOD carries it as req-hdr) */
  reqHead: HttpHead;
  /** RESPMOD only */
  resHead?: HttpHead;
  /**
   * the body as it arrives (null = header-only, null-body); drained once no longer needed. Or the
   * whole body in RAM as its chunks (SpooledBody.ram), sent from them without a stream.
   */
  body: Readable | readonly Buffer[] | null;
  /** when known in advance (lets a preview end in ieof without waiting), else undefined */
  bodyBytes?: number;
  /** the caller can replay the original body: offer Allow: 204 at any size */
  allow204: boolean;
  /** override the negotiated preview size (bytes), or false for none; for probes and tests */
  preview?: number | false;
  clientIp?: string;
  serverIp?: string;
  user?: string;
  signal?: AbortSignal;
}

/**
 * `complete` is false when the server passed the body without reading all of it: Transfer-Ignore
 * (never sent), or a 204 within the preview. Such a pass is not a scan of these bytes (it may come
 * from their name or type) and must never be cached under their hash.
 */
export type IcapSendResult = IcapResult & { status: number; previewUsed: boolean; complete: boolean };

// Failures after which another server may take the transaction, if what was sent can be resent.
const FAILOVER: ReadonlySet<ErrorCode> = new Set([
  'ICAP_CONNECT_FAILED',
  'ICAP_CONNECT_TIMEOUT',
  'ICAP_TLS_FAILED',
  'ICAP_TLS_CLIENT_CERT_REJECTED',
  'ICAP_QUEUE_TIMEOUT',
  'ICAP_OVERLOADED',
  'ICAP_WRITE_FAILED',
  'ICAP_READ_FAILED',
]);

// Failures that say nothing about the server (the caller gave up; a method it never offered; a
// defect of ours, which another server would meet as well and which must fail closed here).
const NEUTRAL: ReadonlySet<ErrorCode> = new Set(['ICAP_ABORTED', 'ICAP_METHOD_NOT_SUPPORTED', 'INTERNAL']);

/** A preview is 1024 bytes with c-icap and most vendors; small bodies fit whole. */
const DEFAULT_RETAIN_BYTES = 64 * 1024;

export class IcapService {
  readonly name: string;
  private readonly config: IcapServiceOptions;
  private readonly servers: ServiceServer[];
  private readonly balancer: Balancer<ServiceServer>;
  private currentIstag: string | undefined;
  private readonly istagListeners: Array<(istag: string, previous: string | undefined) => void> = [];
  private used = false;

  constructor(options: IcapServiceOptions) {
    if (options.servers.length === 0) throw new ProxyError('CONFIG_INVALID', `ICAP service ${options.name} has no server`);
    this.name = options.name;
    this.config = options;
    const health: HealthPolicy = { ...DEFAULT_HEALTH, ...options.health };
    const loadTls = tlsLoader(options.name, options.tls);
    this.servers = options.servers.map(
      ({ url, weight }) =>
        new ServiceServer({
          url,
          weight,
          pool: {
            maxConnections: options.maxConnections,
            connectTimeoutMs: options.connectTimeoutMs,
            idleTimeoutMs: options.idleTimeoutMs,
            queueTimeoutMs: options.queueTimeoutMs,
            workerCount: options.workerCount ?? 1,
            tls: loadTls,
          },
          readIdleTimeoutMs: options.readIdleTimeoutMs,
          health,
          onState: (server, change) => this.publishState(server, change),
          onIstag: (server) => this.updateIstag(server),
        }),
    );
    this.balancer = new Balancer(this.servers.map((s) => ({ item: s, weight: s.weight })));
  }

  /**
   * The service ISTag the verdict cache keys on (RFC 3507 §4.7), as sent (quoted); undefined
   * before any server sent one. The key is computed before a server is picked, so it cannot be
   * the tag of the server that will answer. With one tag across the servers it is that tag; when
   * they differ (a rolling signature update) it is the sorted set of them, so it stays stable
   * whichever server answers, and changes as soon as any server's tag changes: a verdict is never
   * reused across a change of any server that may have given it.
   */
  get istag(): string | undefined {
    return this.currentIstag;
  }

  onIstagChange(fn: (istag: string, previous: string | undefined) => void): void {
    this.istagListeners.push(fn);
  }

  /**
   * Fetch OPTIONS again from every server that is up, whatever their Options-TTL: the owner of an
   * in-process ICAP service calls this when that service changed its ISTag (a reload of its data
   * sets), so the next verdict-cache key has the new tag at once (RFC 3507 §4.7) instead of
   * finding verdicts of the old one until the TTL runs out. A server that fails is noted as by
   * any transaction; the others still refresh.
   */
  async refreshOptions(): Promise<void> {
    await Promise.all(
      this.servers
        .filter((s) => s.up)
        .map(async (server) => {
          server.options = undefined;
          try {
            await server.getOptions();
          } catch (err) {
            const e = peerFailure(err, 'ICAP_PROTOCOL_ERROR', { server: server.label });
            if (e.code === 'INTERNAL') throw e;
            server.noteFailure(e);
          }
        }),
    );
  }

  /** OPTIONS of the first server that is up and answers (config order); cached per Options-TTL. */
  async options(): Promise<IcapOptions> {
    this.startMonitoring();
    let last: ProxyError | undefined;
    for (const server of this.servers) {
      if (!server.up) continue;
      try {
        return await server.getOptions();
      } catch (err) {
        last = peerFailure(err, 'ICAP_PROTOCOL_ERROR', { server: server.label });
        // Our own defect: no other server is asked, none is blamed.
        if (last.code === 'INTERNAL') throw last;
        server.noteFailure(last);
      }
    }
    throw this.exhausted(last, this.servers.filter((s) => s.up));
  }

  stats(): PoolStats[] {
    return this.servers.map((s) => s.pool.stats());
  }

  /** Each server's health, for /readyz and operators. */
  serverStates(): ServerView[] {
    return this.servers.map((s) => s.view());
  }

  async close(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.close()));
  }

  async send(request: IcapRequest): Promise<IcapSendResult> {
    this.startMonitoring();
    const source = request.body ? new BodySource(request.body, this.config.retryRetainBytes ?? DEFAULT_RETAIN_BYTES) : null;
    const tried = new Set<ServiceServer>();
    let staleRetried = false;
    let last: ProxyError | undefined;
    for (;;) {
      const server = this.balancer.pick(
        (s) => s.up && !tried.has(s),
        (s) => s.pool.full,
      );
      if (!server) {
        source?.drain();
        throw this.exhausted(last, [...tried]);
      }
      tried.add(server);
      const started = performance.now();
      try {
        const options = await server.getOptions(request.signal);
        if (!options.supports(request.method)) {
          throw new ProxyError('ICAP_METHOD_NOT_SUPPORTED', `ICAP service ${server.url} does not offer ${request.method} (Methods: ${options.methods.join(', ')})`, {
            details: { server: server.label, method: request.method },
          });
        }
        const result = await this.transact(server, options, request, source);
        this.balancer.report(server, true);
        server.noteSuccess();
        server.noteIstag(result.istag);
        this.publish(server, request.method, started, result.status, result.previewUsed, result.kind);
        return result;
      } catch (err) {
        const e = peerFailure(err, 'ICAP_PROTOCOL_ERROR', { server: server.label });
        last = e;
        const aborted = request.signal?.aborted === true;
        if (!aborted && !NEUTRAL.has(e.code)) {
          this.balancer.report(server, false);
          server.noteFailure(e);
        }
        this.publish(server, request.method, started, Number(e.details?.['status'] ?? 0), false, 'error', e.code);
        const retryable = !aborted && FAILOVER.has(e.code) && (source?.rewind() ?? true);
        // A kept-alive connection the server closed just as we reused it: once more, fresh.
        if (retryable && e.details?.['reused'] === true && !staleRetried && (e.code === 'ICAP_READ_FAILED' || e.code === 'ICAP_WRITE_FAILED')) {
          staleRetried = true;
          tried.delete(server);
          continue;
        }
        if (retryable) continue;
        source?.drain();
        throw e;
      }
    }
  }

  private async transact(server: ServiceServer, options: IcapOptions, request: IcapRequest, source: BodySource | null): Promise<IcapSendResult> {
    if (source && options.transferFor(request.reqHead.target) === 'ignore') {
      // Transfer-Ignore (RFC 3507 §4.10.2): the server asked not to be sent such files.
      source.drain();
      return { kind: 'unmodified', istag: options.istag ?? '', headers: new Map([['x-icap-transfer', 'ignore']]), status: 204, previewUsed: false, complete: false };
    }
    // Computed before a connection is taken: a throw here cannot strand a pooled connection.
    const headers = identityHeaders(request);
    const conn = await server.pool.acquire(request.signal);
    const onAbort = () => conn.destroy(new ProxyError('ICAP_ABORTED', `ICAP transaction to ${server.label} aborted`, { details: { server: server.label } }));
    request.signal?.addEventListener('abort', onAbort, { once: true });
    const reused = conn.transactions > 0;
    const outcome = await runTransaction(
      conn,
      options,
      {
        method: request.method,
        reqHead: request.reqHead,
        resHead: request.resHead,
        source,
        original: Array.isArray(request.body) ? request.body : undefined,
        bodyBytes: request.bodyBytes,
        allow204: request.allow204,
        preview: request.preview,
        skipPreviewUpToBytes: this.config.skipPreviewUpToBytes ?? 0,
        headers,
      },
      { previewTimeoutMs: this.config.previewTimeoutMs, readIdleTimeoutMs: this.config.readIdleTimeoutMs },
      (reuse) => {
        request.signal?.removeEventListener('abort', onAbort);
        server.pool.release(conn, reuse);
      },
    ).catch((err: unknown) => {
      const e = peerFailure(err, 'ICAP_PROTOCOL_ERROR', { server: server.label });
      throw reused ? new ProxyError(e.code, e.message, { cause: e.cause, details: { ...e.details, reused } }) : e;
    });
    return { ...outcome.result, status: outcome.status, previewUsed: outcome.previewUsed, complete: !outcome.answeredInPreview || outcome.result.kind === 'modified' };
  }

  /** Probes and revivals run once the service is in use; close() stops them. */
  private startMonitoring(): void {
    if (this.used) return;
    this.used = true;
    for (const s of this.servers) s.monitor();
  }

  /** Every server was tried or is suspended: one error the fail mode can act on, naming them all. */
  private exhausted(last: ProxyError | undefined, tried: ServiceServer[]): ProxyError {
    const servers = this.servers.map((s) => ({ server: s.label, state: s.health.state, ...(s.health.lastError ? { lastError: s.health.lastError } : {}) }));
    if (last) {
      const names = tried.map((s) => s.label).join(', ');
      return new ProxyError(last.code, `ICAP service ${this.name}: no server could take the transaction (tried ${names}); last: ${last.message}`, {
        cause: last,
        details: { ...last.details, service: this.name, tried: tried.map((s) => s.label), servers },
      });
    }
    return new ProxyError('ICAP_CONNECT_FAILED', `ICAP service ${this.name}: every server is suspended (${this.servers.map((s) => s.label).join(', ')})`, {
      details: { service: this.name, tried: [], servers },
    });
  }

  private updateIstag(server: ServiceServer): void {
    const tags = [...new Set(this.servers.map((s) => s.istag).filter((t): t is string => t !== undefined))].sort();
    const istag = tags.join(' ');
    if (istag === '' || istag === this.currentIstag) return;
    const previous = this.currentIstag;
    this.currentIstag = istag;
    for (const fn of this.istagListeners) fn(istag, previous);
    if (istagChannel.hasSubscribers) {
      istagChannel.publish({ service: this.name, server: server.label, istag, previous, serverIstag: server.istag! } satisfies IcapIstagMessage);
    }
  }

  private publishState(server: ServiceServer, change: StateChange): void {
    if (!serverStateChannel.hasSubscribers) return;
    serverStateChannel.publish({ service: this.name, server: server.label, ...change } satisfies IcapServerStateMessage);
  }

  private publish(server: ServiceServer, method: 'REQMOD' | 'RESPMOD', started: number, status: number, previewUsed: boolean, outcome: IcapTransactionMessage['outcome'], errorCode?: ErrorCode): void {
    if (!transactionChannel.hasSubscribers) return;
    const message: IcapTransactionMessage = { service: this.name, server: server.label, method, status, durationMs: performance.now() - started, previewUsed, outcome };
    if (errorCode) message.errorCode = errorCode;
    transactionChannel.publish(message);
  }
}
