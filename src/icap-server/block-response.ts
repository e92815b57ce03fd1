// What a block looks like on the wire: an HTTP 403 with a short HTML page naming the detectors,
// and the ICAP headers proxies read to log and classify the block. X-Violations-Found follows
// c-icap's layout (count, then per violation: file name, threat, violation id, disposition),
// written on one line: that is exactly what a client sees after joining c-icap's obs-fold lines.
// A content finding's threat name carries how often it was found, `payment-card x3` (ASCII: the
// header is read as latin1 by every client); malware, file types and limits are named bare, as
// X-Infection-Found names them.
import type { HeaderList, HttpHead } from '../core/types.js';
import type { Violation } from './detectors/findings.js';

/** Disposition 2: the object was blocked (draft-stecher-icap-subid, as c-icap's virus_scan uses). */
const DISPOSITION_BLOCKED = 2;

/** `payment-card x3` for a content finding; other kinds by their name alone. */
export function threatName(violation: Violation): string {
  return violation.kind === 'data' ? `${violation.name} x${violation.count}` : violation.name;
}

export function violationHeaders(violations: readonly Violation[]): HeaderList {
  const entries = violations.map((v) => `- ${threatName(v)} 0 ${DISPOSITION_BLOCKED}`);
  const headers: HeaderList = [['X-Violations-Found', [String(violations.length), ...entries].join(' ')]];
  const threat = violations.find((v) => v.kind === 'malware');
  // RFC 3507 §4.10.2 lists X-Infection-Found among the headers in common use (Type=0: infection).
  if (threat) headers.push(['X-Infection-Found', `Type=0; Resolution=2; Threat=${threat.name};`]);
  return headers;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function blockResponse(violations: readonly Violation[], service: string): { head: HttpHead; body: Buffer } {
  const items = violations.map((v) => `<li><code>${escapeHtml(v.name)}</code>${v.kind === 'data' ? ` &#215;${v.count}` : ''}</li>`).join('');
  const body = Buffer.from(
    '<!doctype html><html><head><meta charset="utf-8"><title>Blocked</title></head><body>' +
      `<h1>Blocked by data protection</h1><p>The ${escapeHtml(service)} service blocked this transfer because it found:</p>` +
      `<ul>${items}</ul></body></html>\n`,
    'utf8',
  );
  return {
    head: {
      kind: 'response',
      version: '1.1',
      status: 403,
      reason: 'Forbidden',
      headers: [
        ['Content-Type', 'text/html; charset=utf-8'],
        ['Content-Length', String(body.length)],
        ['Cache-Control', 'no-store'],
        ['Connection', 'close'],
      ],
    },
    body,
  };
}
