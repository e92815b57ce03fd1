// What a decided CONNECT becomes: an untouched TCP splice to the origin (tunnel), or an
// intercepted connection handed to the HTTP server, TLS terminated with our leaf (or plain HTTP
// read as sent). Owns the sockets CONNECTs opened, so a drain can wait for them and a close can
// cut them, and closes those that moved no byte either way for tunnelIdleTimeoutMs.
import type http from 'node:http';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import type tls from 'node:tls';
import { ProxyError, toProxyError, type ErrorCode } from '../core/errors.js';
import { events } from '../core/events.js';
import type { ClientInfo } from '../core/exchange.js';
import type { HostPort } from '../core/host.js';
import { acceptClientTls, firstChunk } from './accept-client-tls.js';
import { IdleSweep } from './idle-sweep.js';

/** What an intercepted CONNECT established, for the requests read from its socket. */
export interface Tunnel {
  target: HostPort;
  client: ClientInfo;
  tls: boolean;
}

export interface ConnectTunnelsOptions {
  connectFirstByteTimeoutMs: number;
  tlsHandshakeTimeoutMs: number;
  tunnelIdleTimeoutMs: number;
  tunnelConnectTimeoutMs: number;
}

const ESTABLISHED = 'HTTP/1.1 200 Connection Established\r\n\r\n';

export class ConnectTunnels {
  readonly #options: ConnectTunnelsOptions;
  /** keyed by the socket the HTTP server reads (decrypted, or the CONNECT socket for plain HTTP) */
  readonly #intercepted = new WeakMap<Duplex, Tunnel>();
  readonly #open = new Set<Duplex>();
  readonly #idle: IdleSweep;
  readonly #stats = { tunnels: 0, intercepts: 0 };

  constructor(options: ConnectTunnelsOptions) {
    this.#options = options;
    this.#idle = new IdleSweep(options.tunnelIdleTimeoutMs);
  }

  /** The intercepted CONNECT a socket of the HTTP server belongs to. */
  get(socket: Duplex): Tunnel | undefined {
    return this.#intercepted.get(socket);
  }

  /** Totals of tunnels and intercepts so far; CONNECT-side sockets open now. */
  stats(): { tunnels: number; intercepts: number; openSockets: number } {
    return { ...this.#stats, openSockets: this.#open.size };
  }

  destroyAll(): void {
    for (const socket of this.#open) socket.destroy();
  }

  /**
   * Splice the client to `origin` (a guarded connection from upstream/), answering 200 once it
   * connects. A failure before any byte came back is answered with `refuse` (the error's code,
   * a ProxyError's kept: UPSTREAM_DESTINATION_FORBIDDEN is a 403).
   */
  tunnel(socket: net.Socket, head: Buffer, target: HostPort, origin: net.Socket, refuse: (error: ProxyError) => void): void {
    const started = performance.now();
    this.#stats.tunnels++;
    origin.setNoDelay(true);
    const timer = setTimeout(() => origin.destroy(new ProxyError('UPSTREAM_CONNECT_TIMEOUT', `tunnel to ${target.host}:${target.port} timed out`)), this.#options.tunnelConnectTimeoutMs);
    this.#open.add(socket);
    this.#open.add(origin);
    origin.once('connect', () => {
      clearTimeout(timer);
      socket.write(ESTABLISHED);
      if (head.length > 0) origin.write(head);
      socket.pipe(origin);
      origin.pipe(socket);
      // Every byte either way crosses the client socket. A half-closed tunnel (the client's FIN
      // passed on, the origin keeping its side open) ends here too once nothing moves.
      const unwatch = this.#idle.watch(() => socket.bytesRead + socket.bytesWritten, () => origin.destroy());
      origin.once('close', unwatch);
    });
    origin.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if ((origin.connecting || origin.bytesRead === 0) && !socket.destroyed && socket.bytesWritten === 0) {
        const code: ErrorCode = err instanceof ProxyError ? err.code : err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN' ? 'UPSTREAM_DNS_FAILED' : 'UPSTREAM_CONNECT_FAILED';
        return refuse(new ProxyError(code, `tunnel to ${target.host}:${target.port}: ${err.message}`, { cause: err }));
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

  /**
   * Answer 200, then hand the client's connection to `server`: through TLS with the leaf
   * `secureContext` resolves to when its first byte is a TLS record, as it is otherwise.
   */
  async intercept(socket: net.Socket, head: Buffer, target: HostPort, client: ClientInfo, server: http.Server, secureContext: Promise<tls.SecureContext>): Promise<void> {
    const started = performance.now();
    secureContext.catch(() => undefined); // awaited only when the client starts TLS
    this.#stats.intercepts++;
    this.#open.add(socket);
    socket.on('close', () => this.#open.delete(socket));
    socket.write(ESTABLISHED);
    const first = head.length > 0 ? head : await firstChunk(socket, this.#options.connectFirstByteTimeoutMs);
    if (first instanceof ProxyError) events.error.publish({ error: first });
    if (!(first instanceof Buffer)) return;
    socket.pause();
    socket.unshift(first);
    if (first[0] !== 0x16) {
      // Not TLS (plain HTTP or WebSocket through CONNECT): the same server reads it as is.
      this.#handOver(server, socket, socket, { target, client, tls: false });
      socket.resume();
      return;
    }
    let context: tls.SecureContext;
    try {
      context = await secureContext;
    } catch (err) {
      events.error.publish({ error: toProxyError(err) });
      return void socket.destroy();
    }
    const tlsSocket = acceptClientTls(socket, context, this.#options.tlsHandshakeTimeoutMs);
    this.#open.add(tlsSocket);
    tlsSocket.on('error', (err: NodeJS.ErrnoException) => {
      const error = err instanceof ProxyError ? err : new ProxyError('CLIENT_TLS_FAILED', `TLS with client for ${target.host}: ${err.code ?? err.message}`, { cause: err });
      events.error.publish({ error });
      tlsSocket.destroy();
    });
    tlsSocket.on('close', () => {
      this.#open.delete(tlsSocket);
      events.tunnelEnd.publish({ host: target.host, mode: 'intercept', bytesUp: tlsSocket.bytesRead, bytesDown: tlsSocket.bytesWritten, durationMs: performance.now() - started });
    });
    tlsSocket.once('secure', () => this.#handOver(server, tlsSocket, socket, { target, client, tls: true }));
  }

  /**
   * The HTTP server reads `socket` from here. It is closed once no byte moved either way for
   * tunnelIdleTimeoutMs, also where the server's own timers no longer apply (after an upgrade).
   */
  #handOver(server: http.Server, socket: net.Socket, raw: net.Socket, tunnel: Tunnel): void {
    this.#intercepted.set(socket, tunnel);
    const unwatch = this.#idle.watch(
      () => socket.bytesRead + socket.bytesWritten,
      () => {
        socket.destroy();
        raw.destroy();
      },
    );
    socket.once('close', unwatch);
    server.emit('connection', socket);
  }
}
