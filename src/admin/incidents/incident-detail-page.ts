// One incident, by the id a person read from the block page: every field of the record the id
// leads to (its block if it has one; the violation log line's fields, never content, never a query
// string), the other records under the same id (a monitored upload before a blocked download, the
// messages of one WebSocket), links to the list of the same user, host and rule, and the JSON.
import type { IncidentRecord } from '../../incidents/index.js';
import { filterParams, type FilterForm } from './incident-filters.js';
import { actionTag, shortTime } from './incident-list-page.js';
import { h, href } from './page-layout.js';

const EMPTY_FORM: FilterForm = { from: '', to: '', user: '', client: '', host: '', rule: '', direction: '', action: '', violation: '', limit: '' };

function related(key: 'user' | 'host' | 'rule' | 'client', value: string | undefined, label: string): string {
  if (value === undefined || value === '') return '';
  return `<li><a href="${href('/incidents', filterParams({ ...EMPTY_FORM, [key]: value }))}">${label} ${h(value)}</a></li>`;
}

function otherRecords(all: readonly IncidentRecord[]): string {
  if (all.length < 2) return '';
  return `<h2>All ${h(all.length)} records of this incident</h2>
<table id="records"><thead><tr><th>Time (UTC)</th><th>Action</th><th>Direction</th><th>Rule</th><th>Violations</th><th>Size</th></tr></thead><tbody>
${all.map((r) => `<tr><td class="mono">${h(shortTime(r.time))}</td><td>${actionTag(r.action)}</td><td>${h(r.direction)}</td><td>${h(r.rule)}</td><td>${r.violations.map(h).join(', ') || '—'}</td><td>${h(r.sizeBytes)}</td></tr>`).join('\n')}
</tbody></table>`;
}

export function renderIncidentDetail(r: IncidentRecord, all: readonly IncidentRecord[]): string {
  const field = (id: string, label: string, value: string) => `<dt>${label}</dt><dd id="${id}">${value}</dd>`;
  const optional = (value: string | undefined) => (value === undefined || value === '' ? '—' : h(value));
  return `<h1>Incident <span class="mono" id="incident-id">${h(r.incident)}</span> ${actionTag(r.action)}</h1>
<dl class="record">
${field('time', 'Time (UTC)', h(shortTime(r.time)))}
${field('action', 'Action', h(r.action === 'block' ? 'blocked' : 'monitored (let through, recorded)'))}
${field('direction', 'Direction', h(r.direction))}
${field('user', 'User', optional(r.user))}
${field('client', 'Client address', h(r.client))}
${field('method', 'Method', `<span class="mono">${h(r.method)}</span>`)}
${field('host', 'Host', h(r.host))}
${field('path', 'Path (without query)', `<span class="mono">${h(r.path)}</span>`)}
${field('rule', 'Policy rule', h(r.rule))}
${field('violations', 'Violations', r.violations.length === 0 ? '—' : r.violations.map(h).join(', '))}
${field('reason', 'Reason', optional(r.reason))}
${field('service', 'Scanning service', optional(r.service))}
${field('istag', 'Service ISTag', optional(r.istag))}
${field('source', 'Verdict source', h(r.source))}
${field('size', 'Body size', `${h(r.sizeBytes)} bytes`)}
${field('sha256', 'Body SHA-256', `<span class="mono">${optional(r.sha256)}</span>`)}
</dl>
${otherRecords(all)}
<h2>Related</h2>
<ul>
${related('user', r.user, 'Incidents of user')}
${related('client', r.client, 'Incidents from client')}
${related('host', r.host, 'Incidents to host')}
${related('rule', r.rule, 'Incidents of rule')}
<li><a href="${href(`/api/incidents/${encodeURIComponent(r.incident)}`)}">This incident as JSON</a></li>
</ul>`;
}

export function renderIncidentMissing(id: string): string {
  return `<h1>Incident <span class="mono">${h(id)}</span> not found</h1>
<p class="notice" id="not-found">No incident with this number is stored. It may be older than the retention period, mistyped, or from another proxy instance.</p>
<p><a href="/incidents">All incidents</a></p>`;
}
