// The examples of RFC 3507 §4 as byte scripts: each request is decoded by the server-side decoder
// and re-encoded by the client-side encoder byte for byte; each response is decoded at every split.
import { describe, expect, it } from 'vitest';
import {
  IcapRequestDecoder,
  IcapResponseDecoder,
  encodeChunk,
  encodeIcapRequest,
  encodeLastChunk,
  type IcapRequestEvent,
  type IcapResponseEvent,
} from '../../../src/icap/codec/index.js';
import { SPLITS, bytes, crlf, feed, summarise } from './codec-helpers.js';

const REQMOD_GET = crlf([
  'REQMOD icap://icap-server.net/server?arg=87 ICAP/1.0',
  'Host: icap-server.net',
  'Encapsulated: req-hdr=0, null-body=170',
  '',
  'GET / HTTP/1.1',
  'Host: www.origin-server.com',
  'Accept: text/html, text/plain',
  'Accept-Encoding: compress',
  'Cookie: ff39fk3jur@4ii0e02i',
  'If-None-Match: "xyzzy", "r2d2xxxx"',
  '',
  '',
]);

const REQMOD_GET_ANSWER = crlf([
  'ICAP/1.0 200 OK',
  'Date: Mon, 10 Jan 2000  09:55:21 GMT',
  'Server: ICAP-Server-Software/1.0',
  'Connection: close',
  'ISTag: "W3E4R7U9-L2E4-2"',
  'Encapsulated: req-hdr=0, null-body=231',
  '',
  'GET /modified-path HTTP/1.1',
  'Host: www.origin-server.com',
  'Via: 1.0 icap-server.net (ICAP Example ReqMod Service 1.1)',
  'Accept: text/html, text/plain, image/gif',
  'Accept-Encoding: gzip, compress',
  'If-None-Match: "xyzzy", "r2d2xxxx"',
  '',
  '',
]);

const REQMOD_POST = crlf([
  'REQMOD icap://icap-server.net/server?arg=87 ICAP/1.0',
  'Host: icap-server.net',
  'Encapsulated: req-hdr=0, req-body=147',
  '',
  'POST /origin-resource/form.pl HTTP/1.1',
  'Host: www.origin-server.com',
  'Accept: text/html, text/plain',
  'Accept-Encoding: compress',
  'Pragma: no-cache',
  '',
  '1e',
  'I am posting this information.',
  '0',
  '',
  '',
]);

const REQMOD_POST_ANSWER = crlf([
  'ICAP/1.0 200 OK',
  'Date: Mon, 10 Jan 2000  09:55:21 GMT',
  'Server: ICAP-Server-Software/1.0',
  'Connection: close',
  'ISTag: "W3E4R7U9-L2E4-2"',
  'Encapsulated: req-hdr=0, req-body=244',
  '',
  'POST /origin-resource/form.pl HTTP/1.1',
  'Host: www.origin-server.com',
  'Via: 1.0 icap-server.net (ICAP Example ReqMod Service 1.1)',
  'Accept: text/html, text/plain, image/gif',
  'Accept-Encoding: gzip, compress',
  'Pragma: no-cache',
  'Content-Length: 45',
  '',
  '2d',
  'I am posting this information.  ICAP powered!',
  '0',
  '',
  '',
]);

const RESPMOD = crlf([
  'RESPMOD icap://icap.example.org/satisf ICAP/1.0',
  'Host: icap.example.org',
  'Encapsulated: req-hdr=0, res-hdr=137, res-body=296',
  '',
  'GET /origin-resource HTTP/1.1',
  'Host: www.origin-server.com',
  'Accept: text/html, text/plain, image/gif',
  'Accept-Encoding: gzip, compress',
  '',
  'HTTP/1.1 200 OK',
  'Date: Mon, 10 Jan 2000 09:52:22 GMT',
  'Server: Apache/1.3.6 (Unix)',
  'ETag: "63840-1ab7-378d415b"',
  'Content-Type: text/html',
  'Content-Length: 51',
  '',
  '33',
  'This is data that was returned by an origin server.',
  '0',
  '',
  '',
]);

const RESPMOD_ANSWER = crlf([
  'ICAP/1.0 200 OK',
  'Date: Mon, 10 Jan 2000  09:55:21 GMT',
  'Server: ICAP-Server-Software/1.0',
  'Connection: close',
  'ISTag: "W3E4R7U9-L2E4-2"',
  'Encapsulated: res-hdr=0, res-body=222',
  '',
  'HTTP/1.1 200 OK',
  'Date: Mon, 10 Jan 2000  09:55:21 GMT',
  'Via: 1.0 icap.example.org (ICAP Example RespMod Service 1.1)',
  'Server: Apache/1.3.6 (Unix)',
  'ETag: "63840-1ab7-378d415b"',
  'Content-Type: text/html',
  'Content-Length: 92',
  '',
  '5c',
  'This is data that was returned by an origin server, but with',
  'value added by an ICAP server.',
  '0',
  '',
  '',
]);

const OPTIONS = crlf(['OPTIONS icap://icap.server.net/sample-service ICAP/1.0', 'Host: icap.server.net', 'User-Agent: BazookaDotCom-ICAP-Client-Library/2.3', '', '']);

const OPTIONS_ANSWER = crlf([
  'ICAP/1.0 200 OK',
  'Date: Mon, 10 Jan 2000  09:55:21 GMT',
  'Methods: RESPMOD',
  'Service: FOO Tech Server 1.0',
  'ISTag: "W3E4R7U9-L2E4-2"',
  'Encapsulated: null-body=0',
  'Max-Connections: 1000',
  'Options-TTL: 7200',
  'Allow: 204',
  'Preview: 2048',
  'Transfer-Complete: asp, bat, exe, com',
  'Transfer-Ignore: html',
  'Transfer-Preview: *',
  '',
  '',
]);

function decodeRequest(text: string) {
  const d = new IcapRequestDecoder();
  const events = feed<IcapRequestEvent>(d, bytes(text));
  expect(d.idle).toBe(true);
  return events;
}

describe('RFC 3507 §4 examples', () => {
  it('§4.8.3 REQMOD of a GET (null-body): decode, then re-encode byte for byte', () => {
    const events = decodeRequest(REQMOD_GET);
    expect(summarise(events).events).toEqual(['head', 'http-head', 'end']);
    const reqHead = events.find((e) => e.type === 'http-head')!;
    if (reqHead.type !== 'http-head') throw new Error('unreachable');
    expect(reqHead.head.headers.find(([n]) => n === 'Cookie')?.[1]).toBe('ff39fk3jur@4ii0e02i');
    const encoded = encodeIcapRequest({ method: 'REQMOD', uri: 'icap://icap-server.net/server?arg=87', reqHead: reqHead.head, hasBody: false });
    expect(encoded.toString('latin1')).toBe(REQMOD_GET);
  });

  it('§4.8.3 REQMOD of a POST with a body: decode, then re-encode byte for byte', () => {
    const events = decodeRequest(REQMOD_POST);
    const s = summarise(events);
    expect(s.events).toEqual(['head', 'http-head', 'body', 'end']);
    expect(s.bodies).toEqual(['I am posting this information.']);
    const reqHead = s.heads[1]!;
    if (reqHead.type !== 'http-head') throw new Error('unreachable');
    const encoded = Buffer.concat([
      encodeIcapRequest({ method: 'REQMOD', uri: 'icap://icap-server.net/server?arg=87', reqHead: reqHead.head, hasBody: true }),
      ...encodeChunk(bytes('I am posting this information.')),
      encodeLastChunk(),
    ]);
    expect(encoded.toString('latin1')).toBe(REQMOD_POST);
  });

  it('§4.9.3 RESPMOD with req-hdr, res-hdr and res-body: decode, then re-encode byte for byte', () => {
    const s = summarise(decodeRequest(RESPMOD));
    expect(s.events).toEqual(['head', 'http-head', 'http-head', 'body', 'end']);
    const [, req, res] = s.heads;
    if (req?.type !== 'http-head' || res?.type !== 'http-head') throw new Error('unreachable');
    expect(res.head).toMatchObject({ kind: 'response', status: 200, reason: 'OK', version: '1.1' });
    const encoded = Buffer.concat([
      encodeIcapRequest({ method: 'RESPMOD', uri: 'icap://icap.example.org/satisf', reqHead: req.head, resHead: res.head, hasBody: true }),
      ...encodeChunk(bytes(s.bodies[0]!)),
      encodeLastChunk(),
    ]);
    expect(encoded.toString('latin1')).toBe(RESPMOD);
  });

  it('§4.10.2 OPTIONS request decodes as a head without body', () => {
    const events = decodeRequest(OPTIONS);
    expect(summarise(events).events).toEqual(['head', 'end']);
    const head = events[0]!;
    if (head.type !== 'head') throw new Error('unreachable');
    expect(head.head.method).toBe('OPTIONS');
    expect(head.head.uri).toBe('icap://icap.server.net/sample-service');
    expect(encodeIcapRequest({ method: 'OPTIONS', uri: 'icap://icap.server.net/sample-service', hasBody: false }).toString('latin1')).toBe(
      crlf(['OPTIONS icap://icap.server.net/sample-service ICAP/1.0', 'Host: icap.server.net', 'Encapsulated: null-body=0', '', '']),
    );
  });

  const answers: Array<[string, string, string[], string[]]> = [
    ['§4.8.3 REQMOD answer with a modified request, null-body', REQMOD_GET_ANSWER, ['head', 'http-head', 'end'], []],
    ['§4.8.3 REQMOD answer with a modified request and body', REQMOD_POST_ANSWER, ['head', 'http-head', 'body', 'end'], ['I am posting this information.  ICAP powered!']],
    [
      '§4.9.3 RESPMOD answer with a modified response',
      RESPMOD_ANSWER,
      ['head', 'http-head', 'body', 'end'],
      ['This is data that was returned by an origin server, but with\r\nvalue added by an ICAP server.'],
    ],
    ['§4.10.2 OPTIONS answer', OPTIONS_ANSWER, ['head', 'end'], []],
  ];
  for (const [name, text, events, bodies] of answers) {
    it(`${name}, at every split`, () => {
      for (const sizes of SPLITS) {
        const d = new IcapResponseDecoder();
        const s = summarise(feed<IcapResponseEvent>(d, bytes(text), sizes));
        expect(s.events).toEqual(events);
        expect(s.bodies).toEqual(bodies);
        const head = s.heads[0]!;
        if (head.type !== 'head') throw new Error('unreachable');
        expect(head.head.status).toBe(200);
        expect(head.head.headers.get('istag')).toBe('"W3E4R7U9-L2E4-2"');
        expect(d.idle).toBe(true);
      }
    });
  }
});
