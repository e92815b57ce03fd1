// undici's `connect` for origin connections: every socket it opens passes the destination guard
// (an IP literal is refused before dialling, a name through the guard's lookup so that the address
// connected is the one checked), TLS verifies against the one trust context built at start, and
// the connect timeout names its moment. The pool owns the socket from the callback on.
import net from 'node:net';
import tls from 'node:tls';
import type { buildConnector } from 'undici';
import { ProxyError } from '../core/errors.js';
import type { DestinationGuard } from './destination-guard.js';

export interface GuardedConnectorOptions {
  guard: DestinationGuard;
  /** the trusted roots as one secure context (see OriginClient) */
  trust: tls.SecureContext;
  rejectUnauthorized: boolean;
  connectTimeoutMs: number;
  /** TCP keep-alive probe delay on idle pooled sockets */
  keepAliveMs: number;
}

/** TLS sessions kept for resumption (node's https.Agent keeps 100 by default). */
const MAX_SESSIONS = 100;

export function guardedConnector(options: GuardedConnectorOptions): buildConnector.connector {
  const { guard, trust, rejectUnauthorized, connectTimeoutMs, keepAliveMs } = options;
  const sessions = new Map<string, Buffer>();

  return ({ hostname, protocol, port: portText }, callback) => {
    const https = protocol === 'https:';
    const port = Number(portText) || (https ? 443 : 80);
    const refused = guard.check(hostname, port);
    if (refused) return callback(refused, null);

    const lookup = guard.lookupFor(port);
    // SNI only for names (RFC 6066 §3: "Literal IPv4 and IPv6 addresses are not permitted").
    const servername = https && net.isIP(hostname) === 0 ? hostname : undefined;
    const sessionKey = `${hostname}:${port}`;
    const socket: net.Socket = https
      ? tls.connect({ host: hostname, port, servername, secureContext: trust, rejectUnauthorized, ALPNProtocols: ['http/1.1'], session: sessions.get(sessionKey), lookup })
      : net.connect({ host: hostname, port, lookup });
    socket.setNoDelay(true);
    socket.setKeepAlive(true, keepAliveMs);
    if (https) {
      socket.on('session', (session: Buffer) => {
        if (sessions.size >= MAX_SESSIONS && !sessions.has(sessionKey)) sessions.delete(sessions.keys().next().value!);
        sessions.set(sessionKey, session);
      });
    }

    let settled = false;
    const settle = (err: Error | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off('error', settle);
      if (err) {
        socket.destroy();
        // a session that failed to resume is not offered again
        if (https) sessions.delete(sessionKey);
        callback(err, null);
      } else callback(null, socket);
    };
    const timer = setTimeout(
      () => settle(new ProxyError('UPSTREAM_CONNECT_TIMEOUT', `${hostname}:${port}: connect did not complete within ${connectTimeoutMs} ms`)),
      connectTimeoutMs,
    );
    socket.once(https ? 'secureConnect' : 'connect', () => settle(null));
    socket.once('error', settle);
  };
}
