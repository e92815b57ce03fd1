// Header blocks shared by ICAP heads, encapsulated HTTP heads and chunked trailers. RFC 3507 §4.3
// borrows HTTP/1.1's grammar (RFC 2616 §4.2), including obs-fold continuation lines: c-icap's
// virus_scan folds X-Violations-Found over tab-indented lines, which are joined with one space.
import type { HeaderList, IcapHeaders } from '../../core/types.js';
import { IcapParseError } from './parse-error.js';

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Field values: visible ASCII, obs-text, space and tab. NUL, CR and LF are never allowed.
const BAD_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;

/** Split a head (bytes up to, not including, the blank line) into lines; LF alone is tolerated. */
export function splitLines(text: string): string[] {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.endsWith('\r')) lines[i] = line.slice(0, -1);
  }
  return lines;
}

/** Parse header lines from `lines[from]` on (after a start line) into an ordered list, joining obs-fold continuations. */
export function parseHeaderLines(lines: string[], what: 'header' | 'trailer' | 'http-head', from = 0): HeaderList {
  const list: HeaderList = [];
  for (let i = from; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.length === 0) continue;
    if (line[0] === ' ' || line[0] === '\t') {
      const last = list[list.length - 1];
      if (!last) throw new IcapParseError(what, 'continuation line before any header');
      const more = line.trim();
      if (BAD_VALUE.test(more)) throw new IcapParseError(what, 'control character in folded header value');
      last[1] = last[1].length === 0 ? more : more.length === 0 ? last[1] : `${last[1]} ${more}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw new IcapParseError(what, `header line without a name: ${JSON.stringify(line.slice(0, 40))}`);
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) throw new IcapParseError(what, `invalid header name ${JSON.stringify(name.slice(0, 40))}`);
    const value = line.slice(colon + 1).trim();
    if (BAD_VALUE.test(value)) throw new IcapParseError(what, `control character in header ${name}`);
    list.push([name, value]);
  }
  return list;
}

/** ICAP headers as a map: names lower-cased, repeats joined with ", " (RFC 2616 §4.2). */
export function toIcapHeaders(list: HeaderList): IcapHeaders {
  const map: IcapHeaders = new Map();
  for (const [name, value] of list) {
    const key = name.toLowerCase();
    const prior = map.get(key);
    map.set(key, prior === undefined ? value : `${prior}, ${value}`);
  }
  return map;
}

/** Serialise a header list; names and values are checked so a caller cannot inject lines. */
export function serializeHeaders(list: HeaderList): string {
  let out = '';
  for (const [name, value] of list) {
    if (!TOKEN.test(name)) throw new TypeError(`invalid header name ${JSON.stringify(name)}`);
    if (BAD_VALUE.test(value)) throw new TypeError(`invalid characters in header ${name}`);
    out += `${name}: ${value}\r\n`;
  }
  return out;
}

export function isToken(value: string): boolean {
  return TOKEN.test(value);
}
