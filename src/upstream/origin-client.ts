// Requests to origins through undici (the Node project's HTTP/1.1 client, its dispatcher API): a
// keep-alive pool per origin, TLS verified against trustedRoots(), and the timeouts of a hop
// (connect, response head, idle). Failures become ProxyErrors whose code names the moment
// (UPSTREAM_DNS_FAILED, UPSTREAM_TLS_FAILED, UPSTREAM_HEADERS_TIMEOUT…). Upgrades (WebSocket) stay
// on node:http with one connection each, CONNECT tunnels on node:net: undici hands an upgraded
// socket over only after its own pool bookkeeping, which buys nothing for a one-off connection.
// Every origin socket is made through the destination guard: a refused destination fails with
// UPSTREAM_DESTINATION_FORBIDDEN before any connection.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Duplex, Readable, Writable } from 'node:stream';
import tls from 'node:tls';
import { Agent } from 'undici';
import { ProxyError } from '../core/errors.js';
import { DestinationGuard, type ListenerRole } from './destination-guard.js';
import { guardedConnector } from './guarded-connector.js';
import { OriginExchange, upstreamError } from './origin-exchange.js';
import type { OriginResponse } from './origin-response.js';
import { trustedRoots } from './trust.js';

export interface UpstreamOptions {
  extraCaFiles: readonly string[];
  rejectUnauthorized: boolean;
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  idleTimeoutMs: number;
  /** how long an idle pooled connection is kept (and the TCP keep-alive probe delay) */
  keepAliveMs: number;
  maxSocketsPerHost: number;
  /** `CIDR[:ports]` entries allowed despite the guard's defaults (link-local; loopback off loopback) */
  allowDestinations: readonly string[];
  /** `CIDR[:ports]` entries always refused */
  denyDestinations: readonly string[];
}

/** Where the proxy itself listens, as far as the destination guard needs it. */
export interface ProxyPlacement {
  /** proxy.host is not a loopback address: loopback and unspecified destinations are refused by default */
  listensOffLoopback: boolean;
}

export interface OriginTarget {
  scheme: 'http' | 'https';
  host: string;
  port: number;
}

export interface OriginRequest {
  method: string;
  /** origin-form: path and query as the client sent them */
  path: string;
  /** flat raw header list, already prepared for this hop */
  headers: string[];
}

/** A request under way: its body's Writable (made only when asked for), its response head. */
export interface OpenedRequest {
  readonly request: Writable;
  readonly response: Promise<OriginResponse>;
  /** the caller gave up (its client left): the request and its connection are dropped */
  abandon(): void;
}

type ConnectCallback = (err: Error | null, stream: Duplex) => void;

/**
 * An agent's createConnection with the guard in front: a refused IP literal never dials; a name
 * resolves through the guard's lookup, so the address connected is the one checked.
 */
function guardedConnection(
  guard: DestinationGuard,
  options: http.ClientRequestArgs,
  callback: ConnectCallback | undefined,
  defaultPort: number,
  create: (options: http.ClientRequestArgs) => Duplex | null | undefined,
): Duplex | null | undefined {
  const port = Number(options.port ?? defaultPort);
  const refused = guard.check(options.host ?? 'localhost', port);
  if (refused) {
    // Agent#createSocket hands an error given to the callback to the request's 'error'.
    callback?.(refused, undefined as unknown as Duplex);
    return undefined;
  }
  return create({ ...options, lookup: guard.lookupFor(port) });
}

class GuardedHttpAgent extends http.Agent {
  readonly #guard: DestinationGuard;
  constructor(options: http.AgentOptions, guard: DestinationGuard) {
    super(options);
    this.#guard = guard;
  }
  override createConnection(options: http.ClientRequestArgs, callback?: ConnectCallback): Duplex | null | undefined {
    return guardedConnection(this.#guard, options, callback, 80, (o) => super.createConnection(o, callback));
  }
}

class GuardedHttpsAgent extends https.Agent {
  readonly #guard: DestinationGuard;
  constructor(options: https.AgentOptions, guard: DestinationGuard) {
    super(options);
    this.#guard = guard;
  }
  override createConnection(options: https.RequestOptions, callback?: ConnectCallback): Duplex | null | undefined {
    return guardedConnection(this.#guard, options, callback, 443, (o) => super.createConnection(o, callback));
  }
}

/**
 * RFC 9110 §10.1.1: the client already had its 100 (Continue) from our front, and undici sends
 * the body at once, so the expectation ends at this hop (undici refuses to send the field).
 */
function withoutExpect(headers: string[]): string[] {
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    if (name.length === 6 && name.toLowerCase() === 'expect') return headers.filter((_, j) => j !== i && j !== i + 1);
  }
  return headers;
}

export class OriginClient {
  readonly #options: UpstreamOptions;
  readonly #guard: DestinationGuard;
  /** a keep-alive pool per origin, every connection made by the guarded connector */
  readonly #agent: Agent;
  /** for upgrades: one connection each, never pooled (agent: false made a new agent per request) */
  readonly #upgradeHttpAgent: http.Agent;
  readonly #upgradeHttpsAgent: https.Agent;
  /**
   * The trusted roots as one secure context, built once. Passing `ca` per connection instead makes
   * node rebuild the root store for every new origin connection (~80 ms of blocked event loop for
   * ~140 roots).
   */
  readonly #trust: tls.SecureContext;

  /** Throws CONFIG_INVALID naming a bad allow/denyDestinations entry. */
  constructor(options: UpstreamOptions, placement: ProxyPlacement) {
    this.#options = options;
    this.#guard = new DestinationGuard({
      allowDestinations: options.allowDestinations,
      denyDestinations: options.denyDestinations,
      listensOffLoopback: placement.listensOffLoopback,
    });
    this.#trust = tls.createSecureContext({ ca: trustedRoots(options.extraCaFiles) });
    this.#agent = new Agent({
      connect: guardedConnector({
        guard: this.#guard,
        trust: this.#trust,
        rejectUnauthorized: options.rejectUnauthorized,
        connectTimeoutMs: options.connectTimeoutMs,
        keepAliveMs: options.keepAliveMs,
      }),
      connections: options.maxSocketsPerHost,
      pipelining: 1,
      keepAliveTimeout: options.keepAliveMs,
      // an origin's `Keep-Alive: timeout=N` may shorten the reuse, never lengthen it
      keepAliveMaxTimeout: options.keepAliveMs,
      // the head has our own timer, started at open() (queueing and connect included)
      headersTimeout: 0,
      // idle between response body bytes; a paused (backpressured) read does not count
      bodyTimeout: options.idleTimeoutMs,
    });
    this.#upgradeHttpAgent = new GuardedHttpAgent({ keepAlive: false }, this.#guard);
    this.#upgradeHttpsAgent = new GuardedHttpsAgent({ keepAlive: false }, this.#guard);
  }

  /**
   * A listener of this process started (proxy, admin, built-in ICAP service): from now on no
   * client reaches its port on any local address through the proxy. Call after listen, with the
   * real port.
   */
  addOwnListener(role: ListenerRole, host: string, port: number): void {
    this.#guard.addOwnListener(role, host, port);
  }

  /** The listeners of `role` on `host` are now exactly `ports` (DestinationGuard.setOwnListeners). */
  setOwnListeners(role: ListenerRole, host: string, ports: readonly number[]): void {
    this.#guard.setOwnListeners(role, host, ports);
  }

  /**
   * Open a request to the origin with its body: a Buffer held whole (it goes out with the head, in
   * one write), null for none (sent at once), or omitted: the caller pipes the body into
   * `request` (or ends it). The response head arrives through `response` (rejects with a
   * ProxyError); reading its body at the caller's pace paces the origin. `abandon()`, or
   * destroying either side, drops the exchange and its connection.
   */
  open(target: OriginTarget, head: OriginRequest, body?: Buffer | null): OpenedRequest {
    const { host, port, scheme } = target;
    const origin = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
    const headers = withoutExpect(head.headers);
    const exchange = new OriginExchange(`${host}:${port}`, head.method, this.#options, (body: Readable | Buffer | null, handler) => {
      // TLS names the origin host itself (guardedConnector), whatever the Host header says.
      this.#agent.dispatch({ origin, method: head.method, path: head.path, headers, body }, handler);
    });
    if (body !== undefined) exchange.start(body);
    return exchange;
  }

  /** Open a raw byte stream to the origin for an upgraded (WebSocket) exchange. */
  async openUpgrade(target: OriginTarget, head: OriginRequest): Promise<{ response: http.IncomingMessage; socket: Duplex; head: Buffer }> {
    const tlsTarget = target.scheme === 'https';
    const request = (tlsTarget ? https : http).request({
      host: target.host,
      port: target.port,
      method: head.method,
      path: head.path,
      headers: head.headers,
      servername: tlsTarget && net.isIP(target.host) === 0 ? target.host : undefined,
      setHost: false,
      agent: tlsTarget ? this.#upgradeHttpsAgent : this.#upgradeHttpAgent,
      ...(tlsTarget ? { secureContext: this.#trust, rejectUnauthorized: this.#options.rejectUnauthorized } : {}),
      timeout: this.#options.connectTimeoutMs,
    });
    return new Promise((resolve, reject) => {
      request.on('timeout', () => request.destroy(new ProxyError('UPSTREAM_CONNECT_TIMEOUT', `${target.host}:${target.port}: no answer to the upgrade`)));
      request.on('error', (err: NodeJS.ErrnoException) => reject(upstreamError(`${target.host}:${target.port}`, err)));
      request.on('upgrade', (response, socket, upgradeHead) => {
        request.setTimeout(0);
        resolve({ response, socket, head: upgradeHead });
      });
      request.on('response', (response) => {
        request.setTimeout(0);
        // The origin refused to switch protocols: hand its answer back as an ordinary response.
        resolve({ response, socket: response.socket, head: Buffer.alloc(0) });
      });
      request.end();
    });
  }

  /**
   * A TCP connection to a CONNECT target (RFC 9110 §9.3.6), guarded like every origin socket. It
   * is returned connecting; a refused destination makes it emit 'error' with the ProxyError on a
   * later tick, so the caller attaches its listeners first. No timer here: the caller keeps its
   * own connect timeout.
   */
  connectTunnel(target: { host: string; port: number }): net.Socket {
    const refused = this.#guard.check(target.host, target.port);
    if (refused) {
      const socket = new net.Socket();
      socket.destroy(refused);
      return socket;
    }
    const socket = net.connect({ host: target.host, port: target.port, lookup: this.#guard.lookupFor(target.port) });
    socket.setNoDelay(true);
    return socket;
  }

  async close(): Promise<void> {
    this.#upgradeHttpAgent.destroy();
    this.#upgradeHttpsAgent.destroy();
    await this.#agent.destroy();
  }
}
