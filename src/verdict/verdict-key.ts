// The verdict cache key. Every part changes what a scan would say about the same bytes: the
// direction (REQMOD and RESPMOD run different checks), the service, its ISTag (RFC 3507 §4.7: a
// new ISTag means earlier answers are stale, e.g. new AV signatures) and the policy version.
import type { Direction } from '../core/types.js';

export interface VerdictKeyParts {
  /** hex SHA-256 of the body */
  sha256: string;
  direction: Direction;
  service: string;
  /** as received, quotes included */
  istag: string;
  policyVersion: string;
}

/** `sha256:direction:service:istag:policyVersion`, with service and ISTag percent-encoded so no part can contain `:`. */
export function verdictKey(parts: VerdictKeyParts): string {
  return `${parts.sha256}:${parts.direction}:${encodeURIComponent(parts.service)}:${encodeURIComponent(parts.istag)}:${parts.policyVersion}`;
}
