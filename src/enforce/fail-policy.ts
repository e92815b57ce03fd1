// Fail-open or fail-closed, decided in one place (DESIGN.md): one table from error code to error
// class, and the service's switch for that class (`failModes.<class>`, else `failMode`).
// A code that is not a scanning failure (spool, client, internal) always fails closed: nothing
// unscanned may pass because the proxy itself broke.
import type { ServiceConfig } from '../config/schema.js';
import type { ErrorCode } from '../core/errors.js';

export type FailClass = keyof ServiceConfig['failModes'];

const FAIL_CLASSES: Partial<Record<ErrorCode, FailClass>> = {
  ICAP_CONNECT_FAILED: 'connect',
  ICAP_CONNECT_TIMEOUT: 'connect',
  ICAP_TLS_FAILED: 'connect',
  ICAP_TLS_CLIENT_CERT_REJECTED: 'connect',
  ICAP_READ_TIMEOUT: 'timeout',
  ICAP_PREVIEW_TIMEOUT: 'timeout',
  ICAP_SERVER_ERROR: 'serverError',
  ICAP_METHOD_NOT_SUPPORTED: 'serverError',
  ICAP_PROTOCOL_ERROR: 'protocolError',
  ICAP_READ_FAILED: 'protocolError',
  ICAP_WRITE_FAILED: 'protocolError',
  ICAP_ABORTED: 'protocolError',
  ICAP_OVERLOADED: 'overload',
  ICAP_QUEUE_TIMEOUT: 'overload',
  SCAN_UNSCANNABLE: 'unscannable',
};

export function failClass(code: ErrorCode): FailClass | undefined {
  return FAIL_CLASSES[code];
}

export function failMode(service: Pick<ServiceConfig, 'failMode' | 'failModes'>, code: ErrorCode): 'open' | 'closed' {
  const cls = FAIL_CLASSES[code];
  if (cls === undefined) return 'closed';
  return service.failModes[cls] ?? service.failMode;
}
