// The query string of the incident list, the exports and GET /api/incidents, to an IncidentQuery
// and back. Times are UTC: a date (2024-05-01) means its whole day (as `to`, up to the end of that
// day: the store's `to` is exclusive, so it is the next midnight), a date and time without an
// offset (2024-05-01T10:30, what <input type="datetime-local"> sends) is UTC, ISO 8601 with Z or
// an offset is taken as written. A parameter that does not parse is an error the page shows; it is
// never dropped (a dropped filter would show more incidents than asked for). Empty = no filter.
import type { IncidentCursor, IncidentQuery } from '../../incidents/index.js';

export const FILTER_KEYS = ['from', 'to', 'user', 'client', 'host', 'rule', 'direction', 'action', 'violation'] as const;
export type FilterKey = (typeof FILTER_KEYS)[number];

/** The filters as the form holds them (raw strings), to fill the form again and build links. */
export type FilterForm = Record<FilterKey, string> & { limit: string };

export type ParsedFilters = { ok: true; query: IncidentQuery; form: FilterForm } | { ok: false; errors: string[]; form: FilterForm };

/** Longest accepted text filter: a host name is at most 253 characters, user names and rules are ours. */
const MAX_TEXT = 512;
const DAY_MS = 86_400_000;

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?$/i;

/**
 * A time parameter: undefined when empty, 'invalid' when it does not parse. A bare date is the
 * start of its day, or with `endOfDay` the start of the next (an exclusive `to` including that day).
 */
export function parseTime(value: string, endOfDay = false): Date | undefined | 'invalid' {
  const text = value.trim();
  if (text === '') return undefined;
  const date = DATE.exec(text);
  if (date) {
    const [y, m, d] = [Number(date[1]), Number(date[2]), Number(date[3])];
    const start = Date.UTC(y, m - 1, d);
    const check = new Date(start);
    if (check.getUTCFullYear() !== y || check.getUTCMonth() !== m - 1 || check.getUTCDate() !== d) return 'invalid';
    return new Date(endOfDay ? start + DAY_MS : start);
  }
  const dt = DATE_TIME.exec(text);
  if (!dt) return 'invalid';
  const [y, mo, d, hh, mm, ss] = [1, 2, 3, 4, 5, 6].map((i) => Number(dt[i] ?? 0)) as [number, number, number, number, number, number];
  const ms = dt[7] ? Math.round(Number(dt[7]) * 1000) : 0;
  const utc = Date.UTC(y, mo - 1, d, hh, mm, ss, ms);
  const check = new Date(utc);
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d || hh > 23 || mm > 59 || ss > 59) return 'invalid';
  const zone = dt[8]?.toUpperCase();
  if (zone === undefined || zone === 'Z') return check;
  const sign = zone.startsWith('-') ? -1 : 1;
  const [oh, om] = zone.slice(1).split(':').map(Number) as [number, number];
  if (oh > 23 || om > 59) return 'invalid';
  return new Date(utc - sign * (oh * 60 + om) * 60_000);
}

/** `before=<time>,<incident>[,<seq>]`: where the next (older) page starts. */
export function formatCursor(cursor: IncidentCursor): string {
  return [cursor.time, cursor.incident, ...(cursor.seq === undefined ? [] : [String(cursor.seq)])].join(',');
}

function parseCursor(value: string): IncidentCursor | 'invalid' {
  const [time = '', incident = '', seq, ...rest] = value.split(',');
  if (rest.length > 0 || !/^[0-9a-z]{1,64}$/.test(incident) || !/^\d{4}-\d{2}-\d{2}T[0-9:.]+Z$/.test(time) || Number.isNaN(Date.parse(time))) return 'invalid';
  if (seq === undefined) return { time, incident };
  return /^\d{1,15}$/.test(seq) ? { time, incident, seq: Number(seq) } : 'invalid';
}

export function parseFilters(params: URLSearchParams, limits: { defaultLimit: number; maxLimit: number }): ParsedFilters {
  const form = Object.fromEntries([...FILTER_KEYS, 'limit'].map((k) => [k, params.get(k) ?? ''])) as FilterForm;
  const errors: string[] = [];
  const query: IncidentQuery = { limit: limits.defaultLimit };

  const from = parseTime(form.from);
  const to = parseTime(form.to, true);
  if (from === 'invalid') errors.push('from: not a date or time (2024-05-01, 2024-05-01T10:30 or ISO 8601), UTC unless an offset is given');
  else if (from) query.from = from;
  if (to === 'invalid') errors.push('to: not a date or time (2024-05-01, 2024-05-01T10:30 or ISO 8601), UTC unless an offset is given');
  else if (to) query.to = to;
  if (query.from && query.to && query.from >= query.to) errors.push('from: not before to');

  for (const key of ['user', 'client', 'host', 'rule', 'violation'] as const) {
    const value = form[key].trim();
    if (value.length > MAX_TEXT) errors.push(`${key}: longer than ${MAX_TEXT} characters`);
    else if (value !== '') query[key] = value;
  }
  const direction = form.direction.trim();
  if (direction === 'upload' || direction === 'download') query.direction = direction;
  else if (direction !== '') errors.push('direction: upload or download');
  const action = form.action.trim();
  if (action === 'block' || action === 'monitor') query.action = action;
  else if (action !== '') errors.push('action: block or monitor');

  const limit = form.limit.trim();
  if (limit !== '') {
    const n = Number(limit);
    if (!/^\d+$/.test(limit) || n < 1 || n > limits.maxLimit) errors.push(`limit: a whole number from 1 to ${limits.maxLimit}`);
    else query.limit = n;
  }
  const before = params.get('before');
  if (before !== null && before !== '') {
    const cursor = parseCursor(before);
    if (cursor === 'invalid') errors.push('before: not a page cursor (time,incident)');
    else query.before = cursor;
  }
  return errors.length > 0 ? { ok: false, errors, form } : { ok: true, query, form };
}

/** The non-empty filters of a form as query parameters (for page links and exports). */
export function filterParams(form: FilterForm, extra: Record<string, string> = {}): URLSearchParams {
  const params = new URLSearchParams();
  for (const key of FILTER_KEYS) if (form[key].trim() !== '') params.set(key, form[key].trim());
  for (const [k, v] of Object.entries(extra)) params.set(k, v);
  return params;
}

export type ParsedSummary =
  | { ok: true; range: { from: Date; to: Date }; top: number; form: { from: string; to: string; top: string } }
  | { ok: false; errors: string[]; form: { from: string; to: string; top: string } };

/** A summary covers at most this many days (one bar a day). */
export const MAX_SUMMARY_DAYS = 366;

/** `from`, `to` and `top` of the summary; the default period is the last 7 days, today included. */
export function parseSummary(params: URLSearchParams, now = new Date()): ParsedSummary {
  const today = now.toISOString().slice(0, 10);
  const weekAgo = new Date(Date.parse(today) - 6 * DAY_MS).toISOString().slice(0, 10);
  const form = { from: params.get('from')?.trim() || weekAgo, to: params.get('to')?.trim() || today, top: params.get('top')?.trim() || '10' };
  const errors: string[] = [];
  const from = parseTime(form.from);
  const to = parseTime(form.to, true);
  if (from === 'invalid' || from === undefined) errors.push('from: not a date or time (2024-05-01, 2024-05-01T10:30 or ISO 8601)');
  if (to === 'invalid' || to === undefined) errors.push('to: not a date or time (2024-05-01, 2024-05-01T10:30 or ISO 8601)');
  const top = Number(form.top);
  if (!/^\d+$/.test(form.top) || top < 1 || top > 100) errors.push('top: a whole number from 1 to 100');
  if (from instanceof Date && to instanceof Date) {
    if (from >= to) errors.push('from: not before to');
    else if (to.getTime() - from.getTime() > MAX_SUMMARY_DAYS * DAY_MS) errors.push(`to: a summary covers at most ${MAX_SUMMARY_DAYS} days`);
  }
  if (errors.length > 0 || !(from instanceof Date) || !(to instanceof Date)) return { ok: false, errors, form };
  return { ok: true, range: { from, to }, top, form };
}
