// The summary of a period: counts per UTC day (zeros included, for a chart), the top users, hosts,
// rules and violation names, and the total. Each list is one GROUP BY over the index that starts
// with its column and ends in time_ms, read without touching the table; a period of few records
// (up to FEW_ROWS) is read by time instead, one row per record, which beats stepping through every
// user or host of the index (measured: 18 ms against 178 ms for a day of 3,000 in 300,000).
import type Database from 'better-sqlite3';
import { ProxyError } from '../core/errors.js';
import { DEFAULT_TOP, MAX_TOP, type IncidentCount, type IncidentSummary } from './incident-reader.js';

export const DAY_MS = 86_400_000;
const FEW_ROWS = 20_000;

function bad(message: string): ProxyError {
  return new ProxyError('CLIENT_BAD_REQUEST', `incident summary: ${message}`);
}

export interface SummaryScope {
  /** days back that the store keeps (retention): earlier days are zero unless records are still there */
  retentionDays: number;
  now: number;
  /** read by time up to this many records (default FEW_ROWS; tests set 0 or Infinity to take each way) */
  fewRows?: number;
}

export function summarize(db: Database.Database, range: { from: Date; to: Date }, top: number | undefined, scope: SummaryScope): IncidentSummary {
  const from = range.from instanceof Date ? range.from.getTime() : Number.NaN;
  const to = range.to instanceof Date ? range.to.getTime() : Number.NaN;
  if (!Number.isFinite(from) || !Number.isFinite(to)) throw bad('from and to must be valid dates');
  if (from >= to) throw bad('from must be before to');
  const n = top ?? DEFAULT_TOP;
  if (!Number.isInteger(n) || n < 1 || n > MAX_TOP) throw bad(`top must be an integer from 1 to ${MAX_TOP}`);
  const params = { from, to, top: n };
  const total = (db.prepare('SELECT count(*) AS n FROM incidents WHERE time_ms >= @from AND time_ms < @to').get(params) as { n: number }).n;
  const byTime = total <= (scope.fewRows ?? FEW_ROWS) ? 'INDEXED BY incidents_time' : '';
  const topOf = (column: 'user' | 'host' | 'rule'): IncidentCount[] =>
    db
      .prepare(`SELECT ${column} AS key, count(*) AS count FROM incidents ${byTime} WHERE ${column} IS NOT NULL AND time_ms >= @from AND time_ms < @to GROUP BY ${column} ORDER BY count DESC, key LIMIT @top`)
      .all(params) as IncidentCount[];
  return {
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    perDay: perDay(db, from, to, scope),
    topUsers: topOf('user'),
    topHosts: topOf('host'),
    topRules: topOf('rule'),
    topViolations: db
      .prepare('SELECT name AS key, count(*) AS count FROM incident_violations WHERE time_ms >= @from AND time_ms < @to GROUP BY name ORDER BY count DESC, key LIMIT @top')
      .all(params) as IncidentCount[],
    total,
  };
}

/**
 * Every UTC day of the range that can hold records, oldest first: from the later of `from` and
 * the oldest day the store can hold (the retention period, or an older record still there) to the
 * earlier of `to` and today (or a newer record's day). A range of "all time" so stays a chart of
 * at most the retention period, not fifty years of zeros.
 */
function perDay(db: Database.Database, from: number, to: number, scope: SummaryScope): Array<{ day: string; count: number }> {
  const bounds = db.prepare('SELECT min(time_ms) AS oldest, max(time_ms) AS newest FROM incidents').get() as { oldest: number | null; newest: number | null };
  const keptFrom = Math.min(scope.now - scope.retentionDays * DAY_MS, bounds.oldest ?? scope.now);
  const keptTo = Math.max(scope.now, bounds.newest ?? scope.now);
  const firstDay = Math.floor(Math.max(from, keptFrom) / DAY_MS);
  const lastDay = Math.floor((Math.min(to, keptTo + 1) - 1) / DAY_MS);
  // one count per day over the time index: a range count, where GROUP BY time_ms / 86400000 would sort every row
  const count = db.prepare('SELECT count(*) AS n FROM incidents WHERE time_ms >= ? AND time_ms < ?');
  const days: Array<{ day: string; count: number }> = [];
  for (let d = firstDay; d <= lastDay; d++) {
    const n = (count.get(Math.max(from, d * DAY_MS), Math.min(to, (d + 1) * DAY_MS)) as { n: number }).n;
    days.push({ day: new Date(d * DAY_MS).toISOString().slice(0, 10), count: n });
  }
  return days;
}
