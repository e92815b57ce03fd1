// The summary of a period: incidents per day as a chart (every day of the period, zero when
// quiet), and the top users, hosts, rules and violation kinds, each linking to the list filtered by
// that value over the same period.
import type { IncidentSummary } from '../../incidents/index.js';
import { renderBarChart, type ChartPoint } from './bar-chart.js';
import { h, href } from './page-layout.js';

const DAY_MS = 86_400_000;

/** The last UTC day of a range whose `to` is exclusive. */
export function lastDay(to: string): string {
  return new Date(Date.parse(to) - 1).toISOString().slice(0, 10);
}

/** Every UTC day from `from` to `to` (exclusive) with its count (days the store does not list count zero). */
export function everyDay(summary: Pick<IncidentSummary, 'from' | 'to' | 'perDay'>): ChartPoint[] {
  const counts = new Map(summary.perDay.map((d) => [d.day, d.count]));
  const out: ChartPoint[] = [];
  const start = Date.parse(summary.from.slice(0, 10));
  const end = Date.parse(lastDay(summary.to));
  for (let t = start; t <= end; t += DAY_MS) {
    const day = new Date(t).toISOString().slice(0, 10);
    out.push({ label: day, value: counts.get(day) ?? 0 });
  }
  return out;
}

export interface SummaryForm {
  from: string;
  to: string;
  top: string;
}

function topTable(id: string, title: string, column: string, key: string, rows: ReadonlyArray<{ key: string; count: number }>, period: SummaryForm): string {
  const body =
    rows.length === 0
      ? '<tr><td colspan="2">—</td></tr>'
      : rows.map((r) => `<tr><td><a href="${href('/incidents', { from: period.from, to: period.to, [key]: r.key })}">${h(r.key)}</a></td><td>${h(r.count)}</td></tr>`).join('');
  return `<section><h2>${title}</h2><table id="${id}"><thead><tr><th>${column}</th><th>Incidents</th></tr></thead><tbody>${body}</tbody></table></section>`;
}

export function renderSummary(summary: IncidentSummary, form: SummaryForm): string {
  const days = everyDay(summary);
  return `<h1>Summary</h1>
${renderSummaryForm(form)}
<p class="meta"><span id="summary-total">${h(summary.total)} incidents</span> from ${h(summary.from.slice(0, 10))} to ${h(lastDay(summary.to))} (UTC)
<a href="${href('/incidents', { from: form.from, to: form.to })}">List them</a>
<a href="${href('/api/incidents/summary', { from: form.from, to: form.to, top: form.top })}">JSON API</a></p>
<h2>Incidents per day</h2>
${renderBarChart(days, `Incidents per day from ${days[0]?.label ?? ''} to ${days.at(-1)?.label ?? ''}`)}
<details><summary>Per day as a table</summary><table id="per-day"><thead><tr><th>Day</th><th>Incidents</th></tr></thead><tbody>${days.map((d) => `<tr><td>${h(d.label)}</td><td>${h(d.value)}</td></tr>`).join('')}</tbody></table></details>
<div class="grid">
${topTable('top-users', 'Top users', 'User', 'user', summary.topUsers, form)}
${topTable('top-hosts', 'Top hosts', 'Host', 'host', summary.topHosts, form)}
${topTable('top-rules', 'Top rules', 'Rule', 'rule', summary.topRules, form)}
${topTable('top-violations', 'Top violations', 'Violation', 'violation', summary.topViolations, form)}
</div>`;
}

export function renderSummaryForm(form: SummaryForm): string {
  return `<form class="filters" method="get" action="/incidents/summary">
<label for="s-from">From (UTC)<input id="s-from" name="from" value="${h(form.from)}" placeholder="2024-05-01"></label>
<label for="s-to">To (UTC)<input id="s-to" name="to" value="${h(form.to)}" placeholder="2024-05-31"></label>
<label for="s-top">Top<input id="s-top" name="top" value="${h(form.top)}" inputmode="numeric"></label>
<div class="actions"><button class="primary" id="apply-summary" type="submit">Show</button></div>
</form>`;
}

export function renderSummaryErrors(errors: readonly string[], form: SummaryForm): string {
  return `<h1>Summary</h1>
${renderSummaryForm(form)}
<div class="error" id="filter-errors"><ul>${errors.map((e) => `<li>${h(e)}</li>`).join('')}</ul></div>`;
}
