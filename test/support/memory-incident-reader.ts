// An IncidentReader over an array, with the store's semantics (src/incidents/incident-reader.ts):
// equality filters, `from` inclusive and `to` exclusive, newest first with ties broken by incident
// id then row number, keyset paging from a cursor, a summary with every day of the range. For the
// admin report tests that need no SQLite.
import type { IncidentCursor, IncidentPage, IncidentQuery, IncidentReader, IncidentRecord, IncidentSummary } from '../../src/incidents/index.js';

type Row = IncidentRecord & { seq: number };

function newerFirst(a: Row, b: Row): number {
  return a.time !== b.time ? (a.time < b.time ? 1 : -1) : a.incident !== b.incident ? (a.incident < b.incident ? 1 : -1) : b.seq - a.seq;
}

function olderThan(r: Row, c: IncidentCursor): boolean {
  if (r.time !== c.time) return r.time < c.time;
  if (r.incident !== c.incident) return r.incident < c.incident;
  return c.seq === undefined ? false : r.seq < c.seq;
}

function top(rows: readonly Row[], key: (r: Row) => readonly string[], n: number): Array<{ key: string; count: number }> {
  const counts = new Map<string, number>();
  for (const r of rows) for (const k of key(r)) counts.set(k, (counts.get(k) ?? 0) + 1);
  return [...counts].map(([k, count]) => ({ key: k, count })).sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : 1)).slice(0, n);
}

export class MemoryIncidentReader implements IncidentReader {
  readonly rows: Row[] = [];
  /** every query asked, for tests that check what a filter became */
  readonly queries: IncidentQuery[] = [];

  add(...records: IncidentRecord[]): this {
    for (const r of records) this.rows.push({ ...r, seq: this.rows.length + 1 });
    this.rows.sort(newerFirst);
    return this;
  }

  #matching(q: Omit<IncidentQuery, 'limit'>): Row[] {
    return this.rows.filter(
      (r) =>
        (q.from === undefined || Date.parse(r.time) >= q.from.getTime()) &&
        (q.to === undefined || Date.parse(r.time) < q.to.getTime()) &&
        (['user', 'client', 'host', 'rule', 'direction', 'action'] as const).every((k) => q[k] === undefined || r[k] === q[k]) &&
        (q.violation === undefined || r.violations.includes(q.violation)),
    );
  }

  async query(q: IncidentQuery): Promise<IncidentPage> {
    this.queries.push(q);
    if (!Number.isInteger(q.limit) || q.limit < 1 || q.limit > 1000) throw new Error(`limit ${q.limit}`);
    const all = this.#matching(q);
    const after = q.before ? all.filter((r) => olderThan(r, q.before!)) : all;
    const items = after.slice(0, q.limit);
    const last = items.at(-1);
    const strip = ({ seq: _seq, ...r }: Row): IncidentRecord => r;
    return { items: items.map(strip), total: all.length, ...(after.length > q.limit && last ? { next: { time: last.time, incident: last.incident, seq: last.seq } } : {}) };
  }

  async get(incident: string): Promise<IncidentRecord | undefined> {
    const all = await this.getAll(incident);
    return all.find((r) => r.action === 'block') ?? all.at(-1);
  }

  async getAll(incident: string): Promise<IncidentRecord[]> {
    return this.rows
      .filter((r) => r.incident === incident)
      .sort((a, b) => a.seq - b.seq)
      .map(({ seq: _seq, ...r }) => r);
  }

  async summary(range: { from: Date; to: Date }, n = 10): Promise<IncidentSummary> {
    const rows = this.#matching(range);
    const perDay: Array<{ day: string; count: number }> = [];
    for (let t = Date.parse(range.from.toISOString().slice(0, 10)); t < range.to.getTime(); t += 86_400_000) {
      const day = new Date(t).toISOString().slice(0, 10);
      perDay.push({ day, count: rows.filter((r) => r.time.startsWith(day)).length });
    }
    return {
      from: range.from.toISOString(),
      to: range.to.toISOString(),
      perDay,
      topUsers: top(rows, (r) => (r.user ? [r.user] : []), n),
      topHosts: top(rows, (r) => [r.host], n),
      topRules: top(rows, (r) => [r.rule], n),
      topViolations: top(rows, (r) => r.violations, n),
      total: rows.length,
    };
  }
}

let counter = 0;

/** A plausible record; `time` defaults to now minus `counter` seconds so records differ. */
export function incident(over: Partial<IncidentRecord> = {}): IncidentRecord {
  counter++;
  return {
    incident: `01jtfz1yk8${String(counter).padStart(6, '0')}`,
    time: new Date(Date.now() - counter * 1000).toISOString(),
    client: '10.1.2.3',
    user: 'alice',
    method: 'POST',
    host: 'files.example.com',
    path: '/upload',
    direction: 'upload',
    rule: 'uploads',
    service: 'dlp',
    istag: '"dlp-1"',
    source: 'icap',
    violations: ['payment-card'],
    sizeBytes: 1234,
    sha256: 'a'.repeat(64),
    action: 'block',
    ...over,
  };
}
