// Host validation (client-supplied names reach certificates, logs and sockets) and hop-by-hop
// header handling (RFC 9110 §7.6.1), without sockets.
import { isIPv4 } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { forwardHeaders } from '../../../src/core/headers.js';
import { formatAuthority, parseHost, parseHostPort } from '../../../src/core/host.js';

describe('host validation', () => {
  it.each([
    ['Example.COM.', { host: 'example.com', kind: 'dns' }],
    ['xn--bcher-kva.example', { host: 'xn--bcher-kva.example', kind: 'dns' }],
    ['_dmarc.example.com', { host: '_dmarc.example.com', kind: 'dns' }],
    ['127.0.0.1', { host: '127.0.0.1', kind: 'ipv4' }],
    ['[::1]', { host: '::1', kind: 'ipv6' }],
    ['2001:DB8::1', { host: '2001:db8::1', kind: 'ipv6' }],
    ['::ffff:10.1.2.3', { host: '::ffff:10.1.2.3', kind: 'ipv6' }],
    ['0.example.com', { host: '0.example.com', kind: 'dns' }],
    ['9gag.com', { host: '9gag.com', kind: 'dns' }],
  ])('accepts %s', (input, expected) => expect(parseHost(input)).toEqual(expected));

  it.each(['', '..', '../../etc/passwd', 'a/b', 'a\\b', 'evil\u0000.com', 'exa mple.com', '-lead.com', 'trail-.com', `${'a'.repeat(64)}.com`, `${'a.'.repeat(127)}com`, '1.2.3.999', '[1.2.3.4]', 'a..b', 'host\r\nX-Injected: 1', 'ünïcode.com', 'a:b', 'example.com:', '1.2.3.4:', ':::', '1.2.3', '01.2.3.4', '1.2.3.4.'])(
    'refuses %j',
    (input) => expect(parseHost(input)).toBeUndefined(),
  );

  it('a name is valid exactly when each of its labels is (the label-by-label definition, on random names)', () => {
    const label = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;
    const byLabels = (name: string) => name.length <= 253 && !/^[0-9.]+$/.test(name) && name.split('.').every((l) => label.test(l));
    const char = fc.constantFrom('a', 'z', '0', '9', '-', '_', '.', 'A', ':', ' ', '\u00e9');
    fc.assert(
      fc.property(fc.array(char, { minLength: 1, maxLength: 80 }).map((cs) => cs.join('')), (name) => {
        const lower = name.toLowerCase();
        if (lower.includes(':') || isIPv4(lower)) return; // IP literals have their own cases above
        const trimmed = lower.endsWith('.') ? lower.slice(0, -1) : lower;
        expect(parseHost(name) !== undefined, name).toBe(trimmed.length > 0 && byLabels(trimmed));
      }),
      { numRuns: 3000 },
    );
  });

  it('parses authorities with ports and defaults', () => {
    expect(parseHostPort('example.com:8443')).toEqual({ host: 'example.com', kind: 'dns', port: 8443 });
    expect(parseHostPort('[::1]:443')).toEqual({ host: '::1', kind: 'ipv6', port: 443 });
    expect(parseHostPort('example.com', 80)).toMatchObject({ port: 80 });
    expect(parseHostPort('example.com')).toBeUndefined(); // CONNECT needs a port
    for (const bad of ['example.com:0', 'example.com:65536', 'example.com:80x', '::1:443', '[::1]x:1', 'a:1:2']) expect(parseHostPort(bad, 80), bad).toBeUndefined();
    expect(formatAuthority('::1', 443, 443)).toBe('[::1]');
    expect(formatAuthority('example.com', 8080, 80)).toBe('example.com:8080');
  });
});

describe('hop-by-hop headers', () => {
  const via = '1.1 dlp-proxy';

  it('drops every field a Connection or Proxy-Connection names, in any case, besides the hop-by-hop ones', () => {
    const raw = ['connection', 'close, X-A', 'Close', '1', 'Proxy-Connection', 'Keep-Alive , x-b', 'X-A', 'a', 'X-B', 'b', 'x-c', 'c', 'Keep-Alive', 'timeout=1'];
    expect(forwardHeaders(raw, { via })).toEqual(['x-c', 'c', 'Via', via]);
    expect(forwardHeaders(['Connection', 'keep-alive', 'X-D', 'd'], { via })).toEqual(['X-D', 'd', 'Via', via]);
  });

  it('drops the hop-by-hop fields and those named in Connection, keeps the rest in order', () => {
    const raw = ['Host', 'a', 'Connection', 'keep-alive, X-Private', 'X-Private', 'p', 'Keep-Alive', 'timeout=5', 'TE', 'trailers', 'Trailer', 'X', 'Transfer-Encoding', 'chunked', 'Upgrade', 'h2c', 'Proxy-Authorization', 'Basic x', 'Proxy-Connection', 'keep-alive', 'X-Keep', '1', 'x-keep', '2'];
    expect(forwardHeaders(raw, { via })).toEqual(['Host', 'a', 'X-Keep', '1', 'x-keep', '2', 'Via', via]);
  });

  it('appends to an existing Via and keeps Upgrade for protocol switches', () => {
    expect(forwardHeaders(['Via', '1.0 fred', 'via', '1.1 p.example'], { via })).toEqual(['Via', `1.0 fred, 1.1 p.example, ${via}`]);
    expect(forwardHeaders(['Connection', 'Upgrade', 'Upgrade', 'websocket', 'Sec-WebSocket-Key', 'k'], { via, keepUpgrade: true })).toEqual(['Upgrade', 'websocket', 'Sec-WebSocket-Key', 'k', 'Connection', 'upgrade', 'Via', via]);
  });

  it('drops extra names on request', () => {
    expect(forwardHeaders(['Expect', '100-continue', 'Host', 'x', 'A', 'b'], { via, drop: new Set(['expect', 'host']) })).toEqual(['A', 'b', 'Via', via]);
  });
});
