// The client-facing front. http-mitm-proxy owns the listener and dispatches every request and
// CONNECT through its hooks; we take each one over in the hook (never handing it back), so its
// own forwarding, filters and error pages never run. TLS of intercepted CONNECTs is terminated
// in process (connect-tunnels.ts), with a leaf from ca/ chosen by the CONNECT target (docs/decisions.md says
// why this role is not http-mitm-proxy's), and the decrypted socket is handed back to the same
// http-mitm-proxy server, so plain and intercepted requests take one path.
//
//   client ──CONNECT host:port──► onConnect ─ cap, ACL, auth, host check, decideConnect ─┬─ tunnel: TCP splice
//                                                                                      ├─ refuse: the pipeline's page
//                                                                                      └─ intercept: 200, TLS(leaf for host)
//                                                                                           └─► server 'connection' ─► onRequest
//   client ──GET http://host/…───► onRequest ─ cap, header count, ACL, auth ─► exchange(req, res, origin, client)
import http from 'node:http';
import net from 'node:net';
import type tls from 'node:tls';
import { Proxy as MitmProxy, type IProxyOptions } from 'http-mitm-proxy';
import type { Duplex } from 'node:stream';
import { ProxyError, type ErrorCode } from '../core/errors.js';
import { events } from '../core/events.js';
import { rawResponse } from '../core/raw-response.js';
import type { ClientInfo } from '../core/exchange.js';
import { formatAuthority, parseHostPort, type HostPort, type ParsedHost } from '../core/host.js';
import { isWebSocketHandshake, withoutUpgrade } from './upgrade-dispatch.js';
import { ClientAllowList, ProxyAuthenticator, normaliseIp, type ProxyUser } from './access.js';
import { ClientConnectionCap } from './client-connection-cap.js';
import { ConnectTunnels } from './connect-tunnels.js';

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
  /** header fields in one request head; more are answered 431 */
  maxHeaderCount: number;
  /** an intercepted CONNECT silent this long after our 200 is closed */
  connectFirstByteTimeoutMs: number;
  /** the client's TLS handshake of an intercepted CONNECT, from its first byte */
  tlsHandshakeTimeoutMs: number;
  /** tunnels and intercepted connections with no byte either way for this long are closed */
  tunnelIdleTimeoutMs: number;
  /** connections at once per client address; over it 429, from twice it closed unread */
  maxConnectionsPerClient: number;
  /** connect timeout for tunnelled CONNECTs */
  tunnelConnectTimeoutMs: number;
}

export type ConnectDecision = { action: 'tunnel' | 'intercept' } | { action: 'refuse'; page: Page };

export interface ProxyFrontHandlers {
  /** Leaf certificates for intercepted hosts. */
  secureContext(host: ParsedHost): Promise<tls.SecureContext>;
  /** The policy's decision for one CONNECT, made and logged by the pipeline (one decision point). */
  decideConnect(target: HostPort, client: ClientInfo, req: http.IncomingMessage): ConnectDecision;
  /**
   * A guarded TCP connection to a tunnel target (upstream/ refuses the proxy's own listeners and
   * other forbidden destinations: the socket then emits 'error' with
   * ProxyError('UPSTREAM_DESTINATION_FORBIDDEN') → 403 page).
   */
  openTunnel(target: HostPort): net.Socket;
  /** One exchange, with the request paused and nothing written yet. */
  exchange(req: http.IncomingMessage, res: http.ServerResponse, origin: OriginTarget, client: ClientInfo, intercepted: boolean): void;
  /** A WebSocket handshake (every other upgrade comes back as an ordinary request): the pipeline decides and relays it. */
  upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, origin: OriginTarget, client: ClientInfo, intercepted: boolean): void;
  /** Our page for a refusal or failure: never internal error text. */
  page(status: number, code: ErrorCode, host: string | undefined, accept: string | undefined): Page;
}

export class ProxyFront {
  readonly #options: ProxyFrontOptions;
  readonly #handlers: ProxyFrontHandlers;
  readonly #mitm = new MitmProxy();
  readonly #allow: ClientAllowList;
  readonly #auth: ProxyAuthenticator | undefined;
  readonly #connects: ConnectTunnels;
  /** client sockets handed back to the HTTP server after a non-WebSocket upgrade (already counted) */
  readonly #reinjected = new WeakSet<Duplex>();
  #server: http.Server | undefined;
  #clientConnections = 0;
  readonly #cap: ClientConnectionCap;
  /** connections over their client's cap: their first request is answered 429 */
  readonly #overCap = new WeakSet<Duplex>();
  /** responses not yet finished: a drain turns their keep-alive off */
  readonly #responses = new Set<http.ServerResponse>();
  #draining = false;
  #closed: Promise<void> | undefined;

  constructor(options: ProxyFrontOptions, handlers: ProxyFrontHandlers) {
    this.#options = options;
    this.#handlers = handlers;
    this.#allow = new ClientAllowList(options.allowedClients);
    this.#auth = options.auth ? new ProxyAuthenticator(options.auth.realm, options.auth.users) : undefined;
    this.#cap = new ClientConnectionCap(options.maxConnectionsPerClient);
    this.#connects = new ConnectTunnels(options);
    this.#mitm.onConnect((req, socket, head) => {
      this.#onConnect(req, socket, head).catch((err) => this.#refuseSocket(socket, req, toError(err, 'INTERNAL')));
    });
    this.#mitm.onError(() => {
      // Socket errors of the library's own listeners; every exchange reports its own failures.
    });
  }

  async listen(): Promise<number> {
    const options: IProxyOptions & { externalCa: boolean; httpServerOptions: http.ServerOptions } = {
      host: this.#options.host,
      port: this.#options.port,
      keepAlive: true,
      externalCa: true,
      // Node checks headersTimeout only at this interval (30 s by default), and reads it only when
      // the server is created: the patch passes it through (docs/decisions.md). A quarter of the
      // timeout, at most a second, holds clientHeadersTimeoutMs to within a second.
      httpServerOptions: { connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(this.#options.clientHeadersTimeoutMs / 4))) },
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
    // req.headers keeps this many fields, req.rawHeaders all of them: #limitRefusal answers 431.
    server.maxHeadersCount = this.#options.maxHeaderCount;
    // Requests come to us straight from the server: the library's request handler builds a context
    // of ~20 arrays and closures, a UUID and an async.each per request, all for hooks we never use
    // (we take every exchange over), and rewrites absolute-form `req.url` to a path.
    server.removeAllListeners('request');
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => this.#onServerRequest(req, res));
    server.on('connection', (socket: Duplex) => this.#onConnection(socket));
    // WebSocket handshakes go to the pipeline (not the library's ws server); any other upgrade is
    // read again as an ordinary request (upgrade-dispatch.ts).
    server.removeAllListeners('upgrade');
    server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      if (!isWebSocketHandshake(req)) {
        this.#reinjected.add(socket);
        socket.unshift(withoutUpgrade(req, head));
        server.emit('connection', socket);
        return;
      }
      this.#onUpgrade(req, socket, head).catch((err) => this.#refuseSocket(socket, req, toError(err, 'INTERNAL')));
    });
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => this.#onClientError(err, socket));
    return (server.address() as net.AddressInfo).port;
  }

  get port(): number | undefined {
    const address = this.#server?.address();
    return address && typeof address === 'object' ? address.port : undefined;
  }

  /** Totals of tunnels and intercepts so far; open client connections and CONNECT-side sockets now. */
  stats(): { tunnels: number; intercepts: number; openSockets: number; clientConnections: number } {
    return { ...this.#connects.stats(), clientConnections: this.#clientConnections };
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
      if (this.#clientConnections === 0 && this.#connects.stats().openSockets === 0) return true;
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
      this.#connects.destroyAll();
    } else server.closeIdleConnections();
    await closed;
  }

  /** Every accepted TCP connection; the decrypted socket of an intercepted CONNECT is its client's already. */
  #onConnection(socket: Duplex): void {
    if (this.#connects.get(socket) || this.#reinjected.has(socket)) return;
    const ip = normaliseIp((socket as net.Socket).remoteAddress ?? '');
    const admission = this.#cap.open(ip);
    this.#clientConnections++;
    socket.once('close', () => {
      this.#clientConnections--;
      this.#cap.close(ip);
    });
    if (admission === 'refuse') this.#overCap.add(socket);
    else if (admission === 'drop') {
      const max = this.#options.maxConnectionsPerClient;
      events.error.publish({ error: new ProxyError('CLIENT_TOO_MANY_CONNECTIONS', `client ${ip} holds twice proxy.maxConnectionsPerClient (${max}): connection closed unread`) });
      socket.destroy();
    }
  }

  /** A request head the HTTP server could not take: too slow (408), too large (431) or malformed (400); then closed. */
  #onClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
    // With a response in flight on the socket (as Node's own handler checks), a page would interleave with it.
    const busy = (socket as { _httpMessage?: unknown })._httpMessage;
    if (!socket.writable || (socket as net.Socket).destroyed || err.code === 'ECONNRESET' || busy) return void socket.destroy();
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      // headersTimeout (requestTimeout is 0): RFC 9110 §15.5.9
      return this.#refuseSocket(socket, undefined, new ProxyError('CLIENT_HEADERS_TIMEOUT', `request head not complete within ${this.#options.clientHeadersTimeoutMs} ms`));
    }
    if (err.code === 'HPE_HEADER_OVERFLOW') {
      // RFC 6585 §5
      return this.#refuseSocket(socket, undefined, new ProxyError('CLIENT_TOO_MANY_HEADERS', `request head over proxy.maxHeaderBytes (${this.#options.maxHeaderBytes})`));
    }
    socket.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
  }

  /** Who sent `req` (a refused one too: the refusal is logged with its client); a promise only when a password is checked. */
  #identify(req: http.IncomingMessage): Identity | Promise<Identity> {
    const client = peerOf(req);
    if (!this.#allow.allows(client.ip)) return { client, refuse: new ProxyError('CLIENT_FORBIDDEN', `client ${client.ip} is not in proxy.allowedClients`) };
    if (!this.#auth) return { client };
    return this.#auth.authenticate(req.headers['proxy-authorization']).then((user) => {
      if (user === undefined) return { client, refuse: new ProxyError('CLIENT_AUTH_REQUIRED', 'proxy authentication required') };
      client.user = user;
      return { client };
    });
  }

  /** The per-client connection cap and the header count, checked first for every request head. */
  #limitRefusal(req: http.IncomingMessage): ProxyError | undefined {
    if (this.#overCap.has(req.socket)) {
      return new ProxyError('CLIENT_TOO_MANY_CONNECTIONS', `client holds more than proxy.maxConnectionsPerClient (${this.#options.maxConnectionsPerClient}) connections`);
    }
    // rawHeaders holds every field; req.headers only the first maxHeadersCount (the rest would be dropped silently).
    const count = req.rawHeaders.length / 2;
    if (count > this.#options.maxHeaderCount) {
      return new ProxyError('CLIENT_TOO_MANY_HEADERS', `${count} header fields, over proxy.maxHeaderCount (${this.#options.maxHeaderCount})`);
    }
    return undefined;
  }

  async #onConnect(req: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const limit = this.#limitRefusal(req);
    if (limit) return this.#refuseSocket(socket, req, limit, peerOf(req));
    const who = await this.#identify(req);
    if (who.refuse) return this.#refuseSocket(socket, req, who.refuse, who.client);
    const target = parseHostPort(req.url ?? '');
    if (!target) {
      return this.#refuseSocket(socket, req, new ProxyError('CLIENT_HOST_INVALID', 'CONNECT target is not a valid host:port'), who.client);
    }
    // The pipeline decides and logs (events.connect is its to publish for a decided CONNECT).
    const decision = this.#handlers.decideConnect(target, who.client, req);
    if (decision.action === 'refuse') return this.#endWithPage(socket, decision.page);
    // The socket of a CONNECT is the net.Socket the HTTP server accepted.
    const client = socket as net.Socket;
    if (decision.action === 'tunnel') {
      const refuse = (error: ProxyError) => this.#refuseSocket(socket, undefined, error, undefined, target.host);
      return this.#connects.tunnel(client, head, target, this.#handlers.openTunnel(target), refuse);
    }
    const server = this.#server;
    if (!server) return void socket.destroy();
    // The leaf is issued (or fetched) while the client reads our 200.
    return this.#connects.intercept(client, head, target, who.client, server, this.#handlers.secureContext(target));
  }

  /** Resolve where a request goes: the CONNECT target inside a tunnel, else its absolute URI. */
  #route(req: http.IncomingMessage, url: string): Route | Promise<Route> {
    const tunnel = this.#connects.get(req.socket);
    const limit = this.#limitRefusal(req);
    if (limit) return { refuse: limit, client: tunnel?.client ?? peerOf(req) };
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
    const who = this.#identify(req);
    return who instanceof Promise ? who.then((identity) => absoluteRoute(url, identity)) : absoluteRoute(url, who);
  }

  /** Every request head the HTTP server accepted (plain, and decrypted inside an intercepted CONNECT). */
  #onServerRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    // The exchange is ours: nothing is read or written until the pipeline says so.
    req.pause();
    req.on('error', () => undefined); // a client gone mid-body: the pipeline sees 'aborted'/'close'
    res.on('error', () => undefined);
    if (this.#draining) res.shouldKeepAlive = false;
    this.#responses.add(res);
    res.once('close', () => this.#responses.delete(res));
    try {
      const route = this.#route(req, req.url ?? '');
      if (route instanceof Promise) route.then((r) => this.#dispatch(req, res, r)).catch((err) => this.#refuse(res, req, toError(err, 'INTERNAL')));
      else this.#dispatch(req, res, route);
    } catch (err) {
      this.#refuse(res, req, toError(err, 'INTERNAL'));
    }
  }

  #dispatch(req: http.IncomingMessage, res: http.ServerResponse, route: Route): void {
    if ('refuse' in route) return this.#refuse(res, req, route.refuse);
    this.#handlers.exchange(req, res, route.origin, route.client, route.intercepted);
  }

  async #onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const route = await this.#route(req, req.url ?? '');
    if ('refuse' in route) return this.#refuseSocket(socket, req, route.refuse, route.client);
    this.#handlers.upgrade(req, socket, head, route.origin, route.client, route.intercepted);
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
    this.#endWithPage(socket, page, challenge);
  }

  /** Write a whole page on a raw socket and close it (a client that does not read it is cut after 2 s). */
  #endWithPage(socket: Duplex, page: Page, extra: Record<string, string> = {}): void {
    if (!socket.writable || socket.destroyed) return void socket.destroy();
    socket.end(rawResponse(page, extra));
    setTimeout(() => socket.destroy(), 2000).unref();
  }
}

type Identity = { client: ClientInfo; refuse?: ProxyError };
type Route = { origin: OriginTarget; client: ClientInfo; intercepted: boolean } | { refuse: ProxyError; client?: ClientInfo };

/** Where an absolute-form request goes, once its client is known. */
function absoluteRoute(url: string, who: Identity): Route {
  if (who.refuse) return { refuse: who.refuse, client: who.client };
  const scheme = url.slice(0, 8).toLowerCase().startsWith('https://') ? 'https' : url.slice(0, 7).toLowerCase() === 'http://' ? 'http' : undefined;
  if (!scheme) {
    return { refuse: new ProxyError('CLIENT_BAD_REQUEST', 'this is a proxy: requests must use absolute-form URIs (http://host/path)'), client: who.client };
  }
  const target = parseHostPort(absoluteAuthority(url) ?? '', scheme === 'https' ? 443 : 80);
  if (!target) return { refuse: new ProxyError('CLIENT_HOST_INVALID', 'the request URI names no valid host'), client: who.client };
  return { origin: { scheme, host: target.host, port: target.port }, client: who.client, intercepted: false };
}

/** The client address of a request, before any identification. */
function peerOf(req: http.IncomingMessage): ClientInfo {
  return { ip: normaliseIp(req.socket.remoteAddress ?? ''), port: req.socket.remotePort ?? 0 };
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
