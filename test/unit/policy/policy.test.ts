import { describe, expect, it } from 'vitest';
import { configSchema, type ConfigInput } from '../../../src/config/schema.js';
import { ProxyError } from '../../../src/core/errors.js';
import { compilePolicy, type PolicyInput } from '../../../src/policy/index.js';

function build(policy: NonNullable<ConfigInput['policy']>, extra: Partial<ConfigInput> = {}) {
  const config = configSchema.parse({
    services: { dlp: { urls: ['icap://127.0.0.1:1344/dlp'] }, av: { urls: ['icap://127.0.0.1:1344/av'] } },
    policy,
    ...extra,
  });
  return compilePolicy(config.policy, config.services, config.proxy.tunnel);
}

const upload: PolicyInput = {
  direction: 'upload',
  method: 'POST',
  host: 'files.example.com',
  path: '/api/upload',
  requestContentType: 'application/pdf',
  bodyBytes: 2048,
  hasBody: true,
  clientIp: '10.1.2.3',
  user: 'alice',
};
const download: PolicyInput = { ...upload, direction: 'download', method: 'GET', responseContentType: 'image/png; charset=binary' };

describe('decide: one matcher at a time (rule "r" scans with dlp, else default pass)', () => {
  const cases: Array<[string, NonNullable<ConfigInput['policy']>[number]['match'], PolicyInput, boolean, string?]> = [
    ['direction upload', { direction: 'upload' }, upload, true, 'direction=upload'],
    ['direction upload vs download', { direction: 'upload' }, download, false],
    ['method, case-insensitive', { methods: ['post', 'PUT'] }, upload, true, 'method POST'],
    ['method absent', { methods: ['PUT'] }, upload, false],
    ['exact host', { hosts: ['files.example.com'] }, upload, true, 'host files.example.com matched files.example.com'],
    ['subdomain glob', { hosts: ['*.example.com'] }, upload, true, 'host *.example.com matched files.example.com'],
    ['subdomain glob, deeper', { hosts: ['*.example.com'] }, { ...upload, host: 'a.b.example.com' }, true],
    ['subdomain glob does not match the apex', { hosts: ['*.example.com'] }, { ...upload, host: 'example.com' }, false],
    ['subdomain glob does not match a lookalike', { hosts: ['*.example.com'] }, { ...upload, host: 'evilexample.com' }, false],
    ['glob config case is ignored', { hosts: ['FILES.Example.COM'] }, upload, true],
    ['label glob', { hosts: ['files-*.example.com'] }, { ...upload, host: 'files-eu.example.com' }, true],
    ['label glob stays in its label', { hosts: ['files-*.example.com'] }, { ...upload, host: 'files-eu.x.example.com' }, false],
    ['IPv6 host glob in brackets', { hosts: ['[::1]'] }, { ...upload, host: '::1' }, true],
    ['path regex', { paths: ['^/api/'] }, upload, true, 'path /^\\/api\\// matched /api/upload'],
    ['path regex miss', { paths: ['^/static/'] }, upload, false],
    ['request content type exact', { requestContentTypes: ['application/pdf'] }, upload, true, 'request content-type application/pdf matched application/pdf'],
    ['request content type wildcard', { requestContentTypes: ['application/*'] }, upload, true],
    ['request content type absent in the message', { requestContentTypes: ['*/*'] }, { ...upload, requestContentType: undefined }, false],
    ['response content type, parameters ignored', { responseContentTypes: ['image/*'] }, download, true, 'response content-type image/* matched image/png'],
    ['response content type, case ignored', { responseContentTypes: ['IMAGE/PNG'] }, download, true],
    ['response content type miss', { responseContentTypes: ['text/*'] }, download, false],
    ['size in range', { minBytes: 1024, maxBytes: 4096 }, upload, true, 'size 2048 in [1024, 4096]'],
    ['size open-ended', { minBytes: 1024 }, upload, true, 'size 2048 in [1024, ∞]'],
    ['size above range', { maxBytes: 1024 }, upload, false],
    ['size bounds are inclusive', { minBytes: 2048, maxBytes: 2048 }, upload, true],
    ['size unknown never matches a size rule', { minBytes: 0 }, { ...upload, bodyBytes: undefined }, false],
    ['client IPv4 CIDR', { clients: ['10.0.0.0/8'] }, upload, true, 'client 10.0.0.0/8 matched 10.1.2.3'],
    ['client IPv4-mapped IPv6 against an IPv4 CIDR', { clients: ['10.0.0.0/8'] }, { ...upload, clientIp: '::ffff:10.9.9.9' }, true],
    ['client IPv6 CIDR', { clients: ['2001:db8::/32'] }, { ...upload, clientIp: '2001:db8:1::5' }, true],
    ['client outside', { clients: ['192.168.0.0/16'] }, upload, false],
    ['client bare address', { clients: ['10.1.2.3'] }, upload, true],
    ['user', { users: ['alice'] }, upload, true, 'user alice'],
    ['user absent', { users: ['alice'] }, { ...upload, user: undefined }, false],
    ['every matcher at once', { direction: 'upload', methods: ['POST'], hosts: ['*.example.com'], clients: ['10.0.0.0/8'], users: ['alice'] }, upload, true,
      'direction=upload, method POST, host *.example.com matched files.example.com, client 10.0.0.0/8 matched 10.1.2.3, user alice'],
    ['empty match matches everything', {}, upload, true, 'matches everything'],
  ];
  it.each(cases)('%s', (_name, match, input, matches, explain) => {
    const d = build([{ name: 'r', match, scan: 'dlp' }]).decide(input);
    if (matches) {
      expect(d).toMatchObject({ action: 'scan', rule: 'r', service: 'dlp', onViolation: 'block' });
      if (explain) expect(d.explain).toBe(explain);
    } else expect(d).toMatchObject({ action: 'pass', rule: 'default' });
  });
});

describe('decide: rule order and actions', () => {
  const policy = build([
    { name: 'partner-pass', match: { hosts: ['partner.example.net'] }, action: 'pass' },
    { name: 'no-exe', match: { direction: 'download', responseContentTypes: ['application/x-msdownload'] }, action: 'block' },
    { name: 'monitor-hr', match: { direction: 'upload', clients: ['10.20.0.0/16'] }, scan: 'dlp', onViolation: 'monitor' },
    { name: 'uploads', match: { direction: 'upload' }, scan: 'dlp' },
    { name: 'downloads', match: { direction: 'download' }, scan: 'av' },
  ]);
  const table: Array<[string, PolicyInput, Partial<ReturnType<typeof policy.decide>>]> = [
    ['first match wins over later scan rules', { ...upload, host: 'partner.example.net' }, { action: 'pass', rule: 'partner-pass' }],
    ['block action', { ...download, responseContentType: 'application/x-msdownload' }, { action: 'block', rule: 'no-exe' }],
    ['monitor', { ...upload, clientIp: '10.20.1.1' }, { action: 'scan', rule: 'monitor-hr', service: 'dlp', onViolation: 'monitor' }],
    ['default upload rule', upload, { action: 'scan', rule: 'uploads', service: 'dlp' }],
    ['default download rule', download, { action: 'scan', rule: 'downloads', service: 'av' }],
    ['bodiless upload is not sent to REQMOD', { ...upload, method: 'GET', hasBody: false, bodyBytes: undefined }, { action: 'pass', rule: 'uploads' }],
    ['bodiless download is not scanned either', { ...download, hasBody: false }, { action: 'pass', rule: 'downloads' }],
  ];
  it.each(table)('%s', (_name, input, expected) => {
    expect(policy.decide(input)).toMatchObject(expected);
  });

  it('says why a bodiless request was not scanned', () => {
    expect(policy.decide({ ...upload, hasBody: false }).explain).toBe('direction=upload; no body, not scanned (scanEmptyBodies off)');
  });

  it('scanEmptyBodies sends a bodiless request to REQMOD', () => {
    const p = build([{ name: 'all', match: { direction: 'upload' }, scan: 'dlp', scanEmptyBodies: true }]);
    expect(p.decide({ ...upload, hasBody: false })).toMatchObject({ action: 'scan', service: 'dlp' });
  });

  it('a bodiless message counts as 0 bytes for size rules', () => {
    const p = build([{ name: 'small', match: { maxBytes: 10 }, action: 'block' }]);
    expect(p.decide({ ...upload, hasBody: false, bodyBytes: undefined })).toMatchObject({ action: 'block' });
    expect(p.needsSize({ ...upload, hasBody: false, bodyBytes: undefined })).toBe(false);
  });

  it('with no rules everything passes under the default rule, allocating nothing new', () => {
    const p = build([]);
    const a = p.decide(upload);
    expect(a).toEqual({ action: 'pass', rule: 'default', explain: 'no rule matched: pass' });
    expect(p.decide(download)).toBe(a);
  });
});

describe('needsSize: the pipeline decides again once the spool knows the length', () => {
  const policy = build([
    { name: 'partner', match: { hosts: ['partner.example.net'] }, action: 'pass' },
    { name: 'huge', match: { direction: 'upload', minBytes: 100 * 1024 * 1024 }, action: 'block' },
    { name: 'uploads', match: { direction: 'upload' }, scan: 'dlp' },
  ]);
  const unknown = { ...upload, bodyBytes: undefined };
  it('true when a size rule could still match before any size-free match', () => {
    expect(policy.needsSize(unknown)).toBe(true);
    expect(policy.decide(unknown)).toMatchObject({ rule: 'uploads' });
    expect(policy.decide({ ...unknown, bodyBytes: 200 * 1024 * 1024 })).toMatchObject({ action: 'block', rule: 'huge' });
  });
  it('false when an earlier size-free rule already decides', () => {
    expect(policy.needsSize({ ...unknown, host: 'partner.example.net' })).toBe(false);
  });
  it('false once the length is known', () => {
    expect(policy.needsSize(upload)).toBe(false);
  });
  it('false when no size rule applies to this side', () => {
    expect(policy.needsSize({ ...download, bodyBytes: undefined })).toBe(false);
  });
});

describe('decideConnect', () => {
  const policy = build(
    [
      { name: 'bank', match: { hosts: ['*.bank.example'] }, action: 'tunnel' },
      { name: 'ops-pinned', match: { hosts: ['pinned.example.org'], clients: ['10.9.0.0/16'] }, action: 'tunnel' },
      { name: 'staff-pinned', match: { hosts: ['pinned.example.net'], users: ['alice'] }, action: 'tunnel' },
      { name: 'banned', match: { hosts: ['*.banned.example'] }, action: 'block' },
      { name: 'banned-for-guests', match: { clients: ['192.168.99.0/24'], hosts: ['files.example.com'] }, action: 'block' },
      { name: 'partner-downloads', match: { hosts: ['partner.example'], direction: 'download' }, action: 'block' },
      { name: 'uploads', match: { direction: 'upload' }, scan: 'dlp' },
      { name: 'late-ban', match: { hosts: ['late.example'] }, action: 'block' },
    ],
    { proxy: { tunnel: ['*.apple.com', 'updates.example.com'] } },
  );
  it.each([
    ['www.apple.com', {}, 'tunnel', 'proxy.tunnel'],
    ['apple.com', {}, 'pass', 'default'],
    ['updates.example.com', {}, 'tunnel', 'proxy.tunnel'],
    ['online.bank.example', {}, 'tunnel', 'bank'],
    ['pinned.example.org', { clientIp: '10.9.1.1' }, 'tunnel', 'ops-pinned'],
    ['pinned.example.org', { clientIp: '10.8.1.1' }, 'pass', 'default'],
    ['pinned.example.net', { clientIp: '10.8.1.1', user: 'alice' }, 'tunnel', 'staff-pinned'],
    ['pinned.example.net', { clientIp: '10.8.1.1', user: 'bob' }, 'pass', 'default'],
    ['files.example.com', {}, 'pass', 'default'],
    // a block rule that decides every request of the tunnel refuses the CONNECT itself
    ['www.banned.example', {}, 'block', 'banned'],
    ['files.example.com', { clientIp: '192.168.99.7' }, 'block', 'banned-for-guests'],
    // a rule that needs the request (direction) leaves it to each request: intercept
    ['partner.example', {}, 'pass', 'default'],
    // an earlier scan rule may take some requests first: intercept, each request decides
    ['late.example', {}, 'pass', 'default'],
  ] as const)('%s %o → %s (%s)', (host, who, action, rule) => {
    expect(policy.decideConnect(host, who)).toMatchObject({ action, rule });
  });
  it('tunnel rules never apply to decide()', () => {
    expect(policy.decide({ ...upload, host: 'online.bank.example' })).toMatchObject({ rule: 'uploads' });
  });
  it('a tunnel rule that matches on more than hosts, clients and users is refused', () => {
    expect(() => build([{ name: 't', match: { hosts: ['a.example'], direction: 'upload' }, action: 'tunnel' }])).toThrow(ProxyError);
    expect(() => build([{ name: 't', match: { hosts: ['a.example'], direction: 'upload' }, action: 'tunnel' }])).toThrow(/direction/);
  });
});

describe('protocols', () => {
  const policy = build([
    { name: 'ws-block', match: { protocols: ['websocket'], hosts: ['chat.example'] }, action: 'block' },
    { name: 'ws-down', match: { protocols: ['websocket'], direction: 'download' }, action: 'pass' },
    { name: 'uploads', match: { direction: 'upload' }, scan: 'dlp' },
  ]);
  it('a websocket rule matches upgrades only', () => {
    expect(policy.decide({ ...upload, host: 'chat.example', protocol: 'websocket' })).toMatchObject({ action: 'block', rule: 'ws-block' });
    expect(policy.decide({ ...upload, host: 'chat.example' })).toMatchObject({ action: 'scan', rule: 'uploads' });
    expect(policy.decide({ ...download, protocol: 'websocket' })).toMatchObject({ action: 'pass', rule: 'ws-down' });
    expect(policy.decide({ ...upload, protocol: 'websocket' })).toMatchObject({ action: 'scan', rule: 'uploads', explain: 'direction=upload' });
  });
});

describe('mayScanDownload: fetch the whole representation when its download may be scanned', () => {
  const policy = build([
    { name: 'images', match: { direction: 'download', responseContentTypes: ['image/*'] }, action: 'pass' },
    { name: 'cdn', match: { direction: 'download', hosts: ['cdn.example'] }, action: 'pass' },
    { name: 'big', match: { direction: 'download', minBytes: 1000 }, scan: 'av' },
    { name: 'trusted', match: { direction: 'download', hosts: ['trusted.example'] }, action: 'pass' },
  ]);
  it.each([
    ['cdn.example', false],
    ['files.example', true],
    ['trusted.example', true], // "big" may match first once the size is known
  ] as const)('%s → %s', (host, expected) => {
    expect(policy.mayScanDownload({ ...download, host, bodyBytes: undefined, responseContentType: undefined })).toBe(expected);
  });
  it('false when no scan rule can match', () => {
    expect(build([{ name: 'uploads', match: { direction: 'upload' }, scan: 'dlp' }]).mayScanDownload(download)).toBe(false);
  });
});

describe('version', () => {
  const rules: NonNullable<ConfigInput['policy']> = [{ name: 'uploads', match: { direction: 'upload' }, scan: 'dlp' }];
  it('is a sha256 hex, stable for the same config', () => {
    expect(build(rules).version).toMatch(/^[0-9a-f]{64}$/);
    expect(build(rules).version).toBe(build(rules).version);
  });
  it('changes with the rules', () => {
    expect(build([{ ...rules[0]!, onViolation: 'monitor' }]).version).not.toBe(build(rules).version);
  });
  it('does not change with how a download is delivered (hold, trickle, patience): the verdicts stay valid', () => {
    expect(build([{ ...rules[0]!, delivery: { mode: 'trickle', trickleHoldBytes: 4096 } }]).version).toBe(build(rules).version);
  });
  it('changes with a service URL or vendor, not with its timeouts or fail mode', () => {
    const base = build(rules).version;
    const s = (dlp: object) => build(rules, { services: { dlp: { urls: ['icap://127.0.0.1:1344/dlp'], ...dlp }, av: { urls: ['icap://127.0.0.1:1344/av'] } } }).version;
    expect(s({})).toBe(base);
    expect(s({ failMode: 'open', connectTimeoutMs: 1 })).toBe(base);
    expect(s({ vendor: 'symantec' })).not.toBe(base);
    expect(s({ urls: ['icap://127.0.0.1:1345/dlp'] })).not.toBe(base);
  });
  it('does not depend on key order in the config', () => {
    const a = build([{ name: 'r', match: { direction: 'upload', methods: ['POST'] }, scan: 'dlp' }]).version;
    const b = build([{ scan: 'dlp', match: { methods: ['POST'], direction: 'upload' }, name: 'r' }]).version;
    expect(a).toBe(b);
  });
});

describe('decide: the explanation is built when read, and kept in JSON', () => {
  it('reads the same text when asked and in JSON', () => {
    const policy = build([{ name: 'r', match: { hosts: ['*.example.com'], direction: 'upload' }, scan: 'dlp' }]);
    const decision = policy.decide(upload);
    expect(decision).toMatchObject({ action: 'scan', rule: 'r', service: 'dlp' });
    expect(decision.explain).toBe('direction=upload, host *.example.com matched files.example.com');
    expect(JSON.parse(JSON.stringify(decision)).explain).toBe(decision.explain);
    const empty = policy.decide({ ...upload, hasBody: false, bodyBytes: 0 });
    expect(empty).toMatchObject({ action: 'pass', rule: 'r' });
    expect(empty.explain).toMatch(/; no body, not scanned \(scanEmptyBodies off\)$/);
  });
});
