// The fields of one violation: what the violation log line and the webhook alerts carry, from one
// mapping, so a SIEM or chat hook sees exactly what the log says. Never content, never the query.
import type { VerdictEvent } from '../core/events.js';
import { violationNames } from '../core/violations.js';

export interface ViolationFields {
  incident: string;
  time: string;
  client: string;
  user: string | undefined;
  method: string;
  host: string;
  path: string;
  direction: string;
  service: string | undefined;
  istag: string | undefined;
  rule: string;
  action: string;
  source: string;
  /** finding names without their counts (what alert routes and incident filters match; the block page shows the counts) */
  violations: string[];
  reason: string | undefined;
  sizeBytes: number;
  sha256: string | undefined;
}

/** Blocks and monitored violations are violations; passes and fail-open passes are not. */
export function isViolation(event: VerdictEvent): boolean {
  return event.verdict.action === 'block' || event.monitored;
}

export function violationFields(event: VerdictEvent, now = new Date()): ViolationFields {
  const { exchange, verdict } = event;
  const { names } = violationNames(verdict.violations);
  return {
    incident: exchange.id,
    time: now.toISOString(),
    client: exchange.client.ip,
    user: exchange.client.user,
    method: exchange.method,
    host: exchange.host,
    path: exchange.path,
    direction: event.direction,
    service: event.service || undefined,
    istag: event.istag,
    rule: event.rule,
    action: event.monitored ? 'monitor' : verdict.action,
    source: verdict.source,
    violations: names,
    reason: verdict.reason,
    sizeBytes: event.sizeBytes,
    sha256: event.sha256,
  };
}
