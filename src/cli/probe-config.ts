// The config block `dlp-proxy icap probe` prints to paste: the service with what was detected
// (vendor pinned, `auto` finds it too), the TLS files the probe used, the keys the vendor wants set,
// and the policy rules for the methods it offers (REQMOD → uploads, RESPMOD → downloads).
import type { Vendor, VendorDetection, VendorProfile } from '../enforce/index.js';
import type { ProbeMethod } from './probe-test.js';

export interface ConfigBlockInput {
  url: string;
  /** the service name to use: --name, else dlp when REQMOD is offered, av otherwise */
  name?: string;
  methods: ProbeMethod[];
  detection: VendorDetection;
  profile: VendorProfile;
  tls?: { ca?: string; cert?: string; key?: string; servername?: string; rejectUnauthorized: boolean };
}

const q = (s: string) => JSON.stringify(s); // a JSON string is a YAML string
/** Text from the server (its Service, ISTag) goes into comments: one line, always. */
const comment = (s: string) => s.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ');

const WHY: Partial<Record<Vendor, string>> = {
  trellix: 'Trellix DLP Prevent evaluates X-Server-IP (the origin address) besides the client',
};

export function configBlock(input: ConfigBlockInput): string {
  const { detection, profile } = input;
  const name = input.name ?? (input.methods.includes('REQMOD') ? 'dlp' : 'av');
  const lines = ['# paste into your config (docs/vendors.md says what each vendor needs)', 'services:', `  ${name}:`, `    urls: [ ${q(input.url)} ]`];
  lines.push(
    detection.vendor === 'generic'
      ? `    vendor: auto             # nothing vendor-specific recognised: read as generic (${comment(detection.reason)})`
      : `    vendor: ${detection.vendor}${' '.repeat(Math.max(1, 17 - detection.vendor.length))}# ${profile.product}; auto finds it too (${comment(detection.reason)})`,
  );
  if (input.tls) {
    const t = input.tls;
    const parts = [t.ca ? `ca: ${q(t.ca)}` : '', t.cert ? `cert: ${q(t.cert)}` : '', t.key ? `key: ${q(t.key)}` : '', t.servername ? `servername: ${q(t.servername)}` : '', t.rejectUnauthorized ? '' : 'rejectUnauthorized: false'];
    lines.push(`    tls: { ${parts.filter(Boolean).join(', ')} }`);
  }
  for (const [key, value] of Object.entries(profile.recommend)) {
    lines.push(`    ${key}: ${String(value)}${WHY[profile.vendor] ? `   # ${WHY[profile.vendor]}` : ''}`);
  }
  lines.push('policy:');
  if (input.methods.includes('REQMOD')) lines.push(`  - { name: uploads, match: { direction: upload }, scan: ${name} }`);
  if (input.methods.includes('RESPMOD')) lines.push(`  - { name: downloads, match: { direction: download }, scan: ${name} }`);
  if (input.methods.length === 0) lines.push('  # the service offers neither REQMOD nor RESPMOD');
  return `${lines.join('\n')}\n`;
}
