// The incident list: the filter form (GET, so a filtered view is a link to share), how many match,
// exports of the same filter, one row per incident newest first, and keyset paging ("Older" carries
// the cursor of the last row). Values in a row link to the list filtered by them.
import type { IncidentPage, IncidentRecord } from '../../incidents/index.js';
import { filterParams, formatCursor, type FilterForm } from './incident-filters.js';
import { h, href } from './page-layout.js';

export const PAGE_SIZES = [25, 50, 100, 200] as const;

/** "2024-05-01 10:30:12Z": the stored ISO time, shorter, still UTC and still sortable. */
export function shortTime(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export function actionTag(action: string): string {
  return `<span class="tag ${action === 'block' ? 'block' : 'monitor'}">${h(action)}</span>`;
}

function filterLink(form: FilterForm, key: string, value: string | undefined, label = value): string {
  if (value === undefined || value === '') return '<span class="mono">—</span>';
  return `<a href="${href('/incidents', filterParams({ ...form, [key]: value }))}">${h(label)}</a>`;
}

function row(r: IncidentRecord, form: FilterForm): string {
  return `<tr>
<td class="mono">${h(shortTime(r.time))}</td>
<td class="id"><a href="${href(`/incidents/${encodeURIComponent(r.incident)}`)}">${h(r.incident)}</a></td>
<td>${actionTag(r.action)}</td>
<td>${h(r.direction)}</td>
<td>${filterLink(form, 'user', r.user)}</td>
<td>${filterLink(form, 'client', r.client)}</td>
<td class="host">${filterLink(form, 'host', r.host)}</td>
<td class="path"><span class="mono">${h(r.method)}</span> ${h(r.path)}</td>
<td>${filterLink(form, 'rule', r.rule)}</td>
<td>${r.violations.map((v) => filterLink(form, 'violation', v)).join(', ') || '—'}</td>
</tr>`;
}

function select(name: string, value: string, options: ReadonlyArray<[string, string]>): string {
  return `<select id="f-${name}" name="${name}">${options.map(([v, label]) => `<option value="${h(v)}"${v === value ? ' selected' : ''}>${h(label)}</option>`).join('')}</select>`;
}

export function renderFilterForm(form: FilterForm): string {
  const text = (name: keyof FilterForm, label: string, placeholder = '') =>
    `<label for="f-${name}">${label}<input id="f-${name}" name="${name}" value="${h(form[name])}"${placeholder ? ` placeholder="${h(placeholder)}"` : ''}></label>`;
  return `<form class="filters" method="get" action="/incidents" role="search">
${text('from', 'From (UTC)', '2024-05-01')}
${text('to', 'To (UTC)', '2024-05-31')}
${text('user', 'User')}
${text('client', 'Client address')}
${text('host', 'Host')}
${text('rule', 'Policy rule')}
<label for="f-direction">Direction${select('direction', form.direction, [['', 'any'], ['upload', 'upload'], ['download', 'download']])}</label>
<label for="f-action">Action${select('action', form.action, [['', 'any'], ['block', 'block'], ['monitor', 'monitor']])}</label>
${text('violation', 'Violation', 'credit-card')}
<label for="f-limit">Per page${select('limit', form.limit || '50', PAGE_SIZES.map((n) => [String(n), String(n)]))}</label>
<div class="actions"><button class="primary" id="apply" type="submit">Filter</button><a href="/incidents">Clear</a></div>
</form>`;
}

export function renderIncidentList(page: IncidentPage, form: FilterForm, firstPage: boolean): string {
  const exportParams = filterParams(form);
  const older = page.next ? `<a id="older" href="${href('/incidents', filterParams(form, { ...(form.limit ? { limit: form.limit } : {}), before: formatCursor(page.next) }))}">Older →</a>` : '';
  const newest = firstPage ? '' : `<a id="newest" href="${href('/incidents', filterParams(form, form.limit ? { limit: form.limit } : {}))}">← Newest</a>`;
  const table =
    page.items.length === 0
      ? '<p class="notice" id="no-incidents">No incident matches these filters.</p>'
      : `<table id="incidents"><thead><tr><th>Time (UTC)</th><th>Incident</th><th>Action</th><th>Direction</th><th>User</th><th>Client</th><th>Host</th><th>Request</th><th>Rule</th><th>Violations</th></tr></thead>
<tbody>
${page.items.map((r) => row(r, form)).join('\n')}
</tbody></table>`;
  return `<h1>Incidents</h1>
${renderFilterForm(form)}
<p class="meta"><span id="total">${page.total === 1 ? '1 incident matches' : `${h(page.total)} incidents match`}</span>
<a id="export-csv" href="${href('/incidents/export.csv', exportParams)}" download>Export CSV</a>
<a id="export-json" href="${href('/incidents/export.json', exportParams)}" download>Export JSON</a>
<a href="${href('/api/incidents', exportParams)}">JSON API</a></p>
${table}
<nav class="pager">${newest}${older}</nav>`;
}

export function renderFilterErrors(errors: readonly string[], form: FilterForm): string {
  return `<h1>Incidents</h1>
${renderFilterForm(form)}
<div class="error" id="filter-errors"><p>These filters could not be read:</p><ul>${errors.map((e) => `<li>${h(e)}</li>`).join('')}</ul></div>`;
}
