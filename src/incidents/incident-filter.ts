// IncidentQuery → SQL. Every value is a bound parameter; column names come from a fixed list.
// Newest first, ties broken by incident id then row number, so a cursor names one position and a
// page never repeats or skips a record (keyset paging: the next page is a range scan of the same
// index from the cursor on, whatever the depth; OFFSET would read every skipped row).
import { ProxyError } from '../core/errors.js';
import { MAX_QUERY_LIMIT, type IncidentCursor, type IncidentQuery } from './incident-reader.js';

const EQUALITY_FILTERS = ['user', 'client', 'host', 'rule', 'direction', 'action'] as const;

export interface Filter {
  /** `FROM ... WHERE ...`: the incidents as `i`, joined to their violation names as `v` when filtered by one */
  from: string;
  params: Record<string, string | number>;
}

function bad(message: string): ProxyError {
  return new ProxyError('CLIENT_BAD_REQUEST', `incident query: ${message}`);
}

function timeMs(value: unknown, name: string): number {
  const ms = value instanceof Date ? value.getTime() : Number.NaN;
  if (!Number.isFinite(ms)) throw bad(`${name} is not a valid date`);
  return ms;
}

/**
 * The query's filters without the cursor (what `total` counts) and with it (what the page reads).
 * Filtered by a violation name, the rows are read from incident_violations' (name, time_ms) key
 * and joined to their record, so the newest matches come first without sorting every match.
 */
export function incidentFilter(q: IncidentQuery): { count: Filter; page: Filter; order: string; limit: number } {
  if (!Number.isInteger(q.limit) || q.limit < 1 || q.limit > MAX_QUERY_LIMIT) throw bad(`limit must be an integer from 1 to ${MAX_QUERY_LIMIT}`);
  const byViolation = q.violation !== undefined;
  const time = byViolation ? 'v.time_ms' : 'i.time_ms';
  const conditions: string[] = [];
  const params: Record<string, string | number> = {};
  if (q.violation !== undefined) {
    if (typeof q.violation !== 'string') throw bad('violation must be a string');
    params.violation = q.violation;
    conditions.push('v.name = @violation');
  }
  if (q.from !== undefined) {
    params.from = timeMs(q.from, 'from');
    conditions.push(`${time} >= @from`);
  }
  if (q.to !== undefined) {
    params.to = timeMs(q.to, 'to');
    conditions.push(`${time} < @to`);
  }
  let onlyViolations = true;
  for (const column of EQUALITY_FILTERS) {
    const value = q[column];
    if (value === undefined) continue;
    if (typeof value !== 'string') throw bad(`${column} must be a string`);
    params[column] = value;
    conditions.push(`i.${column} = @${column}`);
    onlyViolations = false;
  }
  const tables = byViolation ? 'incident_violations v JOIN incidents i ON i.seq = v.seq' : 'incidents i';
  // a count by violation name (and period) alone needs no record: the name's key range is the answer
  const countTables = byViolation && onlyViolations ? 'incident_violations v' : tables;
  const count = { from: `FROM ${countTables} ${where(conditions)}`, params: { ...params } };
  if (q.before !== undefined) {
    const cursor = checkCursor(q.before);
    params.beforeTime = cursor.timeMs;
    params.beforeIncident = cursor.incident;
    if (cursor.seq !== undefined) {
      params.beforeSeq = cursor.seq;
      conditions.push(`(${time}, i.incident, i.seq) < (@beforeTime, @beforeIncident, @beforeSeq)`);
    } else {
      conditions.push(`(${time}, i.incident) < (@beforeTime, @beforeIncident)`);
    }
  }
  return { count, page: { from: `FROM ${tables} ${where(conditions)}`, params }, order: `ORDER BY ${time} DESC, i.incident DESC, i.seq DESC`, limit: q.limit };
}

function checkCursor(before: IncidentCursor): { timeMs: number; incident: string; seq: number | undefined } {
  if (typeof before !== 'object' || before === null || typeof before.time !== 'string' || typeof before.incident !== 'string') throw bad('before needs time and incident');
  const ms = Date.parse(before.time);
  if (!Number.isFinite(ms)) throw bad('before.time is not an ISO date');
  if (before.seq !== undefined && !Number.isSafeInteger(before.seq)) throw bad('before.seq must be an integer');
  return { timeMs: ms, incident: before.incident, seq: before.seq };
}

function where(conditions: string[]): string {
  return conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
}
