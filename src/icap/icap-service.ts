// The facade the pipeline calls: one configured ICAP service over one or more servers. It keeps
// each server's OPTIONS (fetched on first use, refreshed at Options-TTL), caps each pool at the
// server's Max-Connections, tracks the service ISTag (RFC 3507 §4.7) from OPTIONS and from every
// answer, fails a transaction over to another server when no body byte was consumed yet, and
// publishes one diagnostics_channel message per transaction.
import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { ProxyError, toProxyError, type ErrorCode } from '../core/errors.js';
import type { HeaderList, HttpHead, IcapResult } from '../core/types.js';
import { WeightedBalancer } from './balancer.js';
import { BodySource } from './body-source.js';
import { istagChannel, transactionChannel, type IcapIstagMessage, type IcapTransactionMessage } from './channels.js';
import type { TlsMaterial } from './connection.js';
import { fetchOptions } from './fetch-options.js';
import type { IcapOptions } from './icap-options.js';
import { parseIcapUrl } from './icap-url.js';
import { IcapPool, type PoolStats } from './pool.js';
import { runTransaction } from './transaction.js';

export interface IcapServiceOptions {
  /** service name from config (e.g. 'dlp') */
  name: string;
  /** icap:// or icaps:// URLs */
  servers: Array<{ url: string; weight: number }>;
  /** file paths, read once */
  tls?: { ca?: string; cert?: string; key?: string; servername?: string; rejectUnauthorized: boolean };
  maxConnections: number;
  connectTimeoutMs: number;
  previewTimeoutMs: number;
  readIdleTimeoutMs: number;
  queueTimeoutMs: number;
  idleTimeoutMs: number;
}

export interface IcapRequest {
  method: 'REQMOD' | 'RESPMOD';
  /** the HTTP request head (always sent; RESPMOD carries it as req-hdr) */
  reqHead: HttpHead;
  /** RESPMOD only */
  resHead?: HttpHead;
  /** the body as it arrives (null = header-only, null-body); drained once no longer needed */
  body: Readable | null;
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

export type IcapSendResult = IcapResult & { status: number; previewUsed: boolean };

// Failures after which another server may take the transaction, if no body byte was consumed.
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

interface Server {
  url: string;
  pool: IcapPool;
  options: IcapOptions | undefined;
  fetching: Promise<IcapOptions> | undefined;
}

export class IcapService {
  readonly name: string;
  private readonly config: IcapServiceOptions;
  private readonly servers: Server[];
  private readonly balancer: WeightedBalancer<Server>;
  private tlsMaterial: Promise<TlsMaterial | undefined> | undefined;
  private currentIstag: string | undefined;
  private readonly istagListeners: Array<(istag: string, previous: string | undefined) => void> = [];

  constructor(options: IcapServiceOptions) {
    if (options.servers.length === 0) throw new ProxyError('CONFIG_INVALID', `ICAP service ${options.name} has no server`);
    this.name = options.name;
    this.config = options;
    this.servers = options.servers.map(({ url }) => ({
      url,
      pool: new IcapPool(parseIcapUrl(url), {
        maxConnections: options.maxConnections,
        connectTimeoutMs: options.connectTimeoutMs,
        idleTimeoutMs: options.idleTimeoutMs,
        queueTimeoutMs: options.queueTimeoutMs,
        tls: () => this.loadTls(),
      }),
      options: undefined,
      fetching: undefined,
    }));
    this.balancer = new WeightedBalancer(this.servers.map((s, i) => ({ item: s, weight: options.servers[i]!.weight })));
  }

  /** Last known ISTag, as sent (quoted); undefined before the first OPTIONS or answer. */
  get istag(): string | undefined {
    return this.currentIstag;
  }

  onIstagChange(fn: (istag: string, previous: string | undefined) => void): void {
    this.istagListeners.push(fn);
  }

  /** OPTIONS of the next server in turn: cached, refreshed once Options-TTL passed. */
  options(): Promise<IcapOptions> {
    return this.serverOptions(this.balancer.pick() ?? this.servers[0]!);
  }

  stats(): PoolStats[] {
    return this.servers.map((s) => s.pool.stats());
  }

  async close(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.pool.close()));
  }

  async send(request: IcapRequest): Promise<IcapSendResult> {
    const source = request.body ? new BodySource(request.body) : null;
    const tried = new Set<Server>();
    let staleRetried = false;
    for (;;) {
      const server = this.balancer.pick(tried);
      if (!server) throw new ProxyError('INTERNAL', `ICAP service ${this.name}: no server left to try`);
      tried.add(server);
      const started = performance.now();
      let status = 0;
      let previewUsed = false;
      try {
        const options = await this.serverOptions(server, request.signal);
        if (!options.supports(request.method)) {
          throw new ProxyError('ICAP_METHOD_NOT_SUPPORTED', `ICAP service ${server.url} does not offer ${request.method} (Methods: ${options.methods.join(', ')})`, {
            details: { server: server.pool.target.label, method: request.method },
          });
        }
        const result = await this.transact(server, options, request, source);
        status = result.status;
        previewUsed = result.previewUsed;
        this.balancer.report(server, true);
        this.observeIstag(server, result.istag);
        this.publish(server, request.method, started, status, previewUsed, result.kind);
        return result;
      } catch (err) {
        const e = toProxyError(err, 'ICAP_PROTOCOL_ERROR');
        if (FAILOVER.has(e.code)) this.balancer.report(server, false);
        this.publish(server, request.method, started, Number(e.details?.['status'] ?? status), previewUsed, 'error', e.code);
        const untouched = (source?.consumed ?? 0) === 0 && !request.signal?.aborted;
        // A kept-alive connection the server closed just as we reused it: once more, fresh.
        if (untouched && e.details?.['reused'] === true && !staleRetried && (e.code === 'ICAP_READ_FAILED' || e.code === 'ICAP_WRITE_FAILED')) {
          staleRetried = true;
          tried.delete(server);
          continue;
        }
        if (FAILOVER.has(e.code) && untouched && tried.size < this.balancer.size) continue;
        throw e;
      }
    }
  }

  private async transact(server: Server, options: IcapOptions, request: IcapRequest, source: BodySource | null): Promise<IcapSendResult> {
    if (source && options.transferFor(request.reqHead.target) === 'ignore') {
      // Transfer-Ignore (RFC 3507 §4.10.2): the server asked not to be sent such files.
      source.drain();
      return { kind: 'unmodified', istag: options.istag ?? '', headers: new Map([['x-icap-transfer', 'ignore']]), status: 204, previewUsed: false };
    }
    const conn = await server.pool.acquire(request.signal);
    const onAbort = () => conn.destroy(new ProxyError('ICAP_ABORTED', `ICAP transaction to ${server.pool.target.label} aborted`, { details: { server: server.pool.target.label } }));
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
        bodyBytes: request.bodyBytes,
        allow204: request.allow204,
        preview: request.preview,
        headers: identityHeaders(request),
      },
      { previewTimeoutMs: this.config.previewTimeoutMs, readIdleTimeoutMs: this.config.readIdleTimeoutMs },
      (reuse) => {
        request.signal?.removeEventListener('abort', onAbort);
        server.pool.release(conn, reuse);
      },
    ).catch((err: unknown) => {
      const e = toProxyError(err, 'ICAP_PROTOCOL_ERROR');
      throw reused ? new ProxyError(e.code, e.message, { cause: e.cause, details: { ...e.details, reused } }) : e;
    });
    return { ...outcome.result, status: outcome.status, previewUsed: outcome.previewUsed };
  }

  private serverOptions(server: Server, signal?: AbortSignal): Promise<IcapOptions> {
    if (server.options && !server.options.isExpired()) return Promise.resolve(server.options);
    server.fetching ??= (async () => {
      try {
        const conn = await server.pool.acquire(signal);
        const options = await fetchOptions(conn, this.config.readIdleTimeoutMs, (reuse) => server.pool.release(conn, reuse));
        server.options = options;
        server.pool.setServerMax(options.maxConnections);
        if (options.istag) this.observeIstag(server, options.istag);
        return options;
      } finally {
        server.fetching = undefined;
      }
    })();
    return server.fetching;
  }

  private observeIstag(server: Server, istag: string): void {
    if (istag === '' || istag === this.currentIstag) return;
    const previous = this.currentIstag;
    this.currentIstag = istag;
    for (const fn of this.istagListeners) fn(istag, previous);
    if (istagChannel.hasSubscribers) {
      istagChannel.publish({ service: this.name, server: server.pool.target.label, istag, previous } satisfies IcapIstagMessage);
    }
  }

  private publish(server: Server, method: 'REQMOD' | 'RESPMOD', started: number, status: number, previewUsed: boolean, outcome: IcapTransactionMessage['outcome'], errorCode?: ErrorCode): void {
    if (!transactionChannel.hasSubscribers) return;
    const message: IcapTransactionMessage = { service: this.name, server: server.pool.target.label, method, status, durationMs: performance.now() - started, previewUsed, outcome };
    if (errorCode) message.errorCode = errorCode;
    transactionChannel.publish(message);
  }

  private loadTls(): Promise<TlsMaterial | undefined> {
    const tls = this.config.tls;
    this.tlsMaterial ??= (async () => {
      if (!tls) return undefined;
      const read = async (file: string | undefined, what: string) => {
        if (file === undefined) return undefined;
        try {
          return await readFile(file);
        } catch (err) {
          throw new ProxyError('ICAP_TLS_FAILED', `ICAP service ${this.name}: cannot read TLS ${what} ${file}`, { cause: err });
        }
      };
      const [ca, cert, key] = await Promise.all([read(tls.ca, 'CA file'), read(tls.cert, 'certificate'), read(tls.key, 'key')]);
      const material: TlsMaterial = { rejectUnauthorized: tls.rejectUnauthorized };
      if (ca) material.ca = ca;
      if (cert) material.cert = cert;
      if (key) material.key = key;
      if (tls.servername !== undefined) material.servername = tls.servername;
      return material;
    })();
    // A failed read is retried on the next connect (the operator may fix the file).
    this.tlsMaterial.catch(() => (this.tlsMaterial = undefined));
    return this.tlsMaterial;
  }
}

const PRINTABLE = /^[\x21-\x7e][\x20-\x7e]*$/;

/** Identity headers as Squid and the RFC 3507 §4.10 extensions name them. */
function identityHeaders(request: IcapRequest): HeaderList {
  const h: HeaderList = [];
  if (request.clientIp && PRINTABLE.test(request.clientIp)) h.push(['X-Client-IP', request.clientIp]);
  if (request.serverIp && PRINTABLE.test(request.serverIp)) h.push(['X-Server-IP', request.serverIp]);
  if (request.user) {
    const uri = request.user.includes('://') ? request.user : `Local://${request.user}`;
    h.push(['X-Authenticated-User', Buffer.from(uri, 'utf8').toString('base64')]);
    if (PRINTABLE.test(request.user)) h.push(['X-Client-Username', request.user]);
  }
  return h;
}
