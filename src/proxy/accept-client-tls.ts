// An intercepted CONNECT between our 200 and its first HTTP request, each step bounded:
//
//   200 sent ──first byte (connectFirstByteTimeoutMs)──► 0x16? ──handshake (tlsHandshakeTimeoutMs)──► secure
//                                                        └─ else plain HTTP: the server's header timeout
//
// The CONNECT socket comes from an http.Server, which allows half-open connections, and a
// TLSSocket over it inherits that: a client that half-closed (FIN) before the handshake completed
// left both sockets open for ever (counted as a client, and a drain waited its deadline for them).
// Until the handshake completes nobody else ends them, so both steps close on FIN.
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { ProxyError } from '../core/errors.js';

/**
 * The first bytes the client sends after our 200. Undefined when it closed or failed first; a
 * ProxyError when it sent nothing for `timeoutMs`. Either way the socket is then destroyed.
 */
export function firstChunk(socket: Duplex, timeoutMs: number): Promise<Buffer | ProxyError | undefined> {
  return new Promise((resolve) => {
    const finish = (result: Buffer | ProxyError | undefined) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.off('error', onEnd);
      if (!(result instanceof Buffer)) socket.destroy();
      resolve(result);
    };
    const onData = (chunk: Buffer) => finish(chunk);
    const onEnd = () => finish(undefined);
    const timer = setTimeout(() => finish(new ProxyError('CLIENT_IDLE_TIMEOUT', `nothing sent within ${timeoutMs} ms of the CONNECT's 200`)), timeoutMs);
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
    socket.once('error', onEnd);
  });
}

/**
 * Terminate the client's TLS on the CONNECT socket with our leaf. The TLSSocket is destroyed with
 * a ProxyError (CLIENT_TLS_HANDSHAKE_TIMEOUT) when the handshake has not completed within
 * `handshakeTimeoutMs`, destroyed when the client half-closes before it completes, and takes the
 * CONNECT socket down with it when it closes. The caller adds its 'error' listener at once.
 */
export function acceptClientTls(socket: net.Socket, secureContext: tls.SecureContext, handshakeTimeoutMs: number): tls.TLSSocket {
  const tlsSocket = new tls.TLSSocket(socket, {
    isServer: true,
    secureContext,
    ALPNProtocols: ['http/1.1'],
    // A client that names another host in SNI than in CONNECT gets a leaf for the CONNECT
    // target all the same: the request's Host must match that target anyway.
    SNICallback: (_servername, cb) => cb(null, secureContext),
  });
  const timer = setTimeout(
    () => tlsSocket.destroy(new ProxyError('CLIENT_TLS_HANDSHAKE_TIMEOUT', `no TLS handshake within ${handshakeTimeoutMs} ms`)),
    handshakeTimeoutMs,
  );
  const onEnd = () => tlsSocket.destroy();
  tlsSocket.once('end', onEnd);
  tlsSocket.once('secure', () => {
    // From here the HTTP server reads it and ends it on FIN (httpAllowHalfOpen is false).
    clearTimeout(timer);
    tlsSocket.off('end', onEnd);
  });
  tlsSocket.once('close', () => {
    clearTimeout(timer);
    socket.destroy();
  });
  return tlsSocket;
}
