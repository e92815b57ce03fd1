// The incident reports of the admin listener, behind sign-in:
//   GET  /incidents                 the list (filters, paging)       GET /api/incidents          the same as JSON
//   GET  /incidents/<id>            one incident                     GET /api/incidents/<id>
//   GET  /incidents/summary         per day, top users/hosts/rules   GET /api/incidents/summary
//   GET  /incidents/export.csv|json every match of a filter, streamed
//   GET|POST /login, POST /logout   (auth/sign-in-routes.ts)
// Closed, never open, when there is no store (404) or no admin user (403), each with a hint.
import type http from 'node:http';
import { MAX_QUERY_LIMIT, type IncidentReader } from '../../incidents/index.js';
import { AdminAuth, type AdminUser } from '../auth/admin-auth.js';
import { authenticate, loginRoute, logoutRoute, type Caller, type SignInContext } from '../auth/sign-in-routes.js';
import { jsonAnswer, textAnswer, type AdminAnswer } from './admin-answer.js';
import { renderIncidentDetail, renderIncidentMissing } from './incident-detail-page.js';
import { exportCsv, exportJson } from './incident-export.js';
import { filterParams, formatCursor, parseFilters, parseSummary } from './incident-filters.js';
import { renderFilterErrors, renderIncidentList } from './incident-list-page.js';
import { pageHeaders, renderLayout } from './page-layout.js';
import { renderSummary, renderSummaryErrors } from './summary-page.js';

export interface IncidentReportsOptions {
  /** the incident store; undefined when incidents.enabled is false */
  reader: IncidentReader | undefined;
  /** admin.users (read per request: a reload applies at once) */
  users: readonly AdminUser[];
  /** admin.sessionTtlMs */
  sessionTtlMs: number;
  /** admin.publicUrl */
  publicUrl: string | undefined;
}

/** An export holds at most this many incidents; narrow the filter for more. */
export const MAX_EXPORT_ROWS = 1_000_000;
const PAGE_LIMITS = { defaultLimit: 50, maxLimit: 200 };
const API_LIMITS = { defaultLimit: 100, maxLimit: MAX_QUERY_LIMIT };
const INCIDENT_ID = /^[0-9a-z]{1,64}$/;

export function isReportPath(path: string): boolean {
  return path === '/login' || path === '/logout' || path === '/incidents' || path.startsWith('/incidents/') || path === '/api/incidents' || path.startsWith('/api/incidents/');
}

export class IncidentReports {
  readonly #options: IncidentReportsOptions;
  readonly #auth: AdminAuth;
  readonly #secure: boolean;

  constructor(options: IncidentReportsOptions, secure: boolean) {
    this.#options = options;
    this.#secure = secure;
    this.#auth = new AdminAuth({ users: () => options.users, sessionTtlMs: () => options.sessionTtlMs, secure });
  }

  async handle(req: http.IncomingMessage, path: string, params: URLSearchParams): Promise<AdminAnswer> {
    const reader = this.#options.reader;
    const api = path.startsWith('/api/');
    if (!reader) return closed(api, 404, 'incident reports are off: the incident store is disabled (incidents.enabled: false)');
    if (!this.#auth.configured) return closed(api, 403, 'incident reports are closed: no admin user is configured. Add admin.users with hashes from `dlp-proxy hash-password`.');
    const ctx: SignInContext = { auth: this.#auth, secure: this.#secure, publicUrl: this.#options.publicUrl };
    if (path === '/login') return loginRoute(ctx, req, params);
    if (path === '/logout') return logoutRoute(ctx, req);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      req.resume();
      return { ...textAnswer(405, 'method not allowed\n'), headers: { allow: 'GET, HEAD' } };
    }
    const caller = await authenticate(ctx, req, api);
    if (!isCaller(caller)) return caller;
    return api ? this.#api(reader, path, params) : this.#page(reader, caller, path.replace(/\/$/, '') || '/incidents', params);
  }

  async #page(reader: IncidentReader, caller: Caller, path: string, params: URLSearchParams): Promise<AdminAnswer> {
    const layout = (status: number, title: string, current: 'incidents' | 'summary' | undefined, body: string): AdminAnswer => ({
      status,
      type: 'text/html; charset=utf-8',
      headers: pageHeaders(),
      body: renderLayout({ title, ...(current ? { current } : {}), user: caller.user, csrfToken: caller.csrfToken, body }),
    });
    if (path === '/incidents') {
      const parsed = parseFilters(params, PAGE_LIMITS);
      if (!parsed.ok) return layout(400, 'Incidents', 'incidents', renderFilterErrors(parsed.errors, parsed.form));
      const page = await reader.query(parsed.query);
      return layout(200, 'Incidents', 'incidents', renderIncidentList(page, parsed.form, parsed.query.before === undefined));
    }
    if (path === '/incidents/summary') {
      const parsed = parseSummary(params);
      if (!parsed.ok) return layout(400, 'Summary', 'summary', renderSummaryErrors(parsed.errors, parsed.form));
      return layout(200, 'Summary', 'summary', renderSummary(await reader.summary(parsed.range, parsed.top), parsed.form));
    }
    if (path === '/incidents/export.csv' || path === '/incidents/export.json') {
      const csv = path.endsWith('.csv');
      const filters = new URLSearchParams(params);
      filters.delete('limit');
      filters.delete('before');
      const parsed = parseFilters(filters, PAGE_LIMITS);
      if (!parsed.ok) return textAnswer(400, `${parsed.errors.join('\n')}\n`);
      const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
      return {
        status: 200,
        type: csv ? 'text/csv; charset=utf-8; header=present' : 'application/json; charset=utf-8',
        headers: { 'content-disposition': `attachment; filename="incidents-${stamp}.${csv ? 'csv' : 'json'}"` },
        body: (csv ? exportCsv : exportJson)(reader, parsed.query, MAX_EXPORT_ROWS),
      };
    }
    const id = safeDecode(path.slice('/incidents/'.length)) ?? '';
    if (!INCIDENT_ID.test(id)) return layout(404, 'Not found', undefined, renderIncidentMissing(id));
    const [record, all] = await Promise.all([reader.get(id), reader.getAll(id)]);
    return record ? layout(200, `Incident ${id}`, undefined, renderIncidentDetail(record, all)) : layout(404, 'Not found', undefined, renderIncidentMissing(id));
  }

  async #api(reader: IncidentReader, path: string, params: URLSearchParams): Promise<AdminAnswer> {
    if (path === '/api/incidents') {
      const parsed = parseFilters(params, API_LIMITS);
      if (!parsed.ok) return jsonAnswer(400, { error: 'bad_filter', errors: parsed.errors });
      const page = await reader.query(parsed.query);
      const nextUrl = page.next ? `/api/incidents?${filterParams(parsed.form, { limit: String(parsed.query.limit), before: formatCursor(page.next) }).toString()}` : null;
      return jsonAnswer(200, { total: page.total, items: page.items, next: page.next ?? null, nextUrl });
    }
    if (path === '/api/incidents/summary') {
      const parsed = parseSummary(params);
      if (!parsed.ok) return jsonAnswer(400, { error: 'bad_filter', errors: parsed.errors });
      return jsonAnswer(200, await reader.summary(parsed.range, parsed.top));
    }
    const id = safeDecode(path.slice('/api/incidents/'.length));
    if (id === undefined || !INCIDENT_ID.test(id)) return jsonAnswer(404, { error: 'not_found', incident: id ?? null });
    const [record, records] = await Promise.all([reader.get(id), reader.getAll(id)]);
    // the record the id leads to (its block if it has one), and every record under the id
    return record ? jsonAnswer(200, { record, records }) : jsonAnswer(404, { error: 'not_found', incident: id });
  }
}

function isCaller(value: Caller | AdminAnswer): value is Caller {
  return typeof (value as Caller).user === 'string';
}

function safeDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

function closed(api: boolean, status: number, hint: string): AdminAnswer {
  return api ? jsonAnswer(status, { error: status === 404 ? 'not_found' : 'forbidden', message: hint }) : textAnswer(status, `${hint}\n`);
}
