// The fields of one violation alert: those of the violation log line (src/log/violation-log.ts),
// with the time, so a SIEM or chat hook sees what the log says. Never content, never the query.
import type { VerdictEvent } from '../core/events.js';

export interface AlertFields {
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
  violations: string[];
  reason: string | undefined;
  sizeBytes: number;
  sha256: string | undefined;
}

/** Blocks and monitored violations raise an alert; passes and fail-open passes do not. */
export function isAlert(event: VerdictEvent): boolean {
  return event.verdict.action === 'block' || event.monitored;
}

export function alertFields(event: VerdictEvent, now = new Date()): AlertFields {
  const { exchange, verdict } = event;
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
    violations: [...verdict.violations],
    reason: verdict.reason,
    sizeBytes: event.sizeBytes,
    sha256: event.sha256,
  };
}
