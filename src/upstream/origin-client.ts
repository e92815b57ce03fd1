// Requests to origins: keep-alive agents per scheme, TLS verified against trustedRoots(), and the
// three timeouts of a hop (connect, response head, idle). Failures become ProxyErrors whose
// code names the moment (UPSTREAM_DNS_FAILED, UPSTREAM_TLS_FAILED, UPSTREAM_HEADERS_TIMEOUT…).
// Every origin socket (requests, upgrades, CONNECT tunnels) is made through the destination
// guard: a refused destination fails with UPSTREAM_DESTINATION_FORBIDDEN before any connection.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { ProxyError, type ErrorCode } from '../core/errors.js';
import { DestinationGuard, type ListenerRole } from './destination-guard.js';
import { trustedRoots } from './trust.js';

export interface UpstreamOptions {
  extraCaFiles: readonly string[];
  rejectUnauthorized: boolean;
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  idleTimeoutMs: number;
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

const TLS_ERROR = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO|HOSTNAME|ERR_TLS|EPROTO|DEPTH_ZERO/;

/** Map a socket-level failure to the code that names it. */
export function upstreamErrorCode(err: NodeJS.ErrnoException): ErrorCode {
  const code = err.code ?? '';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_FAIL' || code === 'EAI_NONAME') return 'UPSTREAM_DNS_FAILED';
  if (code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'EADDRNOTAVAIL') return 'UPSTREAM_CONNECT_FAILED';
  if (TLS_ERROR.test(code)) return 'UPSTREAM_TLS_FAILED';
  return 'UPSTREAM_READ_FAILED';
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

export class OriginClient {
  readonly #options: UpstreamOptions;
  readonly #guard: DestinationGuard;
  readonly #httpAgent: http.Agent;
  readonly #httpsAgent: https.Agent;
  /** for upgrades: one connection each, never pooled (agent: false made a new agent per request) */
  readonly #upgradeHttpAgent: http.Agent;
  readonly #upgradeHttpsAgent: https.Agent;
  /**
   * The trusted roots as one secure context, built once. Passing `ca` to an agent instead makes
   * node rebuild the root store for every new origin connection (~80 ms of blocked event loop for
   * ~140 roots) and hash the whole PEM list into the agent key on every request.
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
    const agentOptions = {
      keepAlive: true,
      keepAliveMsecs: options.keepAliveMs,
      maxSockets: options.maxSocketsPerHost,
      maxFreeSockets: 64,
      scheduling: 'lifo' as const,
    };
    this.#httpAgent = new GuardedHttpAgent(agentOptions, this.#guard);
    this.#httpsAgent = new GuardedHttpsAgent(
      {
        ...agentOptions,
        secureContext: this.#trust,
        rejectUnauthorized: options.rejectUnauthorized,
      },
      this.#guard,
    );
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

  /**
   * Open a request to the origin. The caller writes (or pipes) the body into `request`; the
   * response head arrives through `response` (rejects with a ProxyError). The idle timeout
   * stays armed for the whole exchange, body included.
   */
  open(target: OriginTarget, head: OriginRequest): { request: http.ClientRequest; response: Promise<http.IncomingMessage> } {
    const options = this.#options;
    const tlsTarget = target.scheme === 'https';
    const request = this.#request(target, head, { agent: tlsTarget ? this.#httpsAgent : this.#httpAgent });
    request.setNoDelay(true);

    const response = new Promise<http.IncomingMessage>((resolve, reject) => {
      let settled = false;
      const failWith = (error: ProxyError) => {
        if (!settled) {
          settled = true;
          clearTimeout(headersTimer);
          reject(error);
        }
        request.destroy(error);
      };
      const fail = (code: ErrorCode, message: string, cause?: unknown) =>
        failWith(new ProxyError(code, `${target.host}:${target.port}: ${message}`, { cause }));
      const headersTimer = setTimeout(
        () => fail('UPSTREAM_HEADERS_TIMEOUT', `no response head within ${options.headersTimeoutMs} ms`),
        options.headersTimeoutMs,
      );
      request.on('socket', (socket) => {
        const connecting = (socket as net.Socket).connecting;
        if (!connecting) return;
        const connectTimer = setTimeout(
          () => fail('UPSTREAM_CONNECT_TIMEOUT', `connect did not complete within ${options.connectTimeoutMs} ms`),
          options.connectTimeoutMs,
        );
        socket.once(tlsTarget ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer));
        socket.once('close', () => clearTimeout(connectTimer));
      });
      request.setTimeout(options.idleTimeoutMs, () => fail('UPSTREAM_IDLE_TIMEOUT', `idle for ${options.idleTimeoutMs} ms`));
      request.on('error', (err: NodeJS.ErrnoException) => {
        // ours (a timeout above, the destination guard): code, message and details as they are
        if (err instanceof ProxyError) return failWith(err);
        fail(upstreamErrorCode(err), err.code ? `${err.code} ${err.message}` : err.message, err);
      });
      request.on('response', (res) => {
        clearTimeout(headersTimer);
        if (!settled) {
          settled = true;
          resolve(res);
        }
      });
    });
    // The caller may drop the promise when the exchange already failed elsewhere.
    response.catch(() => undefined);
    return { request, response };
  }

  /** Open a raw byte stream to the origin for an upgraded (WebSocket) exchange. */
  async openUpgrade(target: OriginTarget, head: OriginRequest): Promise<{ response: http.IncomingMessage; socket: Duplex; head: Buffer }> {
    const tlsTarget = target.scheme === 'https';
    const request = this.#request(target, head, {
      agent: tlsTarget ? this.#upgradeHttpsAgent : this.#upgradeHttpAgent,
      ...(tlsTarget ? { secureContext: this.#trust, rejectUnauthorized: this.#options.rejectUnauthorized } : {}),
      timeout: this.#options.connectTimeoutMs,
    });
    return new Promise((resolve, reject) => {
      request.on('timeout', () => request.destroy(new ProxyError('UPSTREAM_CONNECT_TIMEOUT', `${target.host}:${target.port}: no answer to the upgrade`)));
      request.on('error', (err: NodeJS.ErrnoException) =>
        reject(err instanceof ProxyError ? err : new ProxyError(upstreamErrorCode(err), `${target.host}:${target.port}: ${err.message}`, { cause: err })),
      );
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

  #request(target: OriginTarget, head: OriginRequest, extra: https.RequestOptions): http.ClientRequest {
    const tlsTarget = target.scheme === 'https';
    return (tlsTarget ? https : http).request({
      host: target.host,
      port: target.port,
      method: head.method,
      path: head.path,
      headers: head.headers,
      servername: tlsTarget && net.isIP(target.host) === 0 ? target.host : undefined,
      setHost: false,
      ...extra,
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

  close(): void {
    this.#httpAgent.destroy();
    this.#httpsAgent.destroy();
    this.#upgradeHttpAgent.destroy();
    this.#upgradeHttpsAgent.destroy();
  }
}
