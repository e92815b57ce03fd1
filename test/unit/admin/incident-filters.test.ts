// The report filters: query parameters → IncidentQuery (what the store is asked), and the errors a
// page shows instead of silently dropping a filter.
import { describe, expect, it } from 'vitest';
import { filterParams, formatCursor, parseFilters, parseSummary, parseTime } from '../../../src/admin/incidents/incident-filters.js';

const LIMITS = { defaultLimit: 50, maxLimit: 200 };
const q = (s: string) => parseFilters(new URLSearchParams(s), LIMITS);

describe('parseTime', () => {
  it('reads dates, local date-times as UTC, and ISO 8601 with offsets', () => {
    expect(parseTime('2024-05-01')).toEqual(new Date('2024-05-01T00:00:00Z'));
    // a `to` date covers its whole day: the store's `to` is exclusive, so the next midnight
    expect(parseTime('2024-05-01', true)).toEqual(new Date('2024-05-02T00:00:00Z'));
    expect(parseTime('2024-12-31', true)).toEqual(new Date('2025-01-01T00:00:00Z'));
    expect(parseTime('2024-05-01T10:30')).toEqual(new Date('2024-05-01T10:30:00Z'));
    expect(parseTime('2024-05-01T10:30', true)).toEqual(new Date('2024-05-01T10:30:00Z'));
    expect(parseTime('2024-05-01 10:30:15.25')).toEqual(new Date('2024-05-01T10:30:15.250Z'));
    expect(parseTime('2024-05-01T10:30:00+02:00')).toEqual(new Date('2024-05-01T08:30:00Z'));
    expect(parseTime('2024-05-01T10:30:00-05:30')).toEqual(new Date('2024-05-01T16:00:00Z'));
    expect(parseTime('2024-05-01T10:30:00z')).toEqual(new Date('2024-05-01T10:30:00Z'));
    expect(parseTime('  ')).toBeUndefined();
  });

  it('refuses what is not a real date or time', () => {
    for (const bad of ['2024-02-30', '2023-02-29', '2024-13-01', '0099-01-01', '2024-05-01T24:00', '2024-05-01T10:60', '2024-05-01T10:30:00+24:00', 'yesterday', '1714557600', '2024-5-1', '2024-05-01T10:30:00Zjunk']) {
      expect(parseTime(bad), bad).toBe('invalid');
    }
    expect(parseTime('2024-02-29')).toEqual(new Date('2024-02-29T00:00:00Z'));
  });
});

describe('parseFilters', () => {
  it('no parameter: no filter, the default page size', () => {
    const r = q('');
    expect(r).toMatchObject({ ok: true, query: { limit: 50 } });
    expect(r.ok && Object.keys(r.query)).toEqual(['limit']);
  });

  it('each filter reaches the query', () => {
    const r = q('from=2024-05-01&to=2024-05-07&user=alice&client=10.1.2.3&host=files.example.com&rule=uploads&direction=upload&action=monitor&violation=payment-card&limit=100');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.query).toEqual({
      from: new Date('2024-05-01T00:00:00Z'),
      to: new Date('2024-05-08T00:00:00Z'),
      user: 'alice',
      client: '10.1.2.3',
      host: 'files.example.com',
      rule: 'uploads',
      direction: 'upload',
      action: 'monitor',
      violation: 'payment-card',
      limit: 100,
    });
  });

  it('a value that does not parse is an error, never a dropped filter', () => {
    const r = q('direction=sideways&action=allow&limit=201&from=2024-05-08&to=2024-05-01&user=' + 'x'.repeat(513));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toEqual([
      'from: not before to',
      'user: longer than 512 characters',
      'direction: upload or download',
      'action: block or monitor',
      'limit: a whole number from 1 to 200',
    ]);
    for (const limit of ['0', '-1', '1.5', '1e2', ' 50x']) expect(q(`limit=${encodeURIComponent(limit)}`).ok, limit).toBe(false);
    expect(q('from=garbage').ok).toBe(false);
  });

  it('a cursor round-trips, with and without the row number, and a forged one is refused', () => {
    const cursor = { time: '2024-05-01T10:30:00.123Z', incident: '01jtfz1yk8ab3xyz', seq: 42 };
    const r = q(`before=${encodeURIComponent(formatCursor(cursor))}`);
    expect(r.ok && r.query.before).toEqual(cursor);
    const noSeq = q(`before=${encodeURIComponent('2024-05-01T10:30:00.123Z,01jtfz1yk8ab3xyz')}`);
    expect(noSeq.ok && noSeq.query.before).toEqual({ time: '2024-05-01T10:30:00.123Z', incident: '01jtfz1yk8ab3xyz' });
    for (const bad of ['x', '2024-05-01T10:30:00.123Z', '2024-05-01T10:30:00.123Z,<script>', 'now,abc', '2024-05-01T10:30:00.123Z,abc,1,2', '2024-05-01T10:30:00.123Z,abc,-1', "2024-05-01T10:30:00.123Z' OR 1=1,abc"]) {
      expect(q(`before=${encodeURIComponent(bad)}`).ok, bad).toBe(false);
    }
  });

  it('filterParams keeps the set filters only, for links and exports', () => {
    const r = q('user=alice&host=&direction=upload&limit=25&before=x');
    expect(filterParams(r.form).toString()).toBe('user=alice&direction=upload');
    expect(filterParams(r.form, { limit: '25' }).toString()).toBe('user=alice&direction=upload&limit=25');
  });
});

describe('parseSummary', () => {
  const now = new Date('2024-05-10T15:00:00Z');

  it('defaults to the last 7 days, today included', () => {
    const r = parseSummary(new URLSearchParams(), now);
    expect(r).toMatchObject({ ok: true, top: 10, range: { from: new Date('2024-05-04T00:00:00Z'), to: new Date('2024-05-11T00:00:00Z') } });
  });

  it('refuses periods longer than a year, reversed periods and a bad top', () => {
    expect(parseSummary(new URLSearchParams('from=2023-01-01&to=2024-05-01'), now).ok).toBe(false);
    expect(parseSummary(new URLSearchParams('from=2024-05-02&to=2024-05-01'), now).ok).toBe(false);
    for (const top of ['0', '101', 'ten']) expect(parseSummary(new URLSearchParams(`top=${top}`), now).ok, top).toBe(false);
    expect(parseSummary(new URLSearchParams('from=2024-01-01&to=2024-12-31&top=100'), now)).toMatchObject({ ok: true, top: 100 });
  });
});
