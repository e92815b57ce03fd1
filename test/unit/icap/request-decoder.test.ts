// Server-side byte scripts: the request decoder with previews (ieof, 100 Continue, early answer),
// identity headers, and the response encoder's output read back by the client-side decoder.
import { describe, expect, it } from 'vitest';
import type { HttpHead } from '../../../src/core/types.js';
import {
  IcapRequestDecoder,
  IcapResponseDecoder,
  encodeChunk,
  encodeContinue,
  encodeErrorResponse,
  encodeIcapRequest,
  encodeIcapResponse,
  encodeLastChunk,
  encodeOptionsResponse,
  type IcapRequestEvent,
  type IcapResponseEvent,
} from '../../../src/icap/codec/index.js';
import { SPLITS, bytes, crlf, feed, parseErrorOf, summarise } from './codec-helpers.js';

const POST: HttpHead = { kind: 'request', method: 'POST', target: 'http://example.test/upload', version: '1.1', headers: [['Host', 'example.test'], ['Content-Length', '10']] };
const OK: HttpHead = { kind: 'response', status: 200, reason: 'OK', version: '1.1', headers: [['Content-Type', 'text/plain']] };

function reqmod(body: string, preview: number | undefined, ieof: boolean): Buffer {
  const head = encodeIcapRequest({ method: 'REQMOD', uri: 'icap://127.0.0.1:1344/dlp', reqHead: POST, hasBody: true, headers: [['Allow', '204']], ...(preview === undefined ? {} : { preview }) });
  if (preview === undefined) return Buffer.concat([head, ...encodeChunk(bytes(body)), encodeLastChunk()]);
  const first = body.slice(0, preview);
  return Buffer.concat([head, ...encodeChunk(bytes(first)), encodeLastChunk(ieof)]);
}

describe('IcapRequestDecoder', () => {
  it('a preview that holds the whole body ends with ieof and completes the message', () => {
    for (const sizes of SPLITS) {
      const d = new IcapRequestDecoder();
      const events = feed<IcapRequestEvent>(d, reqmod('0123456789', 1024, true), sizes);
      const s = summarise(events);
      expect(s.events).toEqual(['head', 'http-head', 'body', 'preview-end:ieof', 'end']);
      expect(s.bodies).toEqual(['0123456789']);
      const head = events[0]!;
      if (head.type !== 'head') throw new Error('unreachable');
      expect(head.head).toMatchObject({ method: 'REQMOD', uri: 'icap://127.0.0.1:1344/dlp', preview: 1024, allow204: true });
      expect(d.idle).toBe(true);
    }
  });

  it('holds bytes after a preview until the server sends 100 Continue, then decodes the rest', () => {
    for (const sizes of SPLITS) {
      const d = new IcapRequestDecoder();
      // The client may (wrongly, or racing) send early: the decoder holds what it cannot judge yet.
      const rest = Buffer.concat([...encodeChunk(bytes('456789')), encodeLastChunk()]);
      const events = feed<IcapRequestEvent>(d, Buffer.concat([reqmod('0123456789', 4, false), rest.subarray(0, 3)]), sizes);
      expect(summarise(events).events).toEqual(['head', 'http-head', 'body', 'preview-end']);
      expect(d.idle).toBe(false);
      const more = [...d.continueAfterPreview(), ...feed<IcapRequestEvent>(d, rest.subarray(3), sizes)];
      const s = summarise(more);
      expect(s.events).toEqual(['body', 'end']);
      expect(s.bodies).toEqual(['456789']);
      expect(d.idle).toBe(true);
    }
  });

  it('after an early answer (204 in preview) the next bytes start a new request', () => {
    const d = new IcapRequestDecoder();
    d.push(reqmod('0123456789', 4, false));
    const options = encodeIcapRequest({ method: 'OPTIONS', uri: 'icap://h/dlp', hasBody: false });
    d.push(options.subarray(0, 10));
    const s = summarise([...d.endAfterPreview(), ...d.push(options.subarray(10))]);
    expect(s.events).toEqual(['head', 'end']);
  });

  it('RESPMOD with a preview of 0 and a null-body REQMOD', () => {
    const resp = Buffer.concat([
      encodeIcapRequest({ method: 'RESPMOD', uri: 'icap://h/av', reqHead: POST, resHead: OK, hasBody: true, preview: 0 }),
      encodeLastChunk(false),
    ]);
    const nullBody = encodeIcapRequest({ method: 'REQMOD', uri: 'icap://h/dlp', reqHead: { ...POST, method: 'GET' }, hasBody: false });
    const d = new IcapRequestDecoder();
    expect(summarise(d.push(resp)).events).toEqual(['head', 'http-head', 'http-head', 'preview-end']);
    expect(summarise(d.continueAfterPreview()).events).toEqual([]);
    expect(summarise(d.push(encodeLastChunk())).events).toEqual(['end']);
    expect(summarise(d.push(nullBody)).events).toEqual(['head', 'http-head', 'end']);
  });

  it('reads identity headers as sent (RFC 3507 §4.10 style X-Authenticated-User)', () => {
    const d = new IcapRequestDecoder();
    const msg = encodeIcapRequest({
      method: 'REQMOD',
      uri: 'icap://h/dlp',
      reqHead: POST,
      hasBody: false,
      headers: [['X-Client-IP', '10.0.0.7'], ['X-Authenticated-User', Buffer.from('Local://alice').toString('base64')]],
    });
    const head = d.push(msg)[0]!;
    if (head.type !== 'head') throw new Error('unreachable');
    expect(Buffer.from(head.head.headers.get('x-authenticated-user')!, 'base64').toString()).toBe('Local://alice');
    expect(head.head.headers.get('x-client-ip')).toBe('10.0.0.7');
  });

  it('refuses REQMOD without Encapsulated, a bad Preview and a bad request line', () => {
    expect(parseErrorOf(() => new IcapRequestDecoder().push(bytes('REQMOD icap://h/x ICAP/1.0\r\nHost: h\r\n\r\n'))).reason).toBe('encapsulated');
    expect(parseErrorOf(() => new IcapRequestDecoder().push(bytes('REQMOD icap://h/x ICAP/1.0\r\nPreview: x\r\nEncapsulated: null-body=0\r\n\r\n'))).reason).toBe('header');
    expect(parseErrorOf(() => new IcapRequestDecoder().push(bytes('GET / HTTP/1.1\r\n\r\n'))).reason).toBe('start-line');
  });

  it('refuses more than a head of bytes while a preview awaits its answer', () => {
    const d = new IcapRequestDecoder({ maxHeadBytes: 200 });
    d.push(reqmod('0123456789', 4, false));
    expect(parseErrorOf(() => d.push(Buffer.alloc(300, 0x61))).reason).toBe('state');
  });

  it('only a decoder held after a preview can continue', () => {
    expect(parseErrorOf(() => new IcapRequestDecoder().continueAfterPreview()).reason).toBe('state');
  });
});

describe('response encoder, read back by the client decoder', () => {
  function roundTrip(buf: Buffer) {
    const d = new IcapResponseDecoder();
    const events = feed<IcapResponseEvent>(d, buf, [5]);
    expect(d.idle).toBe(true);
    return events;
  }

  it('100 Continue, 204, 200 with an adapted response and body', () => {
    const body = bytes('blocked\0\0');
    const s = summarise(
      roundTrip(
        Buffer.concat([
          encodeContinue(),
          encodeIcapResponse({ status: 204, headers: [['ISTag', '"a"']], hasBody: false }),
          encodeIcapResponse({ status: 200, headers: [['ISTag', '"a"'], ['X-Violations-Found', '1']], resHead: { ...OK, status: 403, reason: 'Forbidden' }, hasBody: true }),
          ...encodeChunk(body),
          encodeLastChunk(),
        ]),
      ),
    );
    expect(s.events).toEqual(['continue', 'head', 'end', 'head', 'http-head', 'body', 'end']);
    expect(s.bodies).toEqual(['blocked\0\0']);
    const h = s.heads[3]!;
    if (h.type !== 'http-head') throw new Error('unreachable');
    expect(h.head).toMatchObject({ status: 403, reason: 'Forbidden', version: '1.1' });
  });

  it('a REQMOD answer with an adapted request uses req-hdr and req-body', () => {
    const buf = encodeIcapResponse({ status: 200, headers: [['ISTag', '"a"']], reqHead: POST, hasBody: true });
    expect(buf.toString('latin1')).toContain('Encapsulated: req-hdr=0, req-body=');
  });

  it('the OPTIONS answer carries every negotiated field', () => {
    const buf = encodeOptionsResponse({
      methods: ['REQMOD', 'RESPMOD'],
      istag: 'built-in-1',
      service: 'dlp-proxy built-in DLP',
      preview: 4096,
      allow204: true,
      allow206: true,
      optionsTtlSeconds: 600,
      maxConnections: 100,
      transferPreview: ['*'],
      transferIgnore: ['jpg', 'png'],
    });
    const head = roundTrip(buf)[0]!;
    if (head.type !== 'head') throw new Error('unreachable');
    const h = head.head.headers;
    expect(Object.fromEntries(h)).toMatchObject({
      methods: 'REQMOD, RESPMOD',
      istag: '"built-in-1"',
      preview: '4096',
      allow: '204, 206',
      'options-ttl': '600',
      'max-connections': '100',
      'transfer-preview': '*',
      'transfer-ignore': 'jpg, png',
      encapsulated: 'null-body=0',
    });
  });

  it('error answers carry their standard reason and null-body', () => {
    for (const [status, reason] of [[400, 'Bad Request'], [404, 'ICAP Service Not Found'], [405, 'Method Not Allowed For Service'], [500, 'Server Error'], [503, 'Service Overloaded']] as const) {
      expect(encodeErrorResponse(status, [['ISTag', '"x"']]).toString('latin1')).toBe(crlf([`ICAP/1.0 ${status} ${reason}`, 'ISTag: "x"', 'Encapsulated: null-body=0', '', '']));
    }
    expect(() => encodeErrorResponse(200)).toThrow(TypeError);
  });
});

describe('request encoder', () => {
  it('RESPMOD offsets count the req-hdr and res-hdr sections; Preview precedes Encapsulated', () => {
    const text = encodeIcapRequest({ method: 'RESPMOD', uri: 'icaps://icap.test:11344/av', reqHead: POST, resHead: OK, hasBody: true, preview: 1024, headers: [['Allow', '204']] }).toString('latin1');
    const reqLen = Buffer.byteLength(crlf(['POST http://example.test/upload HTTP/1.1', 'Host: example.test', 'Content-Length: 10', '', '']));
    const resLen = Buffer.byteLength(crlf(['HTTP/1.1 200 OK', 'Content-Type: text/plain', '', '']));
    expect(text.split('\r\n').slice(0, 5)).toEqual([
      'RESPMOD icap://icap.test:11344/av ICAP/1.0',
      'Host: icap.test:11344',
      'Allow: 204',
      'Preview: 1024',
      `Encapsulated: req-hdr=0, res-hdr=${reqLen}, res-body=${reqLen + resLen}`,
    ]);
  });

  it('refuses header injection and heads of the wrong kind', () => {
    expect(() => encodeIcapRequest({ method: 'REQMOD', uri: 'icap://h/x', reqHead: POST, hasBody: false, headers: [['X-Client-IP', '1\r\nEvil: 1']] })).toThrow(TypeError);
    expect(() => encodeIcapRequest({ method: 'REQMOD', uri: 'icap://h/x', reqHead: OK, hasBody: false })).toThrow(TypeError);
    expect(() => encodeIcapRequest({ method: 'RESPMOD', uri: 'icap://h/x', hasBody: false })).toThrow(TypeError);
    expect(() => encodeIcapRequest({ method: 'OPTIONS', uri: 'http://h/x', hasBody: false })).toThrow(TypeError);
  });

  it('encodes a chunk as hex size, data, CRLF, and nothing for an empty chunk', () => {
    expect(Buffer.concat(encodeChunk(Buffer.alloc(300, 0x41))).subarray(0, 5).toString()).toBe('12c\r\n');
    expect(encodeChunk(Buffer.alloc(0))).toEqual([]);
    expect(encodeLastChunk(true).toString()).toBe('0; ieof\r\n\r\n');
  });
});
