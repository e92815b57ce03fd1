import { describe, expect, it } from 'vitest';
import { istagFor } from '../../../src/icap-server/detectors/detector-set.js';
import { serviceNameOf } from '../../../src/icap-server/services.js';
import { violationHeaders, blockResponse } from '../../../src/icap-server/block-response.js';
import { serverConfig } from './helpers.js';

describe('ISTag', () => {
  it('is a quoted string of at most 32 characters that changes with the rules, per service', () => {
    const base = istagFor(serverConfig(), 'dlp');
    expect(base).toMatch(/^"[A-Za-z0-9-]{1,30}"$/);
    expect(istagFor(serverConfig(), 'dlp')).toBe(base);
    expect(istagFor(serverConfig(), 'av')).not.toBe(base);
    expect(istagFor(serverConfig({ detectors: { keywords: [{ name: 'k', words: ['x'] }] } }), 'dlp')).not.toBe(base);
    expect(istagFor(serverConfig({ detectors: { paymentCards: { minCount: 2 } } }), 'dlp')).not.toBe(base);
    expect(istagFor(serverConfig({ maxDecodedBytes: 1 }), 'dlp')).not.toBe(base);
    // Settings that do not change verdicts keep the tag (and so the proxy's verdict cache).
    expect(istagFor(serverConfig({ port: 1, idleTimeoutMs: 5 }), 'dlp')).toBe(base);
  });
});

describe('service URIs and block responses', () => {
  it('takes the service from the first path segment', () => {
    expect(serviceNameOf('icap://127.0.0.1:1344/dlp')).toBe('dlp');
    expect(serviceNameOf('icap://localhost/av?mode=x')).toBe('av');
    expect(serviceNameOf('icap://localhost/')).toBe('');
    expect(serviceNameOf('http://localhost/dlp')).toBeUndefined();
    expect(serviceNameOf('dlp')).toBeUndefined();
  });

  it('names every violation and escapes the page', () => {
    const violations = [
      { name: 'EICAR-Test-File', kind: 'malware' as const, count: 1 },
      { name: 'keyword:<b>', kind: 'data' as const, count: 3 },
    ];
    expect(violationHeaders(violations)).toEqual([
      ['X-Violations-Found', '2 - EICAR-Test-File 0 2 - keyword:<b> x3 0 2'],
      ['X-Infection-Found', 'Type=0; Resolution=2; Threat=EICAR-Test-File;'],
    ]);
    const page = blockResponse(violations, 'av').body.toString();
    expect(page).toContain('<code>keyword:&#60;b&#62;</code> &#215;3');
    expect(page).not.toContain('<b>');
  });
});
