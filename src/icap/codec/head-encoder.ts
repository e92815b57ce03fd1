// One encoder for the ICAP head of either direction: the start line, the headers, a computed
// Encapsulated header and the encapsulated HTTP heads right after it (RFC 3507 §4.4.1: offsets
// count from the first byte after the ICAP head's blank line, each head including its own).
import type { HeaderList, HttpHead } from '../../core/types.js';
import { formatEncapsulated, type BodyName } from './encapsulated.js';
import { serializeHeaders } from './header-block.js';
import { serializeHttpHead } from './http-head.js';

export interface EncapsulatedParts {
  reqHead?: HttpHead | undefined;
  resHead?: HttpHead | undefined;
  body: BodyName;
}

export function encodeHead(startLine: string, headers: HeaderList, parts: EncapsulatedParts): Buffer {
  const sections: Array<{ name: 'req-hdr' | 'res-hdr'; text: string; length: number }> = [];
  if (parts.reqHead) sections.push(section('req-hdr', serializeHttpHead(parts.reqHead)));
  if (parts.resHead) sections.push(section('res-hdr', serializeHttpHead(parts.resHead)));
  const own = headers.filter(([name]) => name.toLowerCase() !== 'encapsulated');
  own.push(['Encapsulated', formatEncapsulated(sections, parts.body)]);
  const head = `${startLine}\r\n${serializeHeaders(own)}\r\n`;
  return Buffer.from(head + sections.map((s) => s.text).join(''), 'latin1');
}

function section(name: 'req-hdr' | 'res-hdr', text: string) {
  return { name, text, length: Buffer.byteLength(text, 'latin1') };
}
