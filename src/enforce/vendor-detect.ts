// `vendor: auto`: which profile an OPTIONS answer (RFC 3507 §4.10.2) calls for, and why. It reads
// only what servers put in OPTIONS on their own: the product's name in Service ("a text description
// of the vendor and product") or in the Server header some send, tried first; then headers only one
// product sends; then ISTag shapes. Nothing matching means `generic`, whose reading blocks on every
// known threat header. Names are matched as words, so a service named after a customer does not
// trip a vendor by accident.
import type { IcapHeaders } from '../core/types.js';
import type { Vendor } from './vendor-profiles.js';

export interface VendorDetection {
  vendor: Vendor;
  /** one line for the log and the probe: which header said what */
  reason: string;
}

interface DetectRule {
  vendor: Vendor;
  /** matched against Service and Server */
  name?: RegExp;
  istag?: { pattern: RegExp; says: string };
  /** a header only this vendor sends in OPTIONS, with the value it sends */
  header?: { name: string; value: RegExp };
}

const RULES: DetectRule[] = [
  // `Service: C-ICAP/0.5.10 server - Antivirus service`, ISTag "CI0001-…" (seen on 0.5.10).
  { vendor: 'c-icap', name: /\bc-icap\//i, istag: { pattern: /^"?CI0001-/, says: 'starts with CI0001- like c-icap\'s' } },
  // "X-Response-Info … is available in all responses sent by the ICAP server", `Options` on OPTIONS.
  { vendor: 'metadefender', name: /\b(metadefender|opswat)\b/i, header: { name: 'x-response-info', value: /^\s*options\s*$/i } },
  { vendor: 'symantec', name: /\b(symantec|broadcom|vontu|network prevent)\b/i },
  // Forcepoint's (formerly Websense) ICAP Service sends the ISTag "WEBSENSE".
  { vendor: 'forcepoint', name: /\b(forcepoint|websense)\b/i, istag: { pattern: /^"?websense/i, says: 'is Forcepoint\'s (WEBSENSE)' } },
  { vendor: 'trellix', name: /\b(trellix|mcafee|skyhigh|mwg)\b/i },
  { vendor: 'kaspersky', name: /\b(kaspersky|kavicapd)\b/i },
  { vendor: 'sophos', name: /\b(sophos|savdi)\b/i },
  // ESET Server Security's ISTag as captured in nextcloud/files_antivirus#303: 16 hex digits, a dash
  // and a Unix time ("970d18076ed48d79-1701775538").
  { vendor: 'eset', name: /\beset\b/i, istag: { pattern: /^"?[0-9a-f]{16}-\d{10}"?$/, says: 'has ESET\'s shape (16 hex digits, a dash, a Unix time)' } },
  { vendor: 'trend-micro', name: /\b(trend ?micro|interscan|iwsva|iwss|deep discovery)\b/i },
  { vendor: 'clearswift', name: /\bclearswift\b/i },
];

/** Values from a peer end up in a log line: printable, bounded. */
function shown(value: string): string {
  const clean = value.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return clean.length > 80 ? `${clean.slice(0, 79)}…` : clean;
}

export function detectVendor(options: IcapHeaders): VendorDetection {
  const service = options.get('service');
  const server = options.get('server');
  const istag = options.get('istag');
  // A product that names itself wins over every shape-based guess, whatever the rule order.
  for (const rule of RULES) {
    if (!rule.name) continue;
    if (service !== undefined && rule.name.test(service)) return { vendor: rule.vendor, reason: `OPTIONS Service is "${shown(service)}"` };
    if (server !== undefined && rule.name.test(server)) return { vendor: rule.vendor, reason: `OPTIONS Server is "${shown(server)}"` };
  }
  for (const rule of RULES) {
    const value = rule.header ? options.get(rule.header.name) : undefined;
    if (rule.header && value !== undefined && rule.header.value.test(value)) return { vendor: rule.vendor, reason: `OPTIONS carries ${rule.header.name}: ${shown(value)}` };
  }
  for (const rule of RULES) {
    if (rule.istag && istag !== undefined && rule.istag.pattern.test(istag.trim())) return { vendor: rule.vendor, reason: `OPTIONS ISTag ${shown(istag)} ${rule.istag.says}` };
  }
  const seen = [service === undefined ? 'no Service' : `Service "${shown(service)}"`, server === undefined ? 'no Server' : `Server "${shown(server)}"`, istag === undefined ? 'no ISTag' : `ISTag ${shown(istag)}`];
  return { vendor: 'generic', reason: `no vendor recognised in OPTIONS (${seen.join(', ')})` };
}
