// The origin response's head as node's IncomingMessage shows it (the pipeline reads headers and
// rawHeaders), and the code each undici or socket failure is reported with.
import { describe, expect, it } from 'vitest';
import { ProxyError } from '../../../src/core/errors.js';
import { upstreamError, upstreamErrorCode } from '../../../src/upstream/origin-exchange.js';
import { decodeHead } from '../../../src/upstream/origin-response.js';

const raw = (...pairs: string[]) => pairs.map((s) => Buffer.from(s, 'latin1'));
const coded = (code: string | undefined, message = 'x', name = 'Error') => Object.assign(new Error(message), { code, name });

describe('decodeHead', () => {
  it('keeps raw case, order and repeats; joins repeats by node rules', () => {
    const head = decodeHead(raw('Set-Cookie', 'a=1', 'X-A', '1', 'set-cookie', 'b=2', 'x-a', '2', 'Content-Type', 'text/plain', 'content-type', 'text/html', 'Cookie', 'c=1', 'cookie', 'd=2', 'ETag', '"1"', 'etag', '"2"'));
    expect(head.rawHeaders).toEqual(['Set-Cookie', 'a=1', 'X-A', '1', 'set-cookie', 'b=2', 'x-a', '2', 'Content-Type', 'text/plain', 'content-type', 'text/html', 'Cookie', 'c=1', 'cookie', 'd=2', 'ETag', '"1"', 'etag', '"2"']);
    expect(head.headers).toEqual({ 'set-cookie': ['a=1', 'b=2'], 'x-a': '1, 2', 'content-type': 'text/plain', cookie: 'c=1; d=2', etag: '"1"' });
  });

  it('reads bytes above 0x7f one to one (latin1), as node does, never as UTF-8 replacement characters', () => {
    const head = decodeHead([Buffer.from('X-Name'), Buffer.from([0x63, 0xe9, 0xff])]);
    expect(head.rawHeaders[1]).toBe('c\u00e9\u00ff');
    expect(Buffer.from(head.rawHeaders[1]!, 'latin1')).toEqual(Buffer.from([0x63, 0xe9, 0xff]));
  });

  it('an empty head gives empty lists', () => {
    expect(decodeHead([])).toEqual({ rawHeaders: [], headers: {} });
  });
});

describe('upstream failures name their moment', () => {
  it.each([
    ['ENOTFOUND', 'UPSTREAM_DNS_FAILED'],
    ['EAI_AGAIN', 'UPSTREAM_DNS_FAILED'],
    ['ECONNREFUSED', 'UPSTREAM_CONNECT_FAILED'],
    ['EHOSTUNREACH', 'UPSTREAM_CONNECT_FAILED'],
    ['EPIPE', 'UPSTREAM_WRITE_FAILED'],
    ['ECONNRESET', 'UPSTREAM_READ_FAILED'],
    ['UND_ERR_SOCKET', 'UPSTREAM_READ_FAILED'],
    ['UND_ERR_RES_CONTENT_LENGTH_MISMATCH', 'UPSTREAM_READ_FAILED'],
    ['UND_ERR_HEADERS_OVERFLOW', 'UPSTREAM_READ_FAILED'],
    ['UND_ERR_CONNECT_TIMEOUT', 'UPSTREAM_CONNECT_TIMEOUT'],
    ['UND_ERR_HEADERS_TIMEOUT', 'UPSTREAM_HEADERS_TIMEOUT'],
    ['UND_ERR_BODY_TIMEOUT', 'UPSTREAM_IDLE_TIMEOUT'],
    ['UND_ERR_REQ_CONTENT_LENGTH_MISMATCH', 'UPSTREAM_WRITE_FAILED'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'UPSTREAM_TLS_FAILED'],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'UPSTREAM_TLS_FAILED'],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UPSTREAM_TLS_FAILED'],
  ])('%s → %s', (code, expected) => {
    expect(upstreamErrorCode(coded(code))).toBe(expected);
    const error = upstreamError('o.example:443', coded(code, 'boom'));
    expect(error.code).toBe(expected);
    expect(error.message).toBe(`o.example:443: ${code} boom`);
  });

  it("undici's HTTPParserError (no code) is the origin's malformed message", () => {
    expect(upstreamError('o:80', coded(undefined, 'Response does not match the HTTP/1.1 protocol', 'HTTPParserError')).code).toBe('UPSTREAM_READ_FAILED');
  });

  it('a head undici refuses is a bad client request; any other refusal, or a TypeError, is ours (INTERNAL)', () => {
    expect(upstreamError('o:80', coded('UND_ERR_INVALID_ARG', 'duplicate host header')).code).toBe('CLIENT_BAD_REQUEST');
    expect(upstreamError('o:80', coded('UND_ERR_INVALID_ARG', 'path must be an absolute URL or start with a slash')).code).toBe('CLIENT_BAD_REQUEST');
    expect(upstreamError('o:80', coded('UND_ERR_INVALID_ARG', 'invalid keepAliveTimeout')).code).toBe('INTERNAL');
    expect(upstreamError('o:80', coded('UND_ERR_NOT_SUPPORTED', 'expect header not supported')).code).toBe('INTERNAL');
    expect(upstreamError('o:80', new TypeError("Cannot read properties of undefined (reading 'push')")).code).toBe('INTERNAL');
  });

  it('a ProxyError of ours (the guard, our timers) passes as it is', () => {
    const ours = new ProxyError('UPSTREAM_DESTINATION_FORBIDDEN', '169.254.169.254:80 is link-local');
    expect(upstreamError('o:80', ours)).toBe(ours);
  });
});
