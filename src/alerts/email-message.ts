// The text of the alert mails: one incident (immediate mode) or the incidents of one period
// (digest mode), plain text only, made of the violation log fields and a link to the incident
// page; never content. Host, path, user and reason come from traffic or from a scanner: control
// and bidirectional-override characters are replaced and long values cut, so a value cannot
// forge a line of the mail or reorder what a reader sees (header encoding is nodemailer's: a
// subject is one encoded word, RFC 2047, whatever it holds).
import type { EmailIncident } from './email-routes.js';

export interface ComposedMail {
  subject: string;
  text: string;
}

/** A period's incidents, in arrival order; `omitted` more arrived past the digest's bound. */
export interface DigestContent {
  incidents: readonly EmailIncident[];
  omitted: number;
  from: Date;
  to: Date;
}

const MAX_VALUE_CHARS = 300;
const MAX_SUBJECT_CHARS = 160;
const FOOTER = 'Sent by dlp-proxy. This mail carries the fields of the violation log line, never the content.';

/** C0/C1 controls, DEL, line/paragraph separators, bidi embeddings, overrides and isolates. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/g;

export function clean(value: string, max = MAX_VALUE_CHARS): string {
  const safe = value.replace(UNSAFE, '\uFFFD');
  return safe.length > max ? `${safe.slice(0, max - 1)}…` : safe;
}

export function incidentLink(base: string | undefined, incident: string): string | undefined {
  return base === undefined ? undefined : `${base}${encodeURIComponent(incident)}`;
}

const verb = (i: EmailIncident) => (i.action === 'monitor' ? 'Monitored' : 'Blocked');

export function composeIncident(incident: EmailIncident, linkBase: string | undefined): ComposedMail {
  const violations = incident.violations.length > 0 ? incident.violations.map((v) => clean(v, 80)).join(', ') : 'none named';
  const subject = clean(`[dlp-proxy] ${verb(incident)} ${incident.direction} ${incident.direction === 'download' ? 'from' : 'to'} ${incident.host}: ${violations} (rule ${incident.rule})`, MAX_SUBJECT_CHARS);
  const rows: Array<[string, string | undefined]> = [
    ['Incident', incident.incident],
    ['Time', incident.time],
    ['Action', incident.action],
    ['Direction', incident.direction],
    ['Client', incident.client],
    ['User', incident.user],
    ['Request', `${incident.method} ${incident.host}${incident.path}`],
    ['Rule', incident.rule],
    ['Service', incident.service === undefined ? undefined : incident.istag === undefined ? incident.service : `${incident.service} (ISTag ${incident.istag})`],
    ['Source', incident.source],
    ['Violations', violations],
    ['Reason', incident.reason],
    ['Size', `${incident.sizeBytes} bytes`],
    ['SHA-256', incident.sha256],
  ];
  const link = incidentLink(linkBase, incident.incident);
  const text = [
    `${verb(incident)}: a violation of rule ${clean(incident.rule)}.`,
    '',
    ...rows.flatMap(([k, v]) => (v === undefined || v === '' ? [] : [`${`${k}:`.padEnd(12)}${clean(v)}`])),
    ...(link ? ['', `Incident page: ${link}`] : []),
    '',
    '-- ',
    FOOTER,
    '',
  ].join('\n');
  return { subject, text };
}

export function composeDigest(content: DigestContent, linkBase: string | undefined): ComposedMail {
  const { incidents, omitted } = content;
  const total = incidents.length + omitted;
  const blocked = incidents.filter((i) => i.action !== 'monitor').length;
  const period = `${hhmm(content.from)}–${hhmm(content.to)} UTC`;
  const subject = clean(`[dlp-proxy] ${total} incident${total === 1 ? '' : 's'} ${period} (${blocked} blocked, ${incidents.length - blocked} monitored${omitted ? `, ${omitted} not listed` : ''})`, MAX_SUBJECT_CHARS);
  const lines = [
    `${total} incident${total === 1 ? '' : 's'} from ${content.from.toISOString()} to ${content.to.toISOString()}.`,
    ...(omitted ? [`${omitted} more arrived after the first ${incidents.length}: they are in the incident store and the violation log, not listed here.`] : []),
    '',
    'By rule:',
    ...top(incidents.map((i) => i.rule)),
    '',
    'By violation:',
    ...top(incidents.flatMap((i) => i.violations)),
    '',
    'Incidents (oldest first):',
  ];
  for (const i of incidents) {
    const who = i.user ? `${i.user} (${i.client})` : i.client;
    lines.push(clean(`${i.time}  ${i.action}  ${i.direction}  ${who}  ${i.method} ${i.host}${i.path}  rule ${i.rule}  ${i.violations.join(', ') || 'none named'}  #${i.incident}`, 2 * MAX_VALUE_CHARS));
    const link = incidentLink(linkBase, i.incident);
    if (link) lines.push(`    ${link}`);
  }
  lines.push('', '-- ', FOOTER, '');
  return { subject, text: lines.join('\n') };
}

/** Counts per name, most frequent first (ties by name). */
function top(names: readonly string[]): string[] {
  const counts = new Map<string, number>();
  for (const n of names) counts.set(n, (counts.get(n) ?? 0) + 1);
  return [...counts]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([name, count]) => `  ${String(count).padStart(5)}  ${clean(name, 80)}`);
}

function hhmm(d: Date): string {
  return d.toISOString().slice(11, 16);
}
