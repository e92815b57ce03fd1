// Pure parts of the admin listener: PAC globs mean what policy globs mean, everything put into
// the PAC script or the onboarding page is escaped, and the PAC names the right proxy address.
import vm from 'node:vm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { globRegexSource, pacProxyAddress, renderOnboardingPage, renderProxyPac } from '../../../src/admin/index.js';
import { compileHostGlob } from '../../../src/policy/host-glob.js';

const label = fc.stringMatching(/^[a-z0-9-]{1,6}$/);
const host = fc.array(label, { minLength: 1, maxLength: 4 }).map((l) => l.join('.'));
const glob = fc.oneof(
  host,
  host.map((h) => `*.${h}`),
  fc.tuple(label, host).map(([a, h]) => `${a}*.${h}`),
  fc.constant('*'),
);

describe('PAC globs', () => {
  it('match exactly the hosts compileHostGlob matches', () => {
    fc.assert(
      fc.property(glob, host, (g, h) => {
        expect(new RegExp(globRegexSource(g)).test(h), `${g} vs ${h}`).toBe(compileHostGlob(g).matches(h));
      }),
      { numRuns: 500 },
    );
  });

  it('keep hostile strings inside JavaScript string literals', () => {
    const pac = renderProxyPac({ proxy: '127.0.0.1:8080', bypass: ['a"];x=1;//'], tunnel: ['b\u2028c', '*/evil'] });
    expect(pac).not.toContain('\u2028');
    const sandbox: Record<string, unknown> = {};
    const route = vm.runInNewContext(`${pac}\nFindProxyForURL("http://x/", "x")`, sandbox, { timeout: 1000 });
    expect(route).toBe('PROXY 127.0.0.1:8080');
    expect(sandbox['x']).toBeUndefined();
  });

  it('name admin.pacProxy, else a specific proxy.host, else the Host the client asked by', () => {
    expect(pacProxyAddress({ pacProxy: 'gw:3128', proxyHost: '10.0.0.5', proxyPort: 8080 })).toBe('gw:3128');
    expect(pacProxyAddress({ proxyHost: '10.0.0.5', proxyPort: 8080, requestHost: 'other:9090' })).toBe('10.0.0.5:8080');
    expect(pacProxyAddress({ proxyHost: '0.0.0.0', proxyPort: 8080, requestHost: 'proxy.corp:9090' })).toBe('proxy.corp:8080');
    expect(pacProxyAddress({ proxyHost: '::', proxyPort: 8080, requestHost: '[fd00::1]:9090' })).toBe('[fd00::1]:8080');
    expect(pacProxyAddress({ proxyHost: '0.0.0.0', proxyPort: 8080, requestHost: 'bad host' })).toBe('127.0.0.1:8080');
  });
});

describe('onboarding page', () => {
  it('escapes every inserted value', () => {
    const html = renderOnboardingPage({ fingerprint256: 'AA:BB', caName: '<b>CA</b>', adminOrigin: 'http://a"b', proxyAddress: 'p<1>:8080', contact: 'Bob & <i>Eve</i>' });
    expect(html).not.toMatch(/<b>CA|<i>Eve|p<1>|a"b/);
    expect(html).toContain('Bob &amp; &lt;i&gt;Eve&lt;/i&gt;');
    expect(html).not.toMatch(/<script|<img|<iframe|src=/i);
  });
});

describe('proxy.pac and the proxy itself', () => {
  it("sends the proxy's own host DIRECT: its admin listener is never reached through the proxy", () => {
    const pac = renderProxyPac({ proxy: 'proxy.corp.example:8080', bypass: [], tunnel: [] });
    const find = new Function(`${pac}; return FindProxyForURL;`)() as (url: string, host: string) => string;
    expect(find('http://proxy.corp.example:9090/', 'proxy.corp.example')).toBe('DIRECT');
    expect(find('https://files.example.com/', 'files.example.com')).toBe('PROXY proxy.corp.example:8080');
  });
});
