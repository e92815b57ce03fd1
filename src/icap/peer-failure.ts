// Whose failure is it? Only what a peer did gets a peer's code: a socket error carrying an errno
// name, a TLS error, a stream cut short, bytes the codec could not parse (IcapParseError).
// Timeouts are raised by our own timers as ProxyErrors already (connection.ts, pool.ts) and pass
// through unchanged. Anything else thrown inside the ICAP path (a TypeError, a RangeError, an
// encoder refusing a value, an Error without a code) is a defect of ours: INTERNAL, with the
// original as cause, so that no fail-open switch can pass a body because of our own bug
// (DESIGN.md invariant 7; undici lets errors it did not make pass through untouched).
import { ProxyError, type ErrorCode } from '../core/errors.js';
import { isIcapParseError } from './codec/index.js';

// errno names (ECONNRESET, EPIPE, ETIMEDOUT, EAI_AGAIN...); Node's own ERR_* codes name misuse.
const ERRNO = /^E(?!RR_)[A-Z0-9_]+$/;
// OpenSSL errors, and certificate verification results (CERT_HAS_EXPIRED, UNABLE_TO_VERIFY_...).
const TLS = /^ERR_(SSL|TLS)_|^(?!ERR_)\w*(CERT|SELF_SIGNED|UNABLE_TO_)/;
// A stream the other side ended early (a client gone in the middle of its body).
const CUT_SHORT = 'ERR_STREAM_PREMATURE_CLOSE';

/** A failure caused by the peer's socket, TLS or stream, as opposed to one of our own making. */
export function isPeerError(err: unknown): boolean {
  if (!(err instanceof Error) || err instanceof TypeError || err instanceof RangeError) return false;
  const code = (err as NodeJS.ErrnoException).code;
  return typeof code === 'string' && (ERRNO.test(code) || TLS.test(code) || code === CUT_SHORT);
}

/**
 * The ProxyError for anything caught in the ICAP path: a ProxyError as it is, the codec's parse
 * errors as ICAP_PROTOCOL_ERROR, a peer's socket/TLS error as `peerCode`, anything else INTERNAL.
 * `details.server` (host:port), when given, names the server in the message.
 */
export function peerFailure(err: unknown, peerCode: ErrorCode, details: { server?: string } & Record<string, unknown> = {}): ProxyError {
  if (err instanceof ProxyError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (isIcapParseError(err)) {
    const who = details.server === undefined ? 'the ICAP server' : `ICAP server ${details.server}`;
    return new ProxyError('ICAP_PROTOCOL_ERROR', `${who} sent an invalid response: ${message}`, { cause: err, details: { ...details, reason: err.reason } });
  }
  if (isPeerError(err)) {
    return new ProxyError(peerCode, message, { cause: err, details: { ...details, errno: (err as NodeJS.ErrnoException).code } });
  }
  const kind = err instanceof Error ? err.name : typeof err;
  return new ProxyError('INTERNAL', `internal error in the ICAP client (${kind}): ${message}`, { cause: err, details });
}
