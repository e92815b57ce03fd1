// Violation names and a reason, read from the ICAP response headers vendors use, for the log and
// the block page. Names are bounded (count and length): they come from a peer and end up in HTML
// and log lines. Which vendor sends which header: docs/vendors.md.
import type { HeaderList, IcapHeaders } from '../core/types.js';

const MAX_VIOLATIONS = 20;
const MAX_NAME = 200;

const REASON_HEADERS = ['x-blocked-reason', 'x-block-reason', 'x-response-desc', 'x-response-description'];
/** Headers that name a threat or a block: any one of them makes an answer a block (DESIGN.md). */
const THREAT_HEADERS = ['x-infection-found', 'x-violations-found', 'x-virus-id', 'x-virus-name', 'x-blocked-reason', 'x-block-reason'];

export interface Findings {
  violations: string[];
  reason: string | undefined;
}

export function findings(headers: IcapHeaders): Findings {
  const names: string[] = [];
  const infection = headers.get('x-infection-found');
  if (infection !== undefined) names.push(...parseInfectionFound(infection));
  const found = headers.get('x-violations-found');
  if (found !== undefined) names.push(...parseViolationsFound(found));
  // X-Virus-Name: McAfee Web Gateway and FortiSandbox (owncloud files_antivirus docs)
  for (const name of ['x-virus-id', 'x-virus-name']) {
    const value = headers.get(name);
    if (value !== undefined) names.push(unquote(value));
  }
  const attribute = headers.get('x-attribute');
  if (attribute !== undefined) names.push(...parseAttribute(attribute));
  // X-Block-Reason: McAfee Web Gateway; X-Response-Description: ESET (X-Response-Desc elsewhere)
  const reasonText = REASON_HEADERS.map((n) => headers.get(n)).find((v) => v !== undefined && v.trim() !== '');
  const reason = reasonText === undefined ? undefined : clip(reasonText.trim());
  const violations = [...new Set(names.map((n) => clip(n.trim())).filter((n) => n !== '' && n !== '-'))];
  if (violations.length === 0 && reason !== undefined) violations.push(reason);
  return { violations: violations.slice(0, MAX_VIOLATIONS), reason };
}

/** draft-stecher-icap-subid §3.2: `Type=0; Resolution=2; Threat=Eicar-Signature;` */
export function parseInfectionFound(value: string): string[] {
  for (const part of value.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim().toLowerCase() === 'threat') return [part.slice(eq + 1).trim()];
  }
  return [];
}

/**
 * draft-stecher-icap-subid §3.3: a count, then per violation four lines (file name, threat name,
 * threat id, disposition). The lines arrive obs-folded; our decoder joins them with one space, so
 * the value is either multi-line or one line of tokens in which a group ends with two integers.
 */
export function parseViolationsFound(value: string): string[] {
  const lines = value.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
  if (lines.length > 1) {
    const out: string[] = [];
    for (let i = 1; i + 1 < lines.length; i += 4) out.push(lines[i + 1]!);
    return out;
  }
  const tokens = value.trim().split(/\s+/);
  const count = Number(tokens[0]);
  if (!Number.isInteger(count) || count < 1) return [];
  const isInt = (t: string | undefined) => t !== undefined && /^\d+$/.test(t);
  const out: string[] = [];
  let i = 1;
  while (out.length < count && i < tokens.length) {
    i++; // file name
    const start = i;
    while (i < tokens.length && !(isInt(tokens[i]) && isInt(tokens[i + 1]))) i++;
    if (i > start) out.push(tokens.slice(start, i).join(' '));
    i += 2;
  }
  return out;
}

/** c-icap srv_content_filtering: `X-Attribute: DLP=100` (one or more, scores dropped). */
function parseAttribute(value: string): string[] {
  return value.split(/[,;]/).map((a) => a.split('=')[0]!.trim());
}

function unquote(value: string): string {
  const v = value.trim();
  return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
}

/** Threat names a vendor puts in the encapsulated HTTP head of its block page (profile.httpHeadNames). */
export function namesFromHead(headers: HeaderList, wanted: readonly string[]): string[] {
  if (wanted.length === 0) return [];
  const names = headers.filter(([name]) => wanted.includes(name.toLowerCase())).map(([, value]) => clip(unquote(value)));
  return names.filter((n) => n !== '' && n !== '-').slice(0, MAX_VIOLATIONS);
}

function clip(text: string): string {
  // control characters never reach a log line or a page
  const clean = utf8(text).replace(/[\u0000-\u001f\u007f]+/g, ' ');
  return clean.length > MAX_NAME ? `${clean.slice(0, MAX_NAME - 1)}…` : clean;
}

/**
 * Header values are read as latin1 (RFC 9110 §5.5 obs-text); ESET sends UTF-8 ("Gelöscht"). A value
 * whose bytes are valid UTF-8 is shown as such, anything else as received.
 */
function utf8(text: string): string {
  if (!/[\u0080-\u00ff]/.test(text) || /[^\u0000-\u00ff]/.test(text)) return text;
  const decoded = Buffer.from(text, 'latin1').toString('utf8');
  return decoded.includes('\ufffd') ? text : decoded;
}

/** A header names a threat or a block (X-Response-Info aside). */
export function hasThreatHeader(headers: IcapHeaders): boolean {
  return THREAT_HEADERS.some((name) => headers.has(name));
}

/** The header-level signals that make any answer a block (DESIGN.md "Key types"). */
export function hasBlockHeader(headers: IcapHeaders): boolean {
  if (hasThreatHeader(headers)) return true;
  const info = headers.get('x-response-info');
  return info !== undefined && /^\s*block(ed)?\b/i.test(info);
}

/** Trellix/McAfee Web Gateway: `X-MFE-PREVENT: SCANFAIL` = the object could not be scanned. */
export function isScanFail(headers: IcapHeaders): boolean {
  return /\bSCANFAIL\b/i.test(headers.get('x-mfe-prevent') ?? '');
}
