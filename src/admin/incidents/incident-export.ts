// CSV (RFC 4180) and JSON exports of every incident a filter matches, newest first, read from the
// store a page at a time (keyset paging) and written as they come, with backpressure: memory stays
// one page whatever the size. CSV cells that a spreadsheet would run as a formula (=, +, -, @, tab,
// CR first) are prefixed with ' (OWASP "CSV injection"): host, path and user come from traffic.
import type { IncidentQuery, IncidentReader, IncidentRecord } from '../../incidents/index.js';

export const CSV_COLUMNS = ['incident', 'time', 'action', 'direction', 'client', 'user', 'method', 'host', 'path', 'rule', 'violations', 'reason', 'service', 'istag', 'source', 'sizeBytes', 'sha256'] as const;

/** Rows read from the store per query while exporting (the IncidentQuery maximum). */
const EXPORT_PAGE = 1000;

export function csvCell(value: string | number | undefined): string {
  if (value === undefined) return '';
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvRow(r: IncidentRecord): string {
  const cells: Record<(typeof CSV_COLUMNS)[number], string | number | undefined> = {
    incident: r.incident,
    time: r.time,
    action: r.action,
    direction: r.direction,
    client: r.client,
    user: r.user,
    method: r.method,
    host: r.host,
    path: r.path,
    rule: r.rule,
    violations: r.violations.join(';'),
    reason: r.reason,
    service: r.service,
    istag: r.istag,
    source: r.source,
    sizeBytes: r.sizeBytes,
    sha256: r.sha256,
  };
  return `${CSV_COLUMNS.map((c) => csvCell(cells[c])).join(',')}\r\n`;
}

/** Every record the query matches (its `limit` and `before` are replaced), page by page. */
export async function* allMatching(reader: IncidentReader, query: IncidentQuery, maxRows: number): AsyncGenerator<IncidentRecord> {
  let before = query.before;
  let sent = 0;
  while (sent < maxRows) {
    const page = await reader.query({ ...query, limit: Math.min(EXPORT_PAGE, maxRows - sent), ...(before ? { before } : {}) });
    for (const record of page.items) yield record;
    sent += page.items.length;
    if (!page.next || page.items.length === 0) return;
    before = page.next;
  }
}

export async function* exportCsv(reader: IncidentReader, query: IncidentQuery, maxRows: number): AsyncGenerator<string> {
  yield `${CSV_COLUMNS.join(',')}\r\n`;
  for await (const record of allMatching(reader, query, maxRows)) yield csvRow(record);
}

/** A JSON array of records, one per line. */
export async function* exportJson(reader: IncidentReader, query: IncidentQuery, maxRows: number): AsyncGenerator<string> {
  let first = true;
  for await (const record of allMatching(reader, query, maxRows)) {
    yield `${first ? '[\n' : ',\n'}${JSON.stringify(record)}`;
    first = false;
  }
  yield first ? '[]\n' : '\n]\n';
}
