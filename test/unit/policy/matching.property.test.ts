// Property tests for the two matchers whose edge cases are numeric or textual: CIDR blocks and
// host globs, checked against independent reference definitions.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileCidr, compileHostGlob, parseIp } from '../../../src/policy/index.js';

const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.'));
const toInt = (ip: string) => ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
const groups = fc.array(fc.nat(0xffff), { minLength: 8, maxLength: 8 });
const full6 = (g: number[]) => g.map((x) => x.toString(16)).join(':');
const bigOf = (g: number[]) => g.reduce((acc, x) => (acc << 16n) | BigInt(x), 0n);

describe('CIDR matching', () => {
  it('IPv4: a.b.c.d/p contains x exactly when the top p bits agree', () => {
    fc.assert(
      fc.property(ipv4, fc.nat(32), ipv4, (net, prefix, addr) => {
        const expected = prefix === 0 || Math.floor(toInt(net) / 2 ** (32 - prefix)) === Math.floor(toInt(addr) / 2 ** (32 - prefix));
        const block = compileCidr(`${net}/${prefix}`);
        expect(block.contains(parseIp(addr)!)).toBe(expected);
        expect(block.contains(parseIp(`::ffff:${addr}`)!)).toBe(expected); // the IPv4-mapped form agrees
      }),
      { numRuns: 500 },
    );
  });

  it('IPv6: matches the BigInt reference, whatever the written form (compressed or not)', () => {
    fc.assert(
      fc.property(groups, fc.nat(128), groups, (net, prefix, addr) => {
        const shift = BigInt(128 - prefix);
        const expected = bigOf(net) >> shift === bigOf(addr) >> shift;
        const block = compileCidr(`${full6(net)}/${prefix}`);
        expect(block.contains(parseIp(full6(addr))!)).toBe(expected);
        // the same address written by the platform's canonical (compressed) form
        const compressed = new URL(`http://[${full6(addr)}]/`).hostname.slice(1, -1);
        expect(block.contains(parseIp(compressed)!)).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('an address is always inside its own /32 and /128, and never inside a disjoint IPv4 block', () => {
    fc.assert(
      fc.property(ipv4, (addr) => {
        expect(compileCidr(`${addr}/32`).contains(parseIp(addr)!)).toBe(true);
        expect(compileCidr(`::ffff:${addr}/128`).contains(parseIp(addr)!)).toBe(true);
        expect(compileCidr('2001:db8::/32').contains(parseIp(addr)!)).toBe(false);
      }),
    );
  });

  it('parses edge forms', () => {
    expect(parseIp('not-an-ip')).toBeUndefined();
    expect(parseIp('[::1]')).toEqual(parseIp('0:0:0:0:0:0:0:1'));
    expect(parseIp('fe80::1%eth0')).toEqual(parseIp('fe80::1'));
    expect(parseIp('::ffff:1.2.3.4')).toEqual(parseIp('1.2.3.4'));
    expect(() => compileCidr('10.0.0.0/33')).toThrow();
  });
});

describe('host glob matching', () => {
  const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?$/);
  const name = fc.array(label, { minLength: 1, maxLength: 4 }).map((l) => l.join('.'));

  it('*.D matches exactly the proper subdomains of D, never D itself', () => {
    fc.assert(
      fc.property(name, name, (domain, host) => {
        expect(compileHostGlob(`*.${domain}`).matches(host)).toBe(host.endsWith(`.${domain}`));
        expect(compileHostGlob(`*.${domain}`).matches(domain)).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('a glob without * is an exact, case-insensitive match', () => {
    fc.assert(
      fc.property(name, name, (a, b) => {
        expect(compileHostGlob(a.toUpperCase()).matches(b)).toBe(a === b);
      }),
    );
  });

  it('a * inside a label never crosses a dot', () => {
    fc.assert(
      fc.property(label, label, name, (prefix, middle, domain) => {
        const glob = compileHostGlob(`${prefix}*.${domain}`);
        expect(glob.matches(`${prefix}${middle}.${domain}`)).toBe(true);
        expect(glob.matches(`${prefix}.${middle}.${domain}`)).toBe(false);
      }),
    );
  });
});
