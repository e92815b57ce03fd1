// CSV and JSON exports: every matching record exactly once across store pages, newest first, cells
// a spreadsheet would run as formulas neutralised, RFC 4180 quoting, and the row cap.
import { describe, expect, it } from 'vitest';
import { allMatching, csvCell, csvRow, CSV_COLUMNS, exportCsv, exportJson } from '../../../src/admin/incidents/incident-export.js';
import { incident, MemoryIncidentReader } from '../../support/memory-incident-reader.js';

async function collect(chunks: AsyncIterable<string>): Promise<string> {
  let out = '';
  for await (const c of chunks) out += c;
  return out;
}

/** RFC 4180 reader, enough for our own output. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(cell), (cell = '');
    else if (c === '\r' && text[i + 1] === '\n') row.push(cell), rows.push(row), (row = []), (cell = ''), i++;
    else cell += c;
  }
  return rows;
}

describe('CSV cells', () => {
  it('neutralises formulas and quotes what RFC 4180 needs', () => {
    expect(csvCell('=HYPERLINK("http://evil","x")')).toBe(`"'=HYPERLINK(""http://evil"",""x"")"`);
    for (const f of ['+1', '-1+1', '@SUM(A1)', '\t=1', '\r=1']) expect(csvCell(f).replace(/^"/, '')).toMatch(/^'/);
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('line\nbreak')).toBe('"line\nbreak"');
    expect(csvCell(' padded ')).toBe('" padded "');
    expect(csvCell(undefined)).toBe('');
    expect(csvCell(1234)).toBe('1234');
    expect(csvCell('plain')).toBe('plain');
  });

  it('one row per record in the column order, violations joined with ;', () => {
    const r = incident({ violations: ['payment-card', 'iban'], user: undefined, reason: 'DLP "card", match' });
    const [row] = parseCsv(csvRow(r));
    expect(row).toHaveLength(CSV_COLUMNS.length);
    const byColumn = Object.fromEntries(CSV_COLUMNS.map((c, i) => [c, row![i]]));
    expect(byColumn).toMatchObject({ incident: r.incident, user: '', violations: 'payment-card;iban', reason: 'DLP "card", match', sizeBytes: '1234' });
  });
});

describe('exports', () => {
  const reader = new MemoryIncidentReader();
  // 2,503 records over pages of 1,000, two of them sharing one incident id and millisecond
  const base = Date.parse('2024-05-01T00:00:00Z');
  for (let i = 0; i < 2501; i++) reader.add(incident({ time: new Date(base + i * 1000).toISOString(), host: i % 2 ? 'odd.example' : 'even.example' }));
  const twin = incident({ time: new Date(base + 999_000).toISOString(), incident: 'zzzzzzzzzzzzzzzz' });
  reader.add(twin, { ...twin, action: 'monitor' });

  it('CSV: every match once, newest first, across store pages', async () => {
    const rows = parseCsv(await collect(exportCsv(reader, { limit: 50 }, 1_000_000)));
    expect(rows[0]).toEqual([...CSV_COLUMNS]);
    const body = rows.slice(1);
    expect(body).toHaveLength(2503);
    const times = body.map((r) => r[1]!);
    expect([...times].sort().reverse()).toEqual(times);
    expect(body.filter((r) => r[0] === 'zzzzzzzzzzzzzzzz')).toHaveLength(2);
    // each page asked for at most 1,000 and continued from the previous cursor
    const asked = reader.queries.slice(-3);
    expect(asked.map((q) => q.limit)).toEqual([1000, 1000, 1000]);
    expect(asked[1]!.before).toBeDefined();
  });

  it('filters apply to the export, and the cap stops it', async () => {
    const odd = parseCsv(await collect(exportCsv(reader, { limit: 50, host: 'odd.example' }, 1_000_000))).slice(1);
    expect(odd).toHaveLength(1250);
    expect(odd.every((r) => r[7] === 'odd.example')).toBe(true);
    const capped = parseCsv(await collect(exportCsv(reader, { limit: 50 }, 1500))).slice(1);
    expect(capped).toHaveLength(1500);
  });

  it('JSON: a valid array, empty included', async () => {
    const all = JSON.parse(await collect(exportJson(reader, { limit: 1 }, 1_000_000))) as unknown[];
    expect(all).toHaveLength(2503);
    expect(JSON.parse(await collect(exportJson(reader, { limit: 1, user: 'nobody' }, 10)))).toEqual([]);
    let n = 0;
    for await (const _ of allMatching(reader, { limit: 1, host: 'even.example' }, 10_000)) n++;
    expect(n).toBe(1251);
  });
});
