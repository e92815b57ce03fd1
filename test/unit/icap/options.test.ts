// IcapOptions as a value (TTL, Transfer-* by extension, Methods) and the weighted balancer seam.
import { describe, expect, it } from 'vitest';
import { WeightedBalancer } from '../../../src/icap/balancer.js';
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

describe('WeightedBalancer', () => {
  it('spreads picks smoothly by weight', () => {
    const b = new WeightedBalancer([{ item: 'a', weight: 2 }, { item: 'b', weight: 1 }]);
    expect(Array.from({ length: 6 }, () => b.pick())).toEqual(['a', 'b', 'a', 'a', 'b', 'a']);
  });

  it('skips a server marked down until its penalty ends, and excluded ones', () => {
    const b = new WeightedBalancer([{ item: 'a', weight: 1 }, { item: 'b', weight: 1 }], { downMs: 100 });
    b.report('a', false, 0);
    expect([b.pick(new Set(), 50), b.pick(new Set(), 60)]).toEqual(['b', 'b']);
    expect(b.pick(new Set(['b']), 60)).toBe('a');
    expect(b.pick(new Set(['a', 'b']), 60)).toBeUndefined();
    expect(new Set([b.pick(new Set(), 200), b.pick(new Set(), 200)])).toEqual(new Set(['a', 'b']));
  });
});
