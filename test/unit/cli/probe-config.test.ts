// The block `dlp-proxy icap probe` prints must be a valid config as printed: parsed by the same
// loader as a config file, it names the service, the vendor detected, the TLS files the probe
// used, the keys the vendor wants, and one rule per offered method.
import { describe, expect, it } from 'vitest';
import { configBlock } from '../../../src/cli/probe-config.js';
import { parseConfigText } from '../../../src/config/index.js';
import { detectVendor, VENDOR_PROFILES } from '../../../src/enforce/index.js';

const opts = (h: Record<string, string>) => new Map(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));

describe('configBlock', () => {
  it('a detected vendor is pinned, with its reason; REQMOD → the dlp service and the uploads rule', () => {
    const detection = detectVendor(opts({ Service: 'Symantec Data Loss Prevention - Network Prevent for Web' }));
    const text = configBlock({ url: 'icap://dlp.example:1344/reqmod', methods: ['REQMOD'], detection, profile: VENDOR_PROFILES[detection.vendor] });
    const config = parseConfigText(text, 'probe');
    expect(config.services['dlp']).toMatchObject({ urls: ['icap://dlp.example:1344/reqmod'], vendor: 'symantec' });
    expect(config.policy).toEqual([expect.objectContaining({ name: 'uploads', scan: 'dlp', match: { direction: 'upload' } })]);
    expect(text).toContain('# Symantec/Broadcom DLP Network Prevent for Web; auto finds it too (OPTIONS Service is "Symantec Data Loss Prevention - Network Prevent for Web")');
  });

  it('nothing recognised: vendor auto and why; RESPMOD only → av and the downloads rule', () => {
    const detection = detectVendor(opts({ Service: 'Acme' }));
    const config = parseConfigText(configBlock({ url: 'icap://av.example/scan', methods: ['RESPMOD'], detection, profile: VENDOR_PROFILES.generic }), 'probe');
    expect(config.services['av']?.vendor).toBe('auto');
    expect(config.policy.map((r) => [r.name, r.scan])).toEqual([['downloads', 'av']]);
  });

  it('TLS flags, --insecure, --name and the vendor\'s recommended keys come through as config', () => {
    const detection = detectVendor(opts({ Server: 'McAfee Web Gateway 11.2.9' }));
    const text = configBlock({
      url: 'icaps://mwg.example:11344/resp',
      name: 'gateway',
      methods: ['REQMOD', 'RESPMOD'],
      detection,
      profile: VENDOR_PROFILES[detection.vendor],
      tls: { ca: '/etc/dlp/ca "quoted".pem', cert: 'c.pem', key: 'k.pem', servername: 'mwg', rejectUnauthorized: false },
    });
    const config = parseConfigText(text, 'probe');
    expect(config.services['gateway']).toMatchObject({
      vendor: 'trellix',
      sendServerIp: true,
      tls: { ca: '/etc/dlp/ca "quoted".pem', cert: 'c.pem', key: 'k.pem', servername: 'mwg', rejectUnauthorized: false },
    });
    expect(config.policy.map((r) => r.name)).toEqual(['uploads', 'downloads']);
  });

  it('text a server or a command line shaped cannot break out of its YAML line', () => {
    const detection = { vendor: 'generic' as const, reason: 'no vendor recognised in OPTIONS (Service "x\n    evil: [1]\u2028workers: 7")' };
    const text = configBlock({ url: 'icap://h/x"]\nworkers: 9', name: 'dlp', methods: ['REQMOD'], detection, profile: VENDOR_PROFILES.generic });
    const config = parseConfigText(text, 'probe');
    expect(Object.keys(config.services)).toEqual(['dlp']);
    expect(config.workers).not.toBe(9);
    expect(config.workers).not.toBe(7);
    expect(text.split('\n').filter((l) => /^\s*evil:|^workers:/.test(l))).toEqual([]);
  });
});
