// The HTTP heads carried inside ICAP (req-hdr, res-hdr; RFC 3507 §4.4). `version` holds the digits
// only ('1.0', '1.1'), as node:http's `httpVersion` does, so heads built from IncomingMessage
// serialise unchanged; a full 'HTTP/1.1' is accepted when serialising too.
import type { HttpHead } from '../../core/types.js';
import { isToken, parseHeaderLines, serializeHeaders, splitLines } from './header-block.js';
import { IcapParseError } from './parse-error.js';

const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([^\x00-\x20\x7f]+) HTTP\/(\d\.\d)$/;
const STATUS_LINE = /^HTTP\/(\d\.\d) (\d{3})(?: ([^\x00-\x08\x0a-\x1f\x7f]*))?$/;

/** Parse one encapsulated head; `text` is the section without its final blank line. */
export function parseHttpHead(text: string): HttpHead {
  const lines = splitLines(text);
  const first = lines[0] ?? '';
  const headers = parseHeaderLines(lines, 'http-head', 1);
  const status = STATUS_LINE.exec(first);
  if (status) {
    return { kind: 'response', version: status[1]!, status: Number(status[2]), reason: status[3] ?? '', headers };
  }
  const request = REQUEST_LINE.exec(first);
  if (request) return { kind: 'request', method: request[1]!, target: request[2]!, version: request[3]!, headers };
  throw new IcapParseError('http-head', `invalid encapsulated HTTP start line ${JSON.stringify(first.slice(0, 80))}`);
}

/** Serialise a head including its terminating blank line (RFC 3507 §4.4.1 offsets count it). */
export function serializeHttpHead(head: HttpHead): string {
  const version = head.version.startsWith('HTTP/') ? head.version : `HTTP/${head.version}`;
  let start: string;
  if (head.kind === 'request') {
    const method = head.method ?? '';
    const target = head.target ?? '';
    if (!isToken(method)) throw new TypeError(`invalid HTTP method ${JSON.stringify(method)}`);
    if (target.length === 0 || /[\x00-\x20\x7f]/.test(target)) throw new TypeError('invalid HTTP request target');
    start = `${method} ${target} ${version}`;
  } else {
    const status = head.status ?? 0;
    if (!Number.isInteger(status) || status < 100 || status > 999) throw new TypeError(`invalid HTTP status ${status}`);
    const reason = head.reason ?? '';
    if (/[\x00-\x08\x0a-\x1f\x7f]/.test(reason)) throw new TypeError('invalid HTTP reason phrase');
    start = `${version} ${status} ${reason}`;
  }
  return `${start}\r\n${serializeHeaders(head.headers)}\r\n`;
}
