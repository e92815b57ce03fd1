// `vendor: auto`: OPTIONS answers as each vendor sends them (or, where no source shows one, as the
// simulator in test/support/vendors/ assumes: see its header) → the profile, and the reason given.
// resolveVendor publishes the choice once per service instance and again only when it changes.
import dc from 'node:diagnostics_channel';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { IcapHeaders } from '../../../src/core/types.js';
import { detectVendor, resolveVendor, VENDOR_PROFILE_CHANNEL, VENDOR_PROFILES, type VendorProfileMessage } from '../../../src/enforce/index.js';

const opts = (h: Record<string, string>): IcapHeaders => new Map(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));

describe('detectVendor', () => {
  it.each([
    ['c-icap by Service (0.5.10, seen)', { Service: 'C-ICAP/0.5.10 server - Antivirus service', ISTag: '"CI0001-L5CkDhq+qWNs+PZ5DxxXsAAA"' }, 'c-icap', /Service is "C-ICAP\/0\.5\.10/],
    ['c-icap by ISTag alone', { ISTag: '"CI0001-XXXXXXXXX"' }, 'c-icap', /ISTag "CI0001-XXXXXXXXX" starts with CI0001-/],
    ['MetaDefender by X-Response-Info: Options', { ISTag: '"001-008-000001"', 'X-Response-Info': 'Options' }, 'metadefender', /X-Response-Info: Options/i],
    ['MetaDefender by name', { Service: 'MetaDefender ICAP Server 5.5.0' }, 'metadefender', /MetaDefender/],
    ['Symantec by name', { Service: 'Symantec Data Loss Prevention Network Prevent for Web' }, 'symantec', /Symantec/],
    ['Broadcom by Server', { Server: 'Broadcom DLP 16.0' }, 'symantec', /Server is "Broadcom/],
    ['Forcepoint by ISTag WEBSENSE', { ISTag: '"WEBSENSE"' }, 'forcepoint', /Forcepoint's/],
    ['McAfee Web Gateway by Server', { Server: 'McAfee Web Gateway 11.2', ISTag: '"008080-0.2.82-10738-117660-00"' }, 'trellix', /McAfee/],
    ['Kaspersky by Service', { Service: 'Kaspersky Scan Engine ICAP Service' }, 'kaspersky', /Kaspersky/],
    ['Sophos by Service', { Service: 'Sophos SAVDI ICAP' }, 'sophos', /Sophos/],
    ['ESET by the ISTag shape captured from ESET Server Security', { ISTag: '"970d18076ed48d79-1701775538"' }, 'eset', /ESET's shape/],
    ['Trend Micro by Server (Deep Discovery, documented)', { Server: 'Deep Discovery Analyzer 6.0 Build 1202', ISTag: '"10.300.1021"' }, 'trend-micro', /Deep Discovery/],
    ['Trend Micro IWSVA by Service', { Service: 'InterScan Web Security Virtual Appliance' }, 'trend-micro', /InterScan/],
    ['Clearswift by Service', { Service: 'Clearswift Secure ICAP Gateway' }, 'clearswift', /Clearswift/],
  ])('%s', (_name, headers, vendor, reason) => {
    const d = detectVendor(opts(headers));
    expect(d.vendor).toBe(vendor);
    expect(d.reason).toMatch(reason);
  });

  it('falls back to generic and says what it saw', () => {
    const d = detectVendor(opts({ Service: 'Acme Scanner', ISTag: '"fake-1"' }));
    expect(d).toEqual({ vendor: 'generic', reason: 'no vendor recognised in OPTIONS (Service "Acme Scanner", no Server, ISTag "fake-1")' });
    expect(detectVendor(new Map()).reason).toBe('no vendor recognised in OPTIONS (no Service, no Server, no ISTag)');
  });

  it('a product that names itself wins over a header or ISTag shape another product uses', () => {
    expect(detectVendor(opts({ Service: 'Kaspersky Scan Engine ICAP Service', 'X-Response-Info': 'Options', ISTag: '"CI0001-1"' })).vendor).toBe('kaspersky');
    expect(detectVendor(opts({ 'X-Response-Info': 'Options', ISTag: '"CI0001-1"' })).vendor).toBe('metadefender');
  });

  it('matches names as words: a service named after a customer does not trip a vendor', () => {
    expect(detectVendor(opts({ Service: 'Preset proxy for Kasperskyville Ltd.' })).vendor).toBe('generic');
    expect(detectVendor(opts({ Service: 'reset-scanner' })).vendor).toBe('generic');
    expect(detectVendor(opts({ ISTag: '"970d18076ed48d79-1701775538-extra"' })).vendor).toBe('generic');
  });

  it('keeps a hostile Service value out of the log line: control characters dropped, clipped', () => {
    const d = detectVendor(opts({ Service: `Acme\u0007\u001b[31m ${'x'.repeat(500)}` }));
    expect(d.reason).not.toMatch(/[\u0000-\u001f]/);
    expect(d.reason.length).toBeLessThan(200);
  });

  it('every profile row names its vendor', () => {
    for (const [name, profile] of Object.entries(VENDOR_PROFILES)) expect(profile.vendor).toBe(name);
  });
});

describe('resolveVendor', () => {
  const seen: VendorProfileMessage[] = [];
  const handler = (m: unknown) => seen.push(m as VendorProfileMessage);
  beforeAll(() => dc.channel(VENDOR_PROFILE_CHANNEL).subscribe(handler));
  afterAll(() => dc.channel(VENDOR_PROFILE_CHANNEL).unsubscribe(handler));
  afterEach(() => {
    seen.length = 0;
  });

  it('auto: publishes the choice once per service, again only when OPTIONS call for another profile', () => {
    const scope = {};
    const first = opts({ Service: 'C-ICAP/0.5.10 server - srv_content_filtering service' });
    expect(resolveVendor(scope, 'dlp', 'auto', first).vendor).toBe('c-icap');
    expect(resolveVendor(scope, 'dlp', 'auto', first).vendor).toBe('c-icap');
    // OPTIONS refreshed (a new Map), same product: no new line
    expect(resolveVendor(scope, 'dlp', 'auto', opts({ Service: 'C-ICAP/0.5.11 server - srv_content_filtering service' })).vendor).toBe('c-icap');
    expect(seen).toEqual([{ service: 'dlp', vendor: 'c-icap', configured: 'auto', detected: 'c-icap', reason: 'OPTIONS Service is "C-ICAP/0.5.10 server - srv_content_filtering service"' }]);
    // the server was replaced by another product
    expect(resolveVendor(scope, 'dlp', 'auto', opts({ 'X-Response-Info': 'Options' })).vendor).toBe('metadefender');
    expect(seen[1]).toMatchObject({ vendor: 'metadefender', previous: 'c-icap' });
  });

  it('a configured vendor wins, and the message carries what OPTIONS call for', () => {
    const p = resolveVendor({}, 'av', 'symantec', opts({ 'X-Response-Info': 'Options' }));
    expect(p.vendor).toBe('symantec');
    expect(seen).toEqual([{ service: 'av', vendor: 'symantec', configured: 'symantec', detected: 'metadefender', reason: 'OPTIONS carries x-response-info: Options' }]);
  });

  it('two service instances with the same name each get their own choice', () => {
    const a = resolveVendor({}, 'dlp', 'auto', opts({ Service: 'Clearswift Secure ICAP Gateway' }));
    const b = resolveVendor({}, 'dlp', 'auto', opts({ Service: 'Sophos SAVDI' }));
    expect([a.vendor, b.vendor]).toEqual(['clearswift', 'sophos']);
    expect(seen.map((m) => m.previous)).toEqual([undefined, undefined]);
  });
});
