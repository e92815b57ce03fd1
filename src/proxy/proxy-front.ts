// The client-facing front. http-mitm-proxy owns the listener and dispatches every request and
// CONNECT through its hooks; we take each one over in the hook (never handing it back), so its
// own forwarding, filters and error pages never run. TLS of intercepted CONNECTs is terminated
// here, in process, with a leaf from ca/ chosen by the CONNECT target (docs/decisions.md says
// why this role is not http-mitm-proxy's), and the decrypted socket is handed back to the same
// http-mitm-proxy server, so plain and intercepted requests take one path.
//
//   client ──CONNECT host:port──► onConnect ─ ACL, auth, host check ─┬─ tunnel: TCP splice
//                                                                  └─ intercept: 200, TLS(leaf for host)
//                                                                       └─► server 'connection' ─► onRequest
//   client ──GET http://host/…───► onRequest ─ ACL, auth ─► exchange(req, res, origin, client)
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { Proxy as MitmProxy, type IContext, type IProxyOptions } from 'http-mitm-proxy';
import type { Duplex } from 'node:stream';
import { ProxyError, type ErrorCode } from '../core/errors.js';
import { events } from '../core/events.js';
import { rawResponse } from '../core/raw-response.js';
import type { ClientInfo } from '../core/exchange.js';
import { formatAuthority, parseHostPort, type HostPort, type ParsedHost } from '../core/host.js';
import { ClientAllowList, ProxyAuthenticator, normaliseIp, type ProxyUser } from './access.js';

export interface OriginTarget {
  scheme: 'http' | 'https';
  host: string;
  port: number;
}

export interface Page {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export interface ProxyFrontOptions {
  host: string;
  port: number;
  allowedClients: readonly string[];
  auth?: { realm: string; users: readonly ProxyUser[] } | undefined;
  clientHeadersTimeoutMs: number;
  clientIdleTimeoutMs: number;
  maxHeaderBytes: number;
  /** connect timeout for tunnelled CONNECTs */
  tunnelConnectTimeoutMs: number;
}

export interface ProxyFrontHandlers {
  /** Leaf certificates for intercepted hosts. */
  secureContext(host: ParsedHost): Promise<tls.SecureContext>;
  /** Tunnel untouched or intercept, for one CONNECT target. */
  connectAction(host: string): 'tunnel' | 'intercept';
  /** One exchange, with the request paused and nothing written yet. */
  exchange(req: http.IncomingMessage, res: http.ServerResponse, origin: OriginTarget, client: ClientInfo, intercepted: boolean): void;
  /** A protocol upgrade (WebSocket): the pipeline relays it. */
  upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, origin: OriginTarget, client: ClientInfo): void;
  /** Our page for a refusal or failure: never internal error text. */
  page(status: number, code: ErrorCode, host: string | undefined, accept: string | undefined): Page;
}

/** What an intercepted CONNECT established, keyed by the socket the HTTP server reads. */
interface Tunnel {
  target: HostPort;
  client: ClientInfo;
  tls: boolean;
}

export class ProxyFront {
  readonly #options: ProxyFrontOptions;
  readonly #handlers: ProxyFrontHandlers;
  readonly #mitm = new MitmProxy();
  readonly #allow: ClientAllowList;
  readonly #auth: ProxyAuthenticator | undefined;
  readonly #tunnels = new WeakMap<Duplex, Tunnel>();
  readonly #open = new Set<Duplex>();
  /** The request target as received: http-mitm-proxy rewrites absolute-form `req.url` to a path. */
  readonly #targets = new WeakMap<http.IncomingMessage, string>();
  #server: http.Server | undefined;
  #stats = { tunnels: 0, intercepts: 0 };
  #clientConnections = 0;
  /** responses not yet finished: a drain turns their keep-alive off */
  readonly #responses = new Set<http.ServerResponse>();
  #draining = false;
  #closed: Promise<void> | undefined;

  constructor(options: ProxyFrontOptions, handlers: ProxyFrontHandlers) {
    this.#options = options;
    this.#handlers = handlers;
    this.#allow = new ClientAllowList(options.allowedClients);
    this.#auth = options.auth ? new ProxyAuthenticator(options.auth.realm, options.auth.users) : undefined;
    this.#mitm.onConnect((req, socket, head) => {
      this.#onConnect(req, socket, head).catch((err) => this.#refuseSocket(socket, req, toError(err, 'INTERNAL')));
    });
    this.#mitm.onRequest((ctx: IContext) => {
      // The exchange is ours from here: the library's error listeners would answer 504 for it.
      const { clientToProxyRequest: req, proxyToClientResponse: res } = ctx;
      req.removeAllListeners('error');
      res.removeAllListeners('error');
      req.on('error', () => undefined); // a client gone mid-body: the pipeline sees 'aborted'/'close'
      res.on('error', () => undefined);
      this.#onRequest(ctx.clientToProxyRequest, ctx.proxyToClientResponse).catch((err) =>
        this.#refuse(ctx.proxyToClientResponse, ctx.clientToProxyRequest, toError(err, 'INTERNAL')),
      );
    });
    this.#mitm.onError(() => {
      // Socket errors of the library's own listeners; every exchange reports its own failures.
    });
  }

  async listen(): Promise<number> {
    const options: IProxyOptions & { externalCa: boolean } = {
      host: this.#options.host,
      port: this.#options.port,
      keepAlive: true,
      externalCa: true,
    };
    await new Promise<void>((resolve, reject) => {
      this.#mitm.listen(options, (err?: Error | null) => (err ? reject(err) : resolve()));
    });
    const server = (this.#mitm as unknown as { httpServer: http.Server }).httpServer;
    this.#server = server;
    server.headersTimeout = this.#options.clientHeadersTimeoutMs;
    server.requestTimeout = 0; // uploads may take long; idleness is bounded instead
    server.keepAliveTimeout = this.#options.clientIdleTimeoutMs;
    server.timeout = this.#options.clientIdleTimeoutMs;
    (server as unknown as { maxHeaderSize: number }).maxHeaderSize = this.#options.maxHeaderBytes;
    server.prependListener('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      this.#targets.set(req, req.url ?? '');
      if (this.#draining) res.shouldKeepAlive = false;
      this.#responses.add(res);
      res.once('close', () => this.#responses.delete(res));
    });
    server.on('connection', (socket: Duplex) => {
      if (this.#tunnels.has(socket)) return; // a decrypted CONNECT, already counted as its client's
      this.#clientConnections++;
      socket.once('close', () => this.#clientConnections--);
    });
    // Upgrades are relayed byte for byte by the pipeline, not re-framed by the library's ws server.
    server.removeAllListeners('upgrade');
    server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      this.#onUpgrade(req, socket, head).catch((err) => this.#refuseSocket(socket, req, toError(err, 'INTERNAL')));
    });
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
      // Malformed HTTP from a client: a plain 400, and the socket is closed.
      if (socket.writable && !(socket as net.Socket).destroyed && err.code !== 'ECONNRESET') {
        socket.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
      } else socket.destroy();
    });
    return (server.address() as net.AddressInfo).port;
  }

  get port(): number | undefined {
    const address = this.#server?.address();
    return address && typeof address === 'object' ? address.port : undefined;
  }

  /** Totals of tunnels and intercepts so far; open client connections and CONNECT-side sockets now. */
  stats(): { tunnels: number; intercepts: number; openSockets: number; clientConnections: number } {
    return { ...this.#stats, openSockets: this.#open.size, clientConnections: this.#clientConnections };
  }

  /**
   * Stop accepting and let what is in flight finish: every response still to be written says
   * `connection: close`, idle keep-alive connections are closed as they become idle, and tunnels
   * run on. Resolves true once no client connection is left, false when `deadlineMs` passed
   * first (then close(true) cuts the rest: the client sees its connection end before the framed
   * end of the body, an error, not a short body it could take for a whole one).
   */
  async drain(deadlineMs: number): Promise<boolean> {
    const server = this.#server;
    if (!server) return true;
    this.#draining = true;
    this.#closed ??= new Promise<void>((resolve) => server.close(() => resolve()));
    for (const res of this.#responses) if (!res.headersSent) res.shouldKeepAlive = false;
    const deadline = performance.now() + deadlineMs;
    for (;;) {
      server.closeIdleConnections();
      if (this.#clientConnections === 0 && this.#open.size === 0) return true;
      if (performance.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, Math.min(50, Math.max(1, deadline - performance.now()))));
    }
  }

  /** Stop listening; with `force`, cut every open connection and tunnel too. */
  async close(force = true): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    const closed = (this.#closed ??= new Promise<void>((resolve) => server.close(() => resolve())));
    if (force) {
      server.closeAllConnections();
      for (const socket of this.#open) socket.destroy();
    } else server.closeIdleConnections();
    await closed;
  }

  async #identify(req: http.IncomingMessage): Promise<{ client: ClientInfo } | { refuse: ProxyError }> {
    const ip = normaliseIp(req.socket.remoteAddress ?? '');
    const client: ClientInfo = { ip, port: req.socket.remotePort ?? 0 };
    if (!this.#allow.allows(ip)) return { refuse: new ProxyError('CLIENT_FORBIDDEN', `client ${ip} is not in proxy.allowedClients`) };
    if (this.#auth) {
      const user = await this.#auth.authenticate(req.headers['proxy-authorization']);
      if (user === undefined) return { refuse: new ProxyError('CLIENT_AUTH_REQUIRED', 'proxy authentication required') };
      client.user = user;
    }
    return { client };
  }

  async #onConnect(req: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const who = await this.#identify(req);
    if ('refuse' in who) return this.#refuseSocket(socket, req, who.refuse);
    const target = parseHostPort(req.url ?? '');
    if (!target) {
      return this.#refuseSocket(socket, req, new ProxyError('CLIENT_HOST_INVALID', 'CONNECT target is not a valid host:port'), who.client);
    }
    const action = this.#handlers.connectAction(target.host);
    events.connect.publish({ client: who.client, host: target.host, port: target.port, outcome: action });
    if (action === 'tunnel') return this.#tunnel(socket, head, target);
    return this.#intercept(socket, head, target, who.client);
  }

  #tunnel(socket: Duplex, head: Buffer, target: HostPort): void {
    const started = performance.now();
    this.#stats.tunnels++;
    const origin = net.connect({ host: target.host, port: target.port });
    origin.setNoDelay(true);
    const timer = setTimeout(() => origin.destroy(new ProxyError('UPSTREAM_CONNECT_TIMEOUT', `tunnel to ${target.host}:${target.port} timed out`)), this.#options.tunnelConnectTimeoutMs);
    this.#open.add(socket);
    this.#open.add(origin);
    origin.once('connect', () => {
      clearTimeout(timer);
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) origin.write(head);
      socket.pipe(origin);
      origin.pipe(socket);
    });
    origin.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (origin.connecting || origin.bytesRead === 0) {
        const code: ErrorCode = err instanceof ProxyError ? err.code : err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN' ? 'UPSTREAM_DNS_FAILED' : 'UPSTREAM_CONNECT_FAILED';
        if (!socket.destroyed && (socket as net.Socket).bytesWritten === 0) {
          this.#refuseSocket(socket, undefined, new ProxyError(code, `tunnel to ${target.host}:${target.port}: ${err.message}`), undefined, target.host);
          return;
        }
      }
      socket.destroy();
    });
    socket.on('error', () => origin.destroy());
    socket.on('close', () => origin.destroy());
    origin.on('close', () => {
      socket.destroy();
      this.#open.delete(socket);
      this.#open.delete(origin);
      events.tunnelEnd.publish({ host: target.host, mode: 'tunnel', bytesUp: origin.bytesWritten, bytesDown: origin.bytesRead, durationMs: performance.now() - started });
    });
  }

  async #intercept(socket: Duplex, head: Buffer, target: HostPort, client: ClientInfo): Promise<void> {
    const started = performance.now();
    const server = this.#server;
    if (!server) return void socket.destroy();
    this.#stats.intercepts++;
    this.#open.add(socket);
    socket.on('close', () => this.#open.delete(socket));
    // Issue (or fetch) the leaf while the client reads our 200.
    const context = this.#handlers.secureContext(target);
    context.catch(() => undefined);
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    const first = head.length > 0 ? head : await firstChunk(socket);
    if (!first) return;
    socket.pause();
    socket.unshift(first);
    if (first[0] !== 0x16) {
      // Not TLS (plain HTTP or WebSocket through CONNECT): the same server reads it as is.
      this.#tunnels.set(socket, { target, client, tls: false });
      server.emit('connection', socket);
      socket.resume();
      return;
    }
    let secureContext: tls.SecureContext;
    try {
      secureContext = await context;
    } catch (err) {
      events.error.publish({ error: toError(err, 'INTERNAL') });
      return void socket.destroy();
    }
    const tlsSocket = new tls.TLSSocket(socket as net.Socket, {
      isServer: true,
      secureContext,
      ALPNProtocols: ['http/1.1'],
      // A client that names another host in SNI than in CONNECT gets a leaf for the CONNECT
      // target all the same: the request's Host must match that target anyway.
      SNICallback: (_servername, cb) => cb(null, secureContext),
    });
    this.#open.add(tlsSocket);
    tlsSocket.on('error', (err: NodeJS.ErrnoException) => {
      events.error.publish({ error: new ProxyError('CLIENT_TLS_FAILED', `TLS with client for ${target.host}: ${err.code ?? err.message}`, { cause: err }) });
      tlsSocket.destroy();
    });
    tlsSocket.on('close', () => {
      this.#open.delete(tlsSocket);
      events.tunnelEnd.publish({ host: target.host, mode: 'intercept', bytesUp: tlsSocket.bytesRead, bytesDown: tlsSocket.bytesWritten, durationMs: performance.now() - started });
    });
    tlsSocket.once('secure', () => {
      this.#tunnels.set(tlsSocket, { target, client, tls: true });
      server.emit('connection', tlsSocket);
    });
  }

  /** Resolve where a request goes: the CONNECT target inside a tunnel, else its absolute URI. */
  async #route(req: http.IncomingMessage, url: string): Promise<{ origin: OriginTarget; client: ClientInfo; intercepted: boolean } | { refuse: ProxyError; client?: ClientInfo }> {
    const tunnel = this.#tunnels.get(req.socket);
    if (tunnel) {
      const defaultPort = tunnel.tls ? 443 : 80;
      const authority = absoluteAuthority(url) ?? req.headers.host;
      const named = authority === undefined ? undefined : parseHostPort(authority, defaultPort);
      if (!named || named.host !== tunnel.target.host || named.port !== tunnel.target.port) {
        return {
          refuse: new ProxyError('CLIENT_HOST_MISMATCH', `request for ${authority ?? '(no Host)'} inside a CONNECT to ${formatAuthority(tunnel.target.host, tunnel.target.port)}`),
          client: tunnel.client,
        };
      }
      return { origin: { scheme: tunnel.tls ? 'https' : 'http', host: tunnel.target.host, port: tunnel.target.port }, client: tunnel.client, intercepted: tunnel.tls };
    }
    const who = await this.#identify(req);
    if ('refuse' in who) return who;
    const scheme = url.slice(0, 8).toLowerCase().startsWith('https://') ? 'https' : url.slice(0, 7).toLowerCase() === 'http://' ? 'http' : undefined;
    if (!scheme) {
      return { refuse: new ProxyError('CLIENT_BAD_REQUEST', 'this is a proxy: requests must use absolute-form URIs (http://host/path)'), client: who.client };
    }
    const target = parseHostPort(absoluteAuthority(url) ?? '', scheme === 'https' ? 443 : 80);
    if (!target) return { refuse: new ProxyError('CLIENT_HOST_INVALID', 'the request URI names no valid host'), client: who.client };
    return { origin: { scheme, host: target.host, port: target.port }, client: who.client, intercepted: false };
  }

  async #onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = this.#targets.get(req) ?? req.url ?? '';
    const route = await this.#route(req, url);
    if ('refuse' in route) return this.#refuse(res, req, route.refuse);
    req.url = url;
    this.#handlers.exchange(req, res, route.origin, route.client, route.intercepted);
  }

  async #onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const route = await this.#route(req, req.url ?? '');
    if ('refuse' in route) return this.#refuseSocket(socket, req, route.refuse, route.client);
    this.#handlers.upgrade(req, socket, head, route.origin, route.client);
  }

  #refuse(res: http.ServerResponse, req: http.IncomingMessage, error: ProxyError): void {
    events.error.publish({ error });
    req.resume();
    if (res.headersSent) return void res.destroy();
    const page = this.#handlers.page(error.status, error.code, hostOf(req), req.headers.accept);
    const headers: Record<string, string> = { ...page.headers, 'content-length': String(page.body.length) };
    if (error.code === 'CLIENT_AUTH_REQUIRED' && this.#auth) headers['proxy-authenticate'] = this.#auth.challenge;
    if (error.hop === 'client') headers.connection = 'close';
    res.writeHead(page.status, headers);
    res.end(page.body);
  }

  /** Answer on a raw socket (CONNECT and upgrades have no ServerResponse), then close it. */
  #refuseSocket(socket: Duplex, req: http.IncomingMessage | undefined, error: ProxyError, client?: ClientInfo, host?: string): void {
    events.error.publish({ error });
    if (req?.method === 'CONNECT' && client) {
      events.connect.publish({ client, host: host ?? req.url ?? '', port: 0, outcome: 'refused', status: error.status });
    }
    if (!socket.writable || socket.destroyed) return void socket.destroy();
    const page = this.#handlers.page(error.status, error.code, host ?? (req ? hostOf(req) : undefined), req?.headers.accept);
    const challenge: Record<string, string> = error.code === 'CLIENT_AUTH_REQUIRED' && this.#auth ? { 'proxy-authenticate': this.#auth.challenge } : {};
    socket.end(rawResponse(page, challenge));
    setTimeout(() => socket.destroy(), 2000).unref();
  }
}

function toError(err: unknown, code: ErrorCode): ProxyError {
  return err instanceof ProxyError ? err : new ProxyError(code, err instanceof Error ? err.message : String(err), { cause: err });
}

/** `host:port` of an absolute-form URI, or undefined for origin-form. */
function absoluteAuthority(url: string | undefined): string | undefined {
  if (!url) return undefined;
  const match = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(url);
  if (!match) return undefined;
  const authority = match[1]!;
  // userinfo is never forwarded and never part of the host
  const at = authority.lastIndexOf('@');
  return at >= 0 ? authority.slice(at + 1) : authority;
}

function hostOf(req: http.IncomingMessage): string | undefined {
  const authority = absoluteAuthority(req.url) ?? (req.method === 'CONNECT' ? req.url : req.headers.host);
  return authority ? parseHostPort(authority, 80)?.host : undefined;
}

function firstChunk(socket: Duplex): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const onData = (chunk: Buffer) => {
      cleanup();
      resolve(chunk);
    };
    const onEnd = () => {
      cleanup();
      socket.destroy();
      resolve(undefined);
    };
    const cleanup = () => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.off('error', onEnd);
    };
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
    socket.once('error', onEnd);
  });
}
