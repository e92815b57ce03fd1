// How loud a failed hop is, and what the operator can do about it: a defect of ours (INTERNAL) at
// error with its stack; a client that refused our certificate at info with the fix (it does not
// trust the proxy CA); other client trouble (clients that go away) at debug; origin and ICAP
// trouble at warn.
import type { ProxyError } from '../core/errors.js';

// TLS alerts a client sends when the certificate it was shown chains to no CA it trusts (RFC 8446
// §6.2: bad_certificate 42, certificate_unknown 46, unknown_ca 48), as OpenSSL names them when
// they arrive during our handshake (browsers send unknown_ca or bad_certificate, Java
// certificate_unknown).
const UNTRUSTED_ALERTS: ReadonlyMap<string, string> = new Map([
  ['ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE', 'bad_certificate'],
  ['ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN', 'certificate_unknown'],
  ['ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', 'unknown_ca'],
]);

/** The alert name when a client refused our certificate during an intercepted handshake. */
export function untrustedCaAlert(error: ProxyError): string | undefined {
  if (error.code !== 'CLIENT_TLS_FAILED') return undefined;
  const code = (error.cause as NodeJS.ErrnoException | undefined)?.code;
  return code === undefined ? undefined : UNTRUSTED_ALERTS.get(code);
}

export type HopErrorLevel = 'error' | 'warn' | 'info' | 'debug';

export function hopErrorLevel(error: ProxyError): HopErrorLevel {
  if (error.hop === 'internal') return 'error';
  if (untrustedCaAlert(error) !== undefined) return 'info';
  return error.hop === 'client' ? 'debug' : 'warn';
}
