// One stored incident: exactly the fields of the violation log line (log/violation-fields.ts),
// one record per block and per monitored violation. Never content, never a query string, never a
// credential. An exchange can yield several records under one incident id (a monitored upload
// and a blocked download, monitored WebSocket messages), so the id is not a unique key.
import type { ViolationFields } from '../log/violation-fields.js';

export interface IncidentRecord {
  incident: string;
  /** ISO 8601 with milliseconds, UTC (Date#toISOString) */
  time: string;
  client: string;
  user?: string;
  method: string;
  host: string;
  /** without the query */
  path: string;
  direction: 'upload' | 'download';
  rule: string;
  /** the ICAP service; absent when the policy itself blocked (no scan) */
  service?: string;
  istag?: string;
  source: string;
  violations: string[];
  /** why, as the block page says it (the ICAP server's reason, oversize, ...) */
  reason?: string;
  sizeBytes: number;
  sha256?: string;
  action: 'block' | 'monitor';
}

/**
 * Longest value kept per field, in characters. A path or a host comes from traffic and may be as
 * long as proxy.maxHeaderBytes allows; unbounded, a client could make every queued record tens of
 * kilobytes (queueSize × 64 KiB of heap) and fill the store's cap with one field. What is cut
 * ends in "…"; the violation log line keeps the whole value.
 */
export const FIELD_LIMITS = { text: 256, path: 2048, reason: 1024, violations: 64 } as const;

function cut(value: string, max: number): string {
  return value.length <= max ? value : `${value.slice(0, max - 1)}…`;
}

/** The record of one violation's log fields (isViolation(event) was true), each field bounded. */
export function toIncidentRecord(fields: ViolationFields): IncidentRecord {
  return boundRecord({
    incident: fields.incident,
    time: fields.time,
    client: fields.client,
    ...(fields.user !== undefined ? { user: fields.user } : {}),
    method: fields.method,
    host: fields.host,
    path: fields.path,
    direction: fields.direction === 'download' ? 'download' : 'upload',
    rule: fields.rule,
    ...(fields.service !== undefined ? { service: fields.service } : {}),
    ...(fields.istag !== undefined ? { istag: fields.istag } : {}),
    source: fields.source,
    violations: [...fields.violations],
    ...(fields.reason !== undefined ? { reason: fields.reason } : {}),
    sizeBytes: fields.sizeBytes,
    ...(fields.sha256 !== undefined ? { sha256: fields.sha256 } : {}),
    action: fields.action === 'monitor' ? 'monitor' : 'block',
  });
}

/** The same record with every field within FIELD_LIMITS (also applied to what a cluster worker sends). */
export function boundRecord(record: IncidentRecord): IncidentRecord {
  const { text, path, reason, violations } = FIELD_LIMITS;
  const out: IncidentRecord = {
    ...record,
    incident: cut(record.incident, text),
    client: cut(record.client, text),
    method: cut(record.method, text),
    host: cut(record.host, text),
    path: cut(record.path, path),
    rule: cut(record.rule, text),
    source: cut(record.source, text),
    violations: record.violations.slice(0, violations).map((v) => cut(v, text)),
  };
  if (record.user !== undefined) out.user = cut(record.user, text);
  if (record.service !== undefined) out.service = cut(record.service, text);
  if (record.istag !== undefined) out.istag = cut(record.istag, text);
  if (record.reason !== undefined) out.reason = cut(record.reason, reason);
  if (record.sha256 !== undefined) out.sha256 = cut(record.sha256, text);
  return out;
}

const optionalString = (v: unknown) => v === undefined || typeof v === 'string';

/**
 * A record as another process sent it (a cluster worker, over IPC): the shape checked before it
 * goes into a batch, so one malformed record cannot fail the transaction of the others.
 */
export function isIncidentRecord(value: unknown): value is IncidentRecord {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  return (
    typeof r.incident === 'string' &&
    typeof r.time === 'string' &&
    Number.isFinite(Date.parse(r.time)) &&
    typeof r.client === 'string' &&
    optionalString(r.user) &&
    typeof r.method === 'string' &&
    typeof r.host === 'string' &&
    typeof r.path === 'string' &&
    (r.direction === 'upload' || r.direction === 'download') &&
    typeof r.rule === 'string' &&
    optionalString(r.service) &&
    optionalString(r.istag) &&
    typeof r.source === 'string' &&
    Array.isArray(r.violations) &&
    r.violations.every((v) => typeof v === 'string') &&
    optionalString(r.reason) &&
    typeof r.sizeBytes === 'number' &&
    Number.isFinite(r.sizeBytes) &&
    optionalString(r.sha256) &&
    (r.action === 'block' || r.action === 'monitor')
  );
}
