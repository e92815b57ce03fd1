// The Encapsulated header (RFC 3507 §4.4.1): byte offsets of each part of the encapsulated
// message, in order, ending with exactly one body entry (req-body, res-body, opt-body or
// null-body). Offsets are relative to the first byte after the ICAP head.
import { IcapParseError } from './parse-error.js';

export type EncapsulatedName = 'req-hdr' | 'res-hdr' | 'req-body' | 'res-body' | 'opt-body' | 'null-body';
export type BodyName = 'req-body' | 'res-body' | 'opt-body' | 'null-body';

export interface Encapsulated {
  /** header sections in order, each with its byte length (next offset minus its own) */
  heads: Array<{ name: 'req-hdr' | 'res-hdr'; offset: number; length: number }>;
  body: { name: BodyName; offset: number };
}

const ENTRY = /^(req-hdr|res-hdr|req-body|res-body|opt-body|null-body)=(\d{1,9})$/;
const RANK: Record<EncapsulatedName, number> = { 'req-hdr': 0, 'res-hdr': 1, 'req-body': 2, 'res-body': 2, 'opt-body': 2, 'null-body': 2 };

export function parseEncapsulated(value: string): Encapsulated {
  const parts = value.split(',').map((p) => p.trim());
  const heads: Encapsulated['heads'] = [];
  let body: Encapsulated['body'] | undefined;
  let lastRank = -1;
  let lastOffset = -1;
  for (const part of parts) {
    const m = ENTRY.exec(part);
    if (!m) throw new IcapParseError('encapsulated', `invalid Encapsulated entry ${JSON.stringify(part.slice(0, 40))}`);
    if (body) throw new IcapParseError('encapsulated', 'Encapsulated has an entry after its body entry');
    const name = m[1] as EncapsulatedName;
    const offset = Number(m[2]);
    if (RANK[name] <= lastRank && RANK[name] !== 2) throw new IcapParseError('encapsulated', `Encapsulated entries out of order at ${name}`);
    if (lastOffset < 0 ? offset !== 0 : offset <= lastOffset) {
      throw new IcapParseError('encapsulated', `Encapsulated offsets must start at 0 and increase (${value})`);
    }
    if (name === 'req-hdr' || name === 'res-hdr') heads.push({ name, offset, length: 0 });
    else body = { name, offset };
    lastRank = RANK[name];
    lastOffset = offset;
  }
  if (!body) throw new IcapParseError('encapsulated', 'Encapsulated has no body entry (req-body, res-body, opt-body or null-body)');
  for (let i = 0; i < heads.length; i++) {
    const next = heads[i + 1]?.offset ?? body.offset;
    heads[i]!.length = next - heads[i]!.offset;
  }
  return { heads, body };
}

/** Build the header value from section lengths, in wire order. */
export function formatEncapsulated(heads: Array<{ name: 'req-hdr' | 'res-hdr'; length: number }>, body: BodyName): string {
  const entries: string[] = [];
  let offset = 0;
  for (const h of heads) {
    entries.push(`${h.name}=${offset}`);
    offset += h.length;
  }
  entries.push(`${body}=${offset}`);
  return entries.join(', ');
}
