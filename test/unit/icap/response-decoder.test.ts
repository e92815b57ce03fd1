// Response decoder byte scripts: the quirks of PEERS.md (c-icap as it really answers) and the
// error cases, each fed at every split of SPLITS.
import { describe, expect, it } from 'vitest';
import { IcapResponseDecoder, type IcapResponseEvent } from '../../../src/icap/codec/index.js';
import { SPLITS, bytes, crlf, feed, parseErrorOf, summarise } from './codec-helpers.js';

function decodeAll(text: string | Buffer, limits = {}) {
  const results = SPLITS.map((sizes) => {
    const d = new IcapResponseDecoder(limits);
    const s = summarise(feed<IcapResponseEvent>(d, typeof text === 'string' ? bytes(text) : text, sizes));
    return { s, idle: d.idle };
  });
  for (const r of results) expect(r).toEqual(results[0]);
  return results[0]!;
}

// A c-icap virus_scan block page, as captured: HTTP/1.0 403 without Content-Length, Connection:
// close, body ending in two NUL bytes, X-Violations-Found folded over tab-indented lines.
const BLOCK_HTTP = crlf(['HTTP/1.0 403 Forbidden', 'Server: C-ICAP', 'Connection: close', 'Content-Type: text/html', 'Content-Language: en', '', '']);
const BLOCK_BODY = '<html><body>Virus found</body></html>\n\0\0';
const VIRUS_BLOCK = crlf([
  'ICAP/1.0 200 OK',
  'Server: C-ICAP/0.5.10',
  'Connection: keep-alive',
  'ISTag: "CI0001-1-3-1"',
  'X-Infection-Found: Type=0; Resolution=2; Threat=Eicar-Test-Signature.UNOFFICIAL;',
  'X-Violations-Found: 1',
  '\t-',
  '\tEicar-Test-Signature.UNOFFICIAL',
  '\t0',
  '\t0',
  `Encapsulated: res-hdr=0, res-body=${BLOCK_HTTP.length}`,
  '',
  BLOCK_HTTP + BLOCK_BODY.length.toString(16),
  BLOCK_BODY,
  '0',
  '',
  '',
]);

describe('IcapResponseDecoder: c-icap quirks (PEERS.md)', () => {
  it('joins a folded X-Violations-Found and keeps the NUL-terminated HTTP/1.0 block page intact', () => {
    const { s, idle } = decodeAll(VIRUS_BLOCK);
    expect(s.events).toEqual(['head', 'http-head', 'body', 'end']);
    const head = s.heads[0]!;
    const http = s.heads[1]!;
    if (head.type !== 'head' || http.type !== 'http-head') throw new Error('unreachable');
    expect(head.head.headers.get('x-violations-found')).toBe('1 - Eicar-Test-Signature.UNOFFICIAL 0 0');
    expect(head.head.headers.get('x-infection-found')).toContain('Threat=Eicar-Test-Signature.UNOFFICIAL;');
    expect(http.head).toEqual({
      kind: 'response',
      version: '1.0',
      status: 403,
      reason: 'Forbidden',
      headers: [
        ['Server', 'C-ICAP'],
        ['Connection', 'close'],
        ['Content-Type', 'text/html'],
        ['Content-Language', 'en'],
      ],
    });
    expect(s.bodies[0]).toBe(BLOCK_BODY);
    expect(s.bodies[0]!.endsWith('\0\0')).toBe(true);
    expect(idle).toBe(true);
  });

  it('reads a 204 with any reason phrase and no Encapsulated as a complete message', () => {
    const { s, idle } = decodeAll(crlf(['ICAP/1.0 204 Unmodified', 'Server: C-ICAP/0.5.10', 'Connection: keep-alive', 'ISTag: "CI0001-1-3-1"', '', '']));
    expect(s.events).toEqual(['head', 'end']);
    const head = s.heads[0]!;
    if (head.type !== 'head') throw new Error('unreachable');
    expect(head.head).toMatchObject({ status: 204, reason: 'Unmodified', encapsulated: null });
    expect(idle).toBe(true);
  });

  it('accepts a status line without a reason phrase, and one with an empty reason', () => {
    for (const line of ['ICAP/1.0 204', 'ICAP/1.0 204 ']) {
      const { s } = decodeAll(crlf([line, 'ISTag: x', 'Encapsulated: null-body=0', '', '']));
      const head = s.heads[0]!;
      if (head.type !== 'head') throw new Error('unreachable');
      expect(head.head.reason).toBe('');
    }
  });

  it('surfaces Connection: close (the 101st answer of a c-icap keep-alive connection)', () => {
    const { s } = decodeAll(crlf(['ICAP/1.0 204 Unmodified', 'Connection: close', 'ISTag: "x"', '', '']));
    const head = s.heads[0]!;
    if (head.type !== 'head') throw new Error('unreachable');
    expect(head.head.headers.get('connection')).toBe('close');
  });

  it('yields continue for 100 Continue, then decodes the final answer on the same decoder', () => {
    const { s } = decodeAll(crlf(['ICAP/1.0 100 Continue', '', 'ICAP/1.0 204 No Content', 'ISTag: "a"', 'Encapsulated: null-body=0', '', '']));
    expect(s.events).toEqual(['continue', 'head', 'end']);
  });

  it('decodes several answers back to back (a kept-alive connection)', () => {
    const one = crlf(['ICAP/1.0 204 No Content', 'ISTag: "a"', '', '']);
    const { s } = decodeAll(one + VIRUS_BLOCK + one);
    expect(s.events).toEqual(['head', 'end', 'head', 'http-head', 'body', 'end', 'head', 'end']);
  });

  it('reads chunk extensions, upper-case hex, trailers and bare-LF line ends', () => {
    const msg =
      'ICAP/1.0 200 OK\nISTag: "t"\nEncapsulated: res-hdr=0, res-body=19\n\n' +
      'HTTP/1.1 200 OK\r\n\r\n' +
      'A;name="v;x";other\r\n0123456789\r\n' +
      '0\r\nX-Trailer: yes\r\n\r\n';
    const d = new IcapResponseDecoder();
    const events = feed<IcapResponseEvent>(d, bytes(msg), [1]);
    const s = summarise(events);
    expect(s.events).toEqual(['head', 'http-head', 'body', 'end']);
    expect(s.bodies).toEqual(['0123456789']);
    expect(events.at(-1)).toEqual({ type: 'end', trailers: [['X-Trailer', 'yes']] });
  });

  it('decodes a REQMOD answer that is an HTTP response (request satisfaction)', () => {
    const http = crlf(['HTTP/1.1 403 Forbidden', 'Content-Length: 2', '', '']);
    const { s } = decodeAll(crlf(['ICAP/1.0 200 OK', 'ISTag: "t"', 'X-Response-Info: block', `Encapsulated: res-hdr=0, res-body=${http.length}`, '', http + '2', 'no', '0', '', '']));
    const h = s.heads[1]!;
    if (h.type !== 'http-head') throw new Error('unreachable');
    expect(h.section).toBe('res-hdr');
    expect(h.head.status).toBe(403);
    expect(s.bodies).toEqual(['no']);
  });

  it('reads an opt-body on an OPTIONS answer as a chunked body', () => {
    const { s } = decodeAll(crlf(['ICAP/1.0 200 OK', 'Methods: REQMOD', 'Encapsulated: opt-body=0', '', '3', 'abc', '0', '', '']));
    expect(s.events).toEqual(['head', 'body', 'end']);
    expect(s.bodies).toEqual(['abc']);
  });

  it('reports a connection closed inside a message as truncated, and between messages as fine', () => {
    const d = new IcapResponseDecoder();
    d.push(bytes(VIRUS_BLOCK.slice(0, VIRUS_BLOCK.length - 5)));
    expect(parseErrorOf(() => d.finish()).reason).toBe('truncated');
    const ok = new IcapResponseDecoder();
    ok.push(bytes(VIRUS_BLOCK));
    expect(() => ok.finish()).not.toThrow();
  });
});

describe('IcapResponseDecoder: malformed input is an IcapParseError', () => {
  const cases: Array<[string, string, string]> = [
    ['a HTTP status line instead of ICAP', 'HTTP/1.1 200 OK\r\n\r\n', 'start-line'],
    ['a status of two digits', 'ICAP/1.0 20 OK\r\n\r\n', 'start-line'],
    ['an ICAP version 2', 'ICAP/2.0 200 OK\r\n\r\n', 'start-line'],
    ['a header without colon', 'ICAP/1.0 200 OK\r\nISTag\r\n\r\n', 'header'],
    ['a continuation before any header', 'ICAP/1.0 200 OK\r\n folded\r\n\r\n', 'header'],
    ['Encapsulated not starting at 0', 'ICAP/1.0 200 OK\r\nEncapsulated: res-hdr=5, res-body=9\r\n\r\n', 'encapsulated'],
    ['Encapsulated offsets decreasing', 'ICAP/1.0 200 OK\r\nEncapsulated: res-hdr=0, res-body=0\r\n\r\n', 'encapsulated'],
    ['Encapsulated without a body entry', 'ICAP/1.0 200 OK\r\nEncapsulated: res-hdr=0\r\n\r\n', 'encapsulated'],
    ['Encapsulated res-hdr before req-hdr', 'ICAP/1.0 200 OK\r\nEncapsulated: res-hdr=0, req-hdr=10, null-body=20\r\n\r\n', 'encapsulated'],
    ['an unknown Encapsulated entry', 'ICAP/1.0 200 OK\r\nEncapsulated: foo=0\r\n\r\n', 'encapsulated'],
    ['an entry after the body', 'ICAP/1.0 200 OK\r\nEncapsulated: null-body=0, res-hdr=4\r\n\r\n', 'encapsulated'],
    ['a section not ending at its offset', 'ICAP/1.0 200 OK\r\nEncapsulated: res-hdr=0, null-body=12\r\n\r\nHTTP/1.1 200 OK\r\n\r\n', 'encapsulated'],
    ['a section with a blank line inside', 'ICAP/1.0 200 OK\r\nEncapsulated: res-hdr=0, null-body=23\r\n\r\nHTTP/1.1 200 OK\r\n\r\nA: b\r\n\r\n', 'encapsulated'],
    ['a bad HTTP status line', 'ICAP/1.0 200 OK\r\nEncapsulated: res-hdr=0, null-body=15\r\n\r\nHTTP/1.1 OK\r\n\r\n', 'http-head'],
    ['a non-hex chunk size', 'ICAP/1.0 200 OK\r\nEncapsulated: res-hdr=0, res-body=19\r\n\r\nHTTP/1.1 200 OK\r\n\r\nzz\r\n', 'chunk-size'],
    ['chunk data longer than its size', 'ICAP/1.0 200 OK\r\nEncapsulated: res-hdr=0, res-body=19\r\n\r\nHTTP/1.1 200 OK\r\n\r\n1\r\nab\r\n', 'chunk-data'],
    ['a broken chunk extension', 'ICAP/1.0 200 OK\r\nEncapsulated: res-hdr=0, res-body=19\r\n\r\nHTTP/1.1 200 OK\r\n\r\n0; =x\r\n', 'chunk-size'],
    ['a NUL in a header value', 'ICAP/1.0 200 OK\r\nISTag: a\0b\r\n\r\n', 'header'],
  ];
  for (const [name, text, reason] of cases) {
    it(name, () => {
      for (const sizes of SPLITS) {
        const d = new IcapResponseDecoder();
        expect(parseErrorOf(() => feed(d, bytes(text), sizes)).reason).toBe(reason);
        // A failed decoder stays failed.
        expect(parseErrorOf(() => d.push(bytes('ICAP/1.0 204 x\r\n\r\n'))).reason).toBe(reason);
      }
    });
  }
});

describe('IcapResponseDecoder: limits', () => {
  it('refuses an ICAP head past maxHeadBytes before holding more than the limit', () => {
    const d = new IcapResponseDecoder({ maxHeadBytes: 1024 });
    const huge = bytes('ICAP/1.0 200 OK\r\nX-A: ' + 'a'.repeat(1 << 20));
    expect(parseErrorOf(() => d.push(huge)).reason).toBe('head-too-large');
  });

  it('refuses a head that grows past the limit across many small pushes', () => {
    const d = new IcapResponseDecoder({ maxHeadBytes: 512 });
    const line = bytes('X-Filler: 0123456789\r\n');
    d.push(bytes('ICAP/1.0 200 OK\r\n'));
    expect(parseErrorOf(() => { for (let i = 0; i < 100; i++) d.push(line); }).reason).toBe('head-too-large');
  });

  it('refuses encapsulated heads declared past maxHttpHeadBytes', () => {
    const d = new IcapResponseDecoder({ maxHttpHeadBytes: 100 });
    expect(parseErrorOf(() => d.push(bytes('ICAP/1.0 200 OK\r\nEncapsulated: res-hdr=0, res-body=5000\r\n\r\n'))).reason).toBe('head-too-large');
  });

  it('refuses a chunk-size line past maxChunkLineBytes', () => {
    const d = new IcapResponseDecoder({ maxChunkLineBytes: 64 });
    const msg = 'ICAP/1.0 200 OK\r\nEncapsulated: res-hdr=0, res-body=19\r\n\r\nHTTP/1.1 200 OK\r\n\r\n5;' + 'x'.repeat(100);
    expect(parseErrorOf(() => d.push(bytes(msg))).reason).toBe('chunk-line-too-long');
  });

  it('refuses trailers past maxTrailerBytes', () => {
    const d = new IcapResponseDecoder({ maxTrailerBytes: 64 });
    const msg = 'ICAP/1.0 200 OK\r\nEncapsulated: res-hdr=0, res-body=19\r\n\r\nHTTP/1.1 200 OK\r\n\r\n0\r\n' + 'X-T: 1\r\n'.repeat(20);
    expect(parseErrorOf(() => d.push(bytes(msg))).reason).toBe('head-too-large');
  });

  it('streams a large body without buffering it: each body event is a view of the pushed input', () => {
    const d = new IcapResponseDecoder();
    d.push(bytes('ICAP/1.0 200 OK\r\nEncapsulated: res-hdr=0, res-body=19\r\n\r\nHTTP/1.1 200 OK\r\n\r\n100000\r\n'));
    const block = Buffer.alloc(65536, 0x61);
    let total = 0;
    for (let i = 0; i < 16; i++) {
      const events = d.push(block);
      expect(events).toHaveLength(1);
      const e = events[0]!;
      if (e.type !== 'body') throw new Error('unreachable');
      expect(e.data.buffer).toBe(block.buffer);
      total += e.data.length;
    }
    expect(total).toBe(0x100000);
    expect(summarise(d.push(bytes('\r\n0\r\n\r\n'))).events).toEqual(['end']);
  });
});
