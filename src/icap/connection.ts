// One ICAP connection (plain or TLS) with its response decoder. It is reused only when both
// directions finished cleanly (g3's rule): the last request byte written, the last response
// event read, no `Connection: close`. While idle in the pool it watches for the server closing it,
// so a dead connection is dropped before reuse, and any byte arriving unasked condemns it.
//
//   connecting ──► busy ──(release, clean)──► idle ──(acquire)──► busy
//                   └──(error, close, unclean)──► closed ◄──(server FIN, idle timeout)──┘
import net from 'node:net';
import tls from 'node:tls';
import { ProxyError, type ErrorCode } from '../core/errors.js';
import { IcapResponseDecoder, type IcapResponseEvent } from './codec/index.js';
import type { IcapTarget } from './icap-url.js';
import { peerFailure } from './peer-failure.js';

export interface TlsMaterial {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  servername?: string;
  rejectUnauthorized: boolean;
}

export interface ResponseSink {
  onEvent(event: IcapResponseEvent): void;
  onError(err: ProxyError): void;
}

// Alerts by which a TLS server refuses our client certificate: TLS 1.3 sends
// certificate_required (116) after the handshake, so it surfaces on the first read.
const CLIENT_CERT_REFUSED = new Set([
  'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
  'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
  'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN',
  'ERR_SSL_TLSV1_ALERT_ACCESS_DENIED',
  'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE',
]);

/** Map a socket error to the code naming hop and moment. */
export function socketErrorCode(err: NodeJS.ErrnoException, moment: 'connect' | 'write' | 'read'): ErrorCode {
  const code = err.code ?? '';
  if (CLIENT_CERT_REFUSED.has(code)) return 'ICAP_TLS_CLIENT_CERT_REJECTED';
  if (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET/.test(code)) return 'ICAP_TLS_FAILED';
  return moment === 'connect' ? 'ICAP_CONNECT_FAILED' : moment === 'write' ? 'ICAP_WRITE_FAILED' : 'ICAP_READ_FAILED';
}

export function connectIcap(target: IcapTarget, options: { connectTimeoutMs: number; tls?: TlsMaterial | undefined }): Promise<IcapConnection> {
  return new Promise((resolve, reject) => {
    const secure = target.secure;
    const details = { server: target.label, moment: 'connect' };
    let socket: net.Socket;
    try {
      socket = secure
        ? tls.connect({
            host: target.host,
            port: target.port,
            servername: options.tls?.servername ?? (net.isIP(target.host) ? undefined : target.host),
            ca: options.tls?.ca,
            cert: options.tls?.cert,
            key: options.tls?.key,
            rejectUnauthorized: options.tls?.rejectUnauthorized ?? true,
          })
        : net.connect({ host: target.host, port: target.port });
    } catch (err) {
      // OpenSSL refusing the operator's key, certificate or CA file (ERR_OSSL_*) is the TLS
      // configuration of this hop, as an unreadable file is (tls-files.ts); anything else is ours.
      const code = (err as NodeJS.ErrnoException).code ?? '';
      if (secure && code.startsWith('ERR_OSSL_')) {
        reject(new ProxyError('ICAP_TLS_FAILED', `ICAP connect to ${target.label}: unusable TLS material: ${(err as Error).message}`, { cause: err, details: { ...details, errno: code } }));
      } else reject(peerFailure(err, 'ICAP_CONNECT_FAILED', details));
      return;
    }
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new ProxyError('ICAP_CONNECT_TIMEOUT', `ICAP connect to ${target.label} timed out after ${options.connectTimeoutMs} ms`, { details }));
    }, options.connectTimeoutMs);
    const onError = (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      const code = socketErrorCode(err, 'connect');
      reject(new ProxyError(code, `ICAP connect to ${target.label} failed: ${err.message}`, { cause: err, details: { ...details, errno: err.code } }));
    };
    socket.once('error', onError);
    socket.once(secure ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      // RFC 3507 head and preview go in separate writes at times; Nagle + delayed ACK cost ~40 ms.
      socket.setNoDelay(true);
      resolve(new IcapConnection(socket, target));
    });
  });
}

export class IcapConnection {
  readonly target: IcapTarget;
  private readonly socket: net.Socket;
  private readonly decoder = new IcapResponseDecoder();
  private sink: ResponseSink | null = null;
  private closedFlag = false;
  private failure: ProxyError | null = null;
  /**
   * The idle timer: one Timeout for the connection's life, re-armed by refresh() on each sign of
   * progress rather than replaced (a new one per event was a timer object and a closure each time).
   * Unref'd: the socket keeps the process alive. Disarmed, it stays scheduled; a tick that comes
   * then is stale and does nothing.
   */
  private timer: NodeJS.Timeout | null = null;
  /** the duration `timer` was made with */
  private timerMs = 0;
  private armed = false;
  /** what we wait on: ms (0: nothing), the error code and the moment named when it runs out */
  private waitMs = 0;
  private waitCode: ErrorCode = 'ICAP_READ_TIMEOUT';
  private waitMoment = '';
  private readonly closeListeners: Array<() => void> = [];
  /** writes the socket has not yet confirmed, in order (the socket calls back in write order) */
  private readonly writes: Array<{ resolve(): void; reject(err: ProxyError): void; ok: boolean }> = [];
  private readonly onWritten = (err?: Error | null): void => this.written(err);
  /** transactions completed on this connection */
  transactions = 0;

  constructor(socket: net.Socket, target: IcapTarget) {
    this.socket = socket;
    this.target = target;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      this.fail(new ProxyError(socketErrorCode(err, 'read'), `ICAP connection to ${target.label} failed: ${err.message}`, { cause: err, details: { server: target.label, errno: err.code } }));
    });
    socket.on('end', () => {
      try {
        this.decoder.finish();
        if (this.sink) this.fail(new ProxyError('ICAP_READ_FAILED', `ICAP server ${target.label} closed the connection before answering`, { details: { server: target.label } }));
      } catch (err) {
        this.fail(protocolError(err, target));
      }
      this.destroy();
    });
    socket.on('close', () => {
      this.closedFlag = true;
      this.clearTimer();
      for (const pending of this.writes.splice(0)) {
        pending.reject(this.failure ?? new ProxyError('ICAP_WRITE_FAILED', `ICAP connection to ${target.label} closed while sending`, { details: { server: target.label } }));
      }
      if (this.sink) this.fail(new ProxyError('ICAP_READ_FAILED', `ICAP connection to ${target.label} closed`, { details: { server: target.label } }));
      for (const fn of this.closeListeners.splice(0)) fn();
    });
  }

  /** Still usable: open, not failed, nothing half-read. */
  get reusable(): boolean {
    return !this.closedFlag && !this.socket.destroyed && this.failure === null && this.decoder.idle && this.socket.writable;
  }

  get closed(): boolean {
    return this.closedFlag || this.socket.destroyed;
  }

  onClose(fn: () => void): void {
    if (this.closed) fn();
    else this.closeListeners.push(fn);
  }

  attach(sink: ResponseSink): void {
    if (this.failure) throw this.failure;
    this.sink = sink;
  }

  detach(): void {
    this.sink = null;
    this.armed = false;
  }

  /**
   * Write bytes as one writev (cork/uncork); resolves once the socket handed them all to the
   * kernel (the last write's callback), so the caller may reuse the buffers.
   */
  write(chunks: Buffer[]): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new ProxyError('ICAP_WRITE_FAILED', `ICAP connection to ${this.target.label} is closed`, { details: { server: this.target.label } }));
    if (chunks.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const pending = { resolve, reject, ok: true };
      this.writes.push(pending);
      this.socket.cork();
      for (let i = 0; i < chunks.length; i++) pending.ok = this.socket.write(chunks[i]!, i === chunks.length - 1 ? this.onWritten : undefined) && pending.ok;
      this.socket.uncork();
    });
  }

  /** The socket's callback for the last chunk of the oldest write not yet confirmed. */
  private written(err?: Error | null): void {
    const pending = this.writes.shift();
    if (!pending) return; // already failed by the socket's close
    if (err) {
      const code = socketErrorCode(err as NodeJS.ErrnoException, 'write');
      pending.reject(this.failure ?? new ProxyError(code, `ICAP write to ${this.target.label} failed: ${err.message}`, { cause: err, details: { server: this.target.label } }));
      return;
    }
    // The server had stopped reading: its progress counts against the idle timer.
    if (!pending.ok) this.touch();
    pending.resolve();
  }

  /** Arm the idle timer for what we wait on (preview answer, response bytes); reset by progress. */
  expect(ms: number, code: ErrorCode, moment: string): void {
    this.waitMs = ms;
    this.waitCode = code;
    this.waitMoment = moment;
    this.touch();
  }

  /** Stop the idle timer (waiting on our own consumer, not on the server). */
  relax(): void {
    this.waitMs = 0;
    this.armed = false;
  }

  pause(): void {
    this.socket.pause();
    this.armed = false;
  }

  resume(): void {
    this.socket.resume();
    this.touch();
  }

  destroy(err?: ProxyError): void {
    if (err && !this.failure) this.failure = err;
    this.clearTimer();
    this.socket.destroy();
  }

  private touch(): void {
    if (this.waitMs === 0 || this.closed || this.socket.isPaused()) {
      this.armed = false;
      return;
    }
    this.armed = true;
    if (this.timer !== null && this.timerMs === this.waitMs) {
      this.timer.refresh();
      return;
    }
    if (this.timer !== null) clearTimeout(this.timer);
    this.timerMs = this.waitMs;
    this.timer = setTimeout(() => this.idle(), this.waitMs).unref();
  }

  /** The timer ran out: the server sent nothing for the time we wait on, unless disarmed since. */
  private idle(): void {
    if (!this.armed) return;
    const ms = this.waitMs;
    const moment = this.waitMoment;
    this.fail(new ProxyError(this.waitCode, `ICAP server ${this.target.label} sent nothing for ${ms} ms (${moment})`, { details: { server: this.target.label, moment, timeoutMs: ms } }));
    this.destroy();
  }

  private clearTimer(): void {
    this.armed = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private onData(chunk: Buffer): void {
    if (!this.sink) {
      // Bytes nobody asked for: the connection's framing can no longer be trusted.
      this.destroy(new ProxyError('ICAP_PROTOCOL_ERROR', `ICAP server ${this.target.label} sent data on an idle connection`, { details: { server: this.target.label } }));
      return;
    }
    this.touch();
    try {
      // A throw from the reader handling an event is ours, not the peer's; caught here it fails
      // this transaction as INTERNAL instead of escaping the socket's 'data' listener.
      for (const event of this.decoder.push(chunk)) this.sink?.onEvent(event);
    } catch (err) {
      this.fail(protocolError(err, this.target));
      this.destroy();
    }
  }

  private fail(err: ProxyError): void {
    if (!this.failure) this.failure = err;
    const sink = this.sink;
    this.sink = null;
    this.clearTimer();
    sink?.onError(this.failure);
  }
}

/** The codec's parse errors are the server's (ICAP_PROTOCOL_ERROR); anything else is INTERNAL. */
function protocolError(err: unknown, target: IcapTarget): ProxyError {
  return peerFailure(err, 'ICAP_PROTOCOL_ERROR', { server: target.label });
}
