// The destination guard's rule table (own listeners on every local address form, deny/allow with
// ports and ranges, link-local, loopback on and off loopback), its lookup (a name is judged by the
// addresses it resolves to) and the parser of allow/denyDestinations entries. No sockets.
import dns from 'node:dns';
import os from 'node:os';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ProxyError } from '../../../src/core/errors.js';
import { parseConfig } from '../../../src/config/index.js';
import { DestinationGuard, type DestinationGuardOptions } from '../../../src/upstream/destination-guard.js';
import { parseDestinationRule, parseIp } from '../../../src/upstream/destination-rule.js';

function guard(options: Partial<DestinationGuardOptions> = {}): DestinationGuard {
  return new DestinationGuard({ allowDestinations: [], denyDestinations: [], listensOffLoopback: false, ...options });
}

/** The rule that refused host:port, or 'allowed'. */
function verdict(g: DestinationGuard, host: string, port: number): string {
  const refused = g.check(host, port);
  if (!refused) return 'allowed';
  expect(refused).toBeInstanceOf(ProxyError);
  expect(refused.code).toBe('UPSTREAM_DESTINATION_FORBIDDEN');
  expect(refused.status).toBe(403);
  return String(refused.details?.rule);
}

function configError(fn: () => unknown): ProxyError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ProxyError) return err;
    throw err;
  }
  throw new Error('expected a ProxyError');
}

/** Every address of this host's interfaces, as os.networkInterfaces() lists them. */
const interfaceAddresses = Object.values(os.networkInterfaces()).flatMap((infos) => (infos ?? []).map((info) => info.address));

/** Every way of writing an address that reaches this host. */
const LOCAL_FORMS = [
  '127.0.0.1',
  '127.0.0.2',
  '127.255.255.254',
  '[127.0.0.1]',
  '::1',
  '[::1]',
  '0:0:0:0:0:0:0:1',
  '0.0.0.0',
  '0.1.2.3',
  '::',
  '[::]',
  '::ffff:127.0.0.1',
  '[::ffff:127.0.0.1]',
  '::ffff:7f00:1',
  '0:0:0:0:0:ffff:7f00:1',
  '::FFFF:127.0.0.1',
  '::ffff:0.0.0.0',
  ...interfaceAddresses,
  ...interfaceAddresses.filter((a) => !a.includes(':')).map((a) => `::ffff:${a}`),
  ...interfaceAddresses.filter((a) => a.startsWith('fe80:')).map((a) => `${a}%1`),
];

describe('destination guard: this proxy\'s own listeners', () => {
  const own = () => {
    const g = guard({ allowDestinations: ['0.0.0.0/0', '::/0', '127.0.0.0/8'] });
    g.addOwnListener('proxy', '127.0.0.1', 8080);
    g.addOwnListener('admin', '127.0.0.1', 9090);
    g.addOwnListener('icap-server', '127.0.0.1', 1344);
    return g;
  };

  it.each(LOCAL_FORMS)('%s on an own port is refused, whatever allowDestinations says', (address) => {
    const g = own();
    expect(verdict(g, address, 8080)).toBe('own-listener');
    expect(verdict(g, address, 9090)).toBe('own-listener');
    expect(verdict(g, address, 1344)).toBe('own-listener');
    // the same address on a port that is not ours is an ordinary destination
    expect(verdict(g, address, 9091)).toBe('allowed');
  });

  it('names the destination and the listener in the message', () => {
    const g = own();
    expect(g.check('127.0.0.1', 9090)?.message).toBe("127.0.0.1:9090 is this proxy's admin listener");
    expect(g.check('::ffff:127.0.0.1', 1344)?.message).toBe("[::ffff:127.0.0.1]:1344 is this proxy's built-in ICAP service");
    expect(g.check('[::1]', 8080)?.message).toBe("[::1]:8080 is this proxy's own proxy port");
    expect(g.check('0.0.0.0', 8080)?.details).toEqual({ destination: '0.0.0.0:8080', rule: 'own-listener' });
  });

  it("the workers' patience relays: the live ones are own listeners, a gone worker's port no longer is, the other roles stay", () => {
    const g = own();
    g.setOwnListeners('patience-relay', '127.0.0.1', [41001, 41002]);
    expect(verdict(g, '127.0.0.1', 41001)).toBe('own-listener');
    expect(g.check('127.0.0.1', 41002)?.message).toBe("127.0.0.1:41002 is this proxy's patience relay between workers");
    g.setOwnListeners('patience-relay', '127.0.0.1', [41002, 41003]);
    expect(verdict(g, '127.0.0.1', 41001)).toBe('allowed');
    expect(verdict(g, '127.0.0.1', 41003)).toBe('own-listener');
    expect(verdict(g, '127.0.0.1', 9090)).toBe('own-listener');
  });

  it('counts the address a listener was bound to as local', () => {
    const g = guard();
    // an address no interface carries (AnyIP, a freebind listener): the listen address still counts
    g.addOwnListener('proxy', '198.51.100.7', 3128);
    expect(verdict(g, '198.51.100.7', 3128)).toBe('own-listener');
    expect(verdict(g, '::ffff:198.51.100.7', 3128)).toBe('own-listener');
    expect(verdict(g, '127.0.0.1', 3128)).toBe('own-listener');
    expect(verdict(g, '198.51.100.8', 3128)).toBe('allowed');
  });

  it('leaves remote hosts on the same port number alone', () => {
    const g = own();
    expect(verdict(g, '93.184.216.34', 8080)).toBe('allowed');
    expect(verdict(g, '2001:db8::1', 9090)).toBe('allowed');
  });

  it('does not judge names: their resolved addresses are checked by lookupFor', () => {
    expect(own().check('localhost', 9090)).toBeUndefined();
  });
});

describe('destination guard: denyDestinations and allowDestinations', () => {
  it('refuses a block on every port, and names the entry', () => {
    const g = guard({ denyDestinations: ['10.0.0.0/8'] });
    expect(verdict(g, '10.1.2.3', 80)).toBe('upstream.denyDestinations[0] (10.0.0.0/8)');
    expect(verdict(g, '::ffff:10.1.2.3', 443)).toBe('upstream.denyDestinations[0] (10.0.0.0/8)');
    expect(verdict(g, '11.0.0.1', 80)).toBe('allowed');
    expect(g.check('10.1.2.3', 80)?.message).toBe('10.1.2.3:80 is refused by upstream.denyDestinations[0] (10.0.0.0/8)');
  });

  it('matches one host on one port', () => {
    const g = guard({ denyDestinations: ['10.1.2.3/32:443', '10.9.9.9:22'] });
    expect(verdict(g, '10.1.2.3', 443)).toBe('upstream.denyDestinations[0] (10.1.2.3/32:443)');
    expect(verdict(g, '10.1.2.3', 80)).toBe('allowed');
    expect(verdict(g, '10.1.2.4', 443)).toBe('allowed');
    expect(verdict(g, '10.9.9.9', 22)).toBe('upstream.denyDestinations[1] (10.9.9.9:22)');
  });

  it('matches a port range, bounds included', () => {
    const g = guard({ denyDestinations: ['192.168.0.0/16:8000-8999'] });
    expect(verdict(g, '192.168.5.5', 8000)).not.toBe('allowed');
    expect(verdict(g, '192.168.5.5', 8999)).not.toBe('allowed');
    expect(verdict(g, '192.168.5.5', 7999)).toBe('allowed');
    expect(verdict(g, '192.168.5.5', 9000)).toBe('allowed');
    expect(verdict(g, '192.169.0.1', 8500)).toBe('allowed');
  });

  it('matches IPv6 blocks, with ports in brackets', () => {
    const g = guard({ denyDestinations: ['[fd00::/8]:443', '2001:db8::/32'] });
    expect(verdict(g, 'fd12:3456::1', 443)).toBe('upstream.denyDestinations[0] ([fd00::/8]:443)');
    expect(verdict(g, '[fdff::1]', 443)).not.toBe('allowed');
    expect(verdict(g, 'fd12:3456::1', 80)).toBe('allowed');
    expect(verdict(g, 'fe00::1', 443)).toBe('allowed');
    expect(verdict(g, '2001:db8:ffff::1', 1)).toBe('upstream.denyDestinations[1] (2001:db8::/32)');
    expect(verdict(g, '2001:db9::1', 1)).toBe('allowed');
  });

  it('refuses a loopback origin when listening on loopback, if denied', () => {
    const g = guard({ denyDestinations: ['127.0.0.1/32:3000'] });
    expect(verdict(g, '127.0.0.1', 3000)).not.toBe('allowed');
    expect(verdict(g, '::ffff:127.0.0.1', 3000)).not.toBe('allowed');
    expect(verdict(g, '127.0.0.1', 3001)).toBe('allowed');
  });

  it('lets deny win over allow', () => {
    const g = guard({ denyDestinations: ['10.0.0.0/8'], allowDestinations: ['10.1.0.0/16'] });
    expect(verdict(g, '10.1.2.3', 80)).toBe('upstream.denyDestinations[0] (10.0.0.0/8)');
  });

  it('a catch-all deny refuses every destination of its family', () => {
    const g = guard({ denyDestinations: ['0.0.0.0/0'] });
    expect(verdict(g, '8.8.8.8', 53)).not.toBe('allowed');
    expect(verdict(g, '::ffff:8.8.8.8', 53)).not.toBe('allowed');
    expect(verdict(g, '2001:4860:4860::8888', 53)).toBe('allowed');
  });
});

describe('destination guard: defaults', () => {
  const LINK_LOCAL = ['169.254.169.254', '169.254.0.1', '::ffff:169.254.169.254', 'fe80::1', 'fe80::1%eth0', '[fe80::a:b]', 'febf::1'];

  it.each(LINK_LOCAL)('%s (link-local) is refused, on loopback or off', (address) => {
    expect(verdict(guard(), address, 80)).toBe('link-local');
    expect(verdict(guard({ listensOffLoopback: true }), address, 80)).toBe('link-local');
  });

  it('allowDestinations lifts the link-local default for its ports only', () => {
    const g = guard({ allowDestinations: ['169.254.169.254/32:80'] });
    expect(verdict(g, '169.254.169.254', 80)).toBe('allowed');
    expect(verdict(g, '169.254.169.254', 443)).toBe('link-local');
    expect(verdict(g, '169.254.169.253', 80)).toBe('link-local');
    expect(g.check('169.254.169.254', 443)?.message).toMatch(/^169\.254\.169\.254:443 is link-local .*upstream\.allowDestinations/);
  });

  const LOOPBACK = ['127.0.0.1', '127.3.4.5', '::1', '::ffff:127.0.0.1', '[::ffff:7f00:1]'];
  const UNSPECIFIED = ['0.0.0.0', '::', '::ffff:0.0.0.0'];

  it.each(LOOPBACK)('%s (loopback) is allowed when the proxy listens on loopback, refused off loopback', (address) => {
    expect(verdict(guard(), address, 3000)).toBe('allowed');
    expect(verdict(guard({ listensOffLoopback: true }), address, 3000)).toBe('loopback');
  });

  it.each(UNSPECIFIED)('%s (unspecified) is allowed on loopback, refused off loopback', (address) => {
    expect(verdict(guard(), address, 3000)).toBe('allowed');
    expect(verdict(guard({ listensOffLoopback: true }), address, 3000)).toBe('unspecified');
  });

  it("names Squid's to_localhost off loopback", () => {
    expect(guard({ listensOffLoopback: true }).check('127.0.0.1', 3000)?.message).toMatch(/^127\.0\.0\.1:3000 is a loopback address and the proxy listens off loopback \(Squid's to_localhost\)/);
  });

  it('allowDestinations lifts the loopback default, never the own listeners', () => {
    const g = guard({ listensOffLoopback: true, allowDestinations: ['127.0.0.0/8', '[::1]'] });
    g.addOwnListener('admin', '0.0.0.0', 9090);
    expect(verdict(g, '127.0.0.1', 3000)).toBe('allowed');
    expect(verdict(g, '::1', 3000)).toBe('allowed');
    expect(verdict(g, '0.0.0.0', 3000)).toBe('unspecified');
    expect(verdict(g, '127.0.0.1', 9090)).toBe('own-listener');
  });

  it('leaves public and private addresses alone by default', () => {
    for (const address of ['93.184.216.34', '10.0.0.1', '192.168.1.1', '2001:db8::1', 'fd00::1']) {
      expect(verdict(guard({ listensOffLoopback: true }), address, 443)).toBe('allowed');
    }
  });
});

describe('destination guard: lookup', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  type Answer = { err: NodeJS.ErrnoException | null; address: unknown; family?: number };
  function resolve(g: DestinationGuard, host: string, port: number, all: boolean): Promise<Answer> {
    return new Promise((done) => g.lookupFor(port)(host, { all }, (err, address, family) => done({ err, address, family })));
  }

  it('refuses a name that resolves only to refused addresses (localhost on an own port)', async () => {
    const g = guard();
    g.addOwnListener('admin', '127.0.0.1', 9090);
    for (const all of [true, false]) {
      const { err } = await resolve(g, 'localhost', 9090, all);
      expect(err).toBeInstanceOf(ProxyError);
      const error = err as ProxyError;
      expect(error.code).toBe('UPSTREAM_DESTINATION_FORBIDDEN');
      expect(error.message).toMatch(/^localhost:9090 resolves only to refused destinations: .*is this proxy's admin listener/);
      expect(error.details?.rule).toBe('own-listener');
    }
  });

  it('answers the allowed addresses in the shape net asked for', async () => {
    const g = guard();
    g.addOwnListener('admin', '127.0.0.1', 9090);
    const many = await resolve(g, 'localhost', 3000, true);
    expect(many.err).toBeNull();
    expect(many.address).toEqual(expect.arrayContaining([expect.objectContaining({ address: expect.stringMatching(/^(127\.0\.0\.1|::1)$/) })]));
    const one = await resolve(g, 'localhost', 3000, false);
    expect(one.err).toBeNull();
    expect(one.address).toMatch(/^(127\.0\.0\.1|::1)$/);
    expect([4, 6]).toContain(one.family);
  });

  it('drops refused addresses of a name and keeps the others (metadata mixed into an answer)', async () => {
    vi.spyOn(dns, 'lookup').mockImplementation(((_host: string, _options: unknown, callback: (err: null, addresses: dns.LookupAddress[]) => void) => {
      callback(null, [
        { address: '169.254.169.254', family: 4 },
        { address: 'fe80::1', family: 6 },
        { address: '93.184.216.34', family: 4 },
      ]);
    }) as unknown as typeof dns.lookup);
    const g = guard();
    expect((await resolve(g, 'rebind.example', 80, true)).address).toEqual([{ address: '93.184.216.34', family: 4 }]);
    expect(await resolve(g, 'rebind.example', 80, false)).toEqual({ err: null, address: '93.184.216.34', family: 4 });
    const refused = await resolve(guard({ denyDestinations: ['93.184.216.0/24'] }), 'rebind.example', 80, false);
    expect((refused.err as ProxyError).code).toBe('UPSTREAM_DESTINATION_FORBIDDEN');
    expect((refused.err as ProxyError).details?.refused).toEqual(['169.254.169.254:80', '[fe80::1]:80', '93.184.216.34:80']);
  });

  it('passes a resolver failure through untouched', async () => {
    const failure = Object.assign(new Error('getaddrinfo ENOTFOUND nowhere.invalid'), { code: 'ENOTFOUND' });
    vi.spyOn(dns, 'lookup').mockImplementation(((_host: string, _options: unknown, callback: (err: Error) => void) => callback(failure)) as unknown as typeof dns.lookup);
    expect((await resolve(guard(), 'nowhere.invalid', 80, true)).err).toBe(failure);
  });
});

describe('destination entries', () => {
  it.each([
    ['10.0.0.0/8', { family: 4, prefix: 8, ports: undefined }],
    ['10.1.2.3/32:443', { family: 4, prefix: 32, ports: { from: 443, to: 443 } }],
    ['10.1.2.3', { family: 4, prefix: 32, ports: undefined }],
    ['10.1.2.3:22', { family: 4, prefix: 32, ports: { from: 22, to: 22 } }],
    ['192.168.0.0/16:8000-8999', { family: 4, prefix: 16, ports: { from: 8000, to: 8999 } }],
    ['0.0.0.0/0', { family: 4, prefix: 0, ports: undefined }],
    ['[fd00::/8]:443', { family: 6, prefix: 8, ports: { from: 443, to: 443 } }],
    ['[fd00::/8]', { family: 6, prefix: 8, ports: undefined }],
    ['fd00::/8', { family: 6, prefix: 8, ports: undefined }],
    ['[::1]:1-65535', { family: 6, prefix: 128, ports: { from: 1, to: 65535 } }],
  ])('parses %s', (entry, expected) => {
    expect(parseDestinationRule(entry, 'upstream.allowDestinations[0]')).toMatchObject({ ...expected, name: `upstream.allowDestinations[0] (${entry})` });
  });

  it.each([
    ['metadata.google.internal', /is not an IP address/],
    ['10.0.0.0/33', /prefix length must be a number from 0 to 32/],
    ['fd00::/129', /prefix length must be a number from 0 to 128/],
    ['10.0.0.0/', /prefix length/],
    ['10.0.0.0/8/8', /more than one "\/"/],
    ['10.1.2.3/8', /address bits set past the \/8 prefix/],
    ['10.0.0.0/8:0', /ports "0" must be a port or a range from 1 to 65535/],
    ['10.0.0.0/8:70000', /ports "70000"/],
    ['10.0.0.0/8:9000-8000', /ports "9000-8000"/],
    ['10.0.0.0/8:http', /ports "http"/],
    ['1.2.3.4:', /ports ""/],
    ['fd00::/8:443', /prefix length/],
    ['[fd00::/8', /is not \[IPv6 block\]:ports/],
    ['[fd00::/8]443', /is not \[IPv6 block\]:ports/],
    ['[::ffff:10.0.0.0/104]', /IPv4-mapped IPv6 block: write it as IPv4/],
    ['fe80::1%eth0', /is not an IP address/],
    ['', /is not an IP address/],
  ])('refuses %j, naming its path', (entry, why) => {
    const error = configError(() => guard({ denyDestinations: ['10.0.0.0/8', entry] }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message.startsWith(`upstream.denyDestinations[1]: "${entry}" `)).toBe(true);
    expect(error.message).toMatch(why);
    expect(error.message).toMatch(/expected CIDR\[:ports\]/);
  });

  it('names allowDestinations entries by their own path', () => {
    expect(configError(() => guard({ allowDestinations: ['10.0.0.0/99'] })).message).toMatch(/^upstream\.allowDestinations\[0\]: "10\.0\.0\.0\/99" prefix length/);
  });

  it('the schema carries both keys, empty by default', () => {
    expect(parseConfig({}).upstream).toMatchObject({ allowDestinations: [], denyDestinations: [] });
    expect(parseConfig({ upstream: { denyDestinations: ['10.0.0.0/8'], allowDestinations: ['[fd00::/8]:443'] } }).upstream).toMatchObject({
      denyDestinations: ['10.0.0.0/8'],
      allowDestinations: ['[fd00::/8]:443'],
    });
  });
});

describe('IP literals', () => {
  it.each([
    ['127.0.0.1', 4, 0x7f000001n],
    ['::ffff:127.0.0.1', 4, 0x7f000001n],
    ['[::ffff:7f00:1]', 4, 0x7f000001n],
    ['::1', 6, 1n],
    ['::', 6, 0n],
    ['fe80::1%eth0', 6, 0xfe80n << 112n | 1n],
    ['1:2:3:4:5:6:7:8', 6, 0x00010002000300040005000600070008n],
    ['1::8', 6, (1n << 112n) | 8n],
    ['::1.2.3.4', 6, 0x01020304n],
  ])('%s is %i / %s', (text, family, value) => {
    expect(parseIp(text)).toEqual({ family, value });
  });

  it('a name is not an IP literal', () => {
    expect(parseIp('localhost')).toBeUndefined();
    expect(parseIp('127.1')).toBeUndefined();
  });
});
