// IcapOptions as a value: TTL, Transfer-* by extension, Methods, Allow, Preview, Max-Connections.
import { describe, expect, it } from 'vitest';
import { IcapOptions } from '../../../src/icap/index.js';

const opts = (h: Record<string, string>, at = 1000) => new IcapOptions(new Map(Object.entries(h)), at);

describe('IcapOptions', () => {
  it('expires at Options-TTL and never without one (RFC 3507 §4.10.2)', () => {
    const o = opts({ 'options-ttl': '60' });
    expect(o.isExpired(1000 + 59_999)).toBe(false);
    expect(o.isExpired(1000 + 60_000)).toBe(true);
    expect(opts({}).isExpired(Number.MAX_SAFE_INTEGER)).toBe(false);
  });

  it('chooses preview, ignore or complete by the target extension; explicit lists beat *', () => {
    const o = opts({ 'transfer-preview': '*', 'transfer-ignore': 'jpg, PNG', 'transfer-complete': 'exe, bat' });
    expect(o.transferFor('http://x.test/a/photo.JPG?x=1')).toBe('ignore');
    expect(o.transferFor('http://x.test/setup.exe')).toBe('complete');
    expect(o.transferFor('http://x.test/report.pdf')).toBe('preview');
    expect(o.transferFor('http://x.test/')).toBe('preview');
    expect(opts({ 'transfer-complete': '*', 'transfer-preview': 'txt' }).transferFor('/a.txt')).toBe('preview');
    expect(opts({ 'transfer-complete': '*' }).transferFor('/a.doc')).toBe('complete');
  });

  it('reads Methods, Allow, Preview and Max-Connections, ignoring malformed numbers', () => {
    const o = opts({ methods: 'respmod', allow: '204, 206', preview: '0', 'max-connections': 'many' });
    expect(o.supports('RESPMOD')).toBe(true);
    expect(o.supports('REQMOD')).toBe(false);
    expect([o.allow204, o.allow206, o.preview, o.maxConnections]).toEqual([true, true, 0, undefined]);
  });
});
