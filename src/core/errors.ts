// One error type for every hop. The code names the peer and the moment (g3's
// `IcapServerReadFailed`, undici's stable `code`); ERROR_TABLE maps each code to the HTTP status
// shown to the client and to the hop used as a metric label. A block is not an error.

export type Hop = 'client' | 'upstream' | 'icap' | 'scan' | 'spool' | 'config' | 'internal';

export const ERROR_TABLE = {
  // client side
  CLIENT_BAD_REQUEST: { status: 400, hop: 'client' },
  CLIENT_HOST_INVALID: { status: 400, hop: 'client' },
  CLIENT_HOST_MISMATCH: { status: 400, hop: 'client' },
  CLIENT_AUTH_REQUIRED: { status: 407, hop: 'client' },
  CLIENT_FORBIDDEN: { status: 403, hop: 'client' },
  CLIENT_BODY_TOO_LARGE: { status: 413, hop: 'client' },
  CLIENT_READ_FAILED: { status: 400, hop: 'client' },
  CLIENT_WRITE_FAILED: { status: 500, hop: 'client' },
  CLIENT_TLS_FAILED: { status: 400, hop: 'client' },
  CLIENT_TLS_HANDSHAKE_TIMEOUT: { status: 408, hop: 'client' },
  CLIENT_HEADERS_TIMEOUT: { status: 408, hop: 'client' },
  CLIENT_IDLE_TIMEOUT: { status: 408, hop: 'client' },
  CLIENT_TOO_MANY_HEADERS: { status: 431, hop: 'client' },
  CLIENT_TOO_MANY_CONNECTIONS: { status: 429, hop: 'client' },
  CLIENT_LOOP_DETECTED: { status: 403, hop: 'client' },
  CLIENT_RANGE_NOT_SATISFIABLE: { status: 416, hop: 'client' },
  // origin side
  UPSTREAM_DNS_FAILED: { status: 502, hop: 'upstream' },
  UPSTREAM_CONNECT_FAILED: { status: 502, hop: 'upstream' },
  UPSTREAM_CONNECT_TIMEOUT: { status: 504, hop: 'upstream' },
  UPSTREAM_TLS_FAILED: { status: 502, hop: 'upstream' },
  UPSTREAM_HEADERS_TIMEOUT: { status: 504, hop: 'upstream' },
  UPSTREAM_IDLE_TIMEOUT: { status: 504, hop: 'upstream' },
  UPSTREAM_READ_FAILED: { status: 502, hop: 'upstream' },
  UPSTREAM_WRITE_FAILED: { status: 502, hop: 'upstream' },
  /** the destination is the proxy itself, link-local/metadata, or refused by upstream.allow/denyDestinations */
  UPSTREAM_DESTINATION_FORBIDDEN: { status: 403, hop: 'upstream' },
  // ICAP side (RFC 3507 client)
  ICAP_CONNECT_FAILED: { status: 503, hop: 'icap' },
  ICAP_CONNECT_TIMEOUT: { status: 503, hop: 'icap' },
  ICAP_TLS_FAILED: { status: 503, hop: 'icap' },
  ICAP_TLS_CLIENT_CERT_REJECTED: { status: 503, hop: 'icap' },
  ICAP_WRITE_FAILED: { status: 503, hop: 'icap' },
  ICAP_READ_FAILED: { status: 503, hop: 'icap' },
  ICAP_READ_TIMEOUT: { status: 503, hop: 'icap' },
  ICAP_PREVIEW_TIMEOUT: { status: 503, hop: 'icap' },
  ICAP_PROTOCOL_ERROR: { status: 503, hop: 'icap' },
  ICAP_SERVER_ERROR: { status: 503, hop: 'icap' },
  ICAP_OVERLOADED: { status: 503, hop: 'icap' },
  ICAP_QUEUE_TIMEOUT: { status: 503, hop: 'icap' },
  ICAP_METHOD_NOT_SUPPORTED: { status: 503, hop: 'icap' },
  ICAP_ABORTED: { status: 503, hop: 'icap' },
  // scanning outcomes that are not verdicts
  SCAN_OVERSIZE: { status: 403, hop: 'scan' },
  SCAN_UNSCANNABLE: { status: 503, hop: 'scan' },
  // local resources
  SPOOL_FAILED: { status: 500, hop: 'spool' },
  CONFIG_INVALID: { status: 500, hop: 'config' },
  CA_INVALID: { status: 500, hop: 'config' },
  INTERNAL: { status: 500, hop: 'internal' },
} as const satisfies Record<string, { status: number; hop: Hop }>;

export type ErrorCode = keyof typeof ERROR_TABLE;

export class ProxyError extends Error {
  readonly code: ErrorCode;
  /** Extra facts for logs (never a body, never a secret). */
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ProxyError';
    this.code = code;
    this.details = options?.details;
  }

  get status(): number {
    return ERROR_TABLE[this.code].status;
  }

  get hop(): Hop {
    return ERROR_TABLE[this.code].hop;
  }
}

export function isProxyError(err: unknown): err is ProxyError {
  return err instanceof ProxyError;
}

/** Wrap anything thrown into a ProxyError, keeping an existing code. */
export function toProxyError(err: unknown, fallback: ErrorCode = 'INTERNAL'): ProxyError {
  if (err instanceof ProxyError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new ProxyError(fallback, message, { cause: err });
}
