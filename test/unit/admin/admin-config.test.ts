// The admin keys of issue 15 as the config validates them: admin.users (Basic-safe names, scrypt
// hashes, no duplicates), admin.sessionTtlMs, admin.tls (required off loopback once users exist:
// no password crosses a network in clear) and admin.publicUrl (an origin). What each key does is
// tested where it acts (test/integration/admin-incidents.test.ts, block-page-link.test.ts).
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../src/config/index.js';

const HASH = 'scrypt$16384$8$1$c2FsdA==$aGFzaA==';

function issues(doc: Record<string, unknown>): string[] {
  try {
    parseConfig(doc, 'test');
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map((i) => `${i.path}: ${i.message}`);
    throw err;
  }
}

describe('admin config keys', () => {
  it('defaults: no users (reports closed), 8 h sessions, plain http on loopback, no public URL', () => {
    const { admin } = parseConfig({}, 'test');
    expect(admin.users).toEqual([]);
    expect(admin.sessionTtlMs).toBe(8 * 3_600_000);
    expect(admin.tls).toBeUndefined();
    expect(admin.publicUrl).toBeUndefined();
  });

  it('users: names without colon or control characters, scrypt hashes, each name once', () => {
    expect(parseConfig({ admin: { users: [{ name: 'soc analyst', passwordHash: HASH }] } }, 'test').admin.users).toHaveLength(1);
    expect(issues({ admin: { users: [{ name: 'a:b', passwordHash: HASH }] } })).toEqual([expect.stringMatching(/^admin\.users\[0\]\.name: /)]);
    expect(issues({ admin: { users: [{ name: 'a\nb', passwordHash: HASH }] } })).toHaveLength(1);
    expect(issues({ admin: { users: [{ name: 'a', passwordHash: 'plaintext' }] } })).toEqual([expect.stringMatching(/^admin\.users\[0\]\.passwordHash: must be an scrypt hash/)]);
    expect(issues({ admin: { users: [{ name: 'a', passwordHash: HASH }, { name: 'a', passwordHash: HASH }] } })).toEqual(['admin.users: a user name is listed twice']);
    expect(issues({ admin: { users: [{ name: 'a', passwordHash: HASH, role: 'x' }] } })).toHaveLength(1);
  });

  it('users off loopback need admin.tls', () => {
    const off = { proxy: { allowedClients: ['10.0.0.0/8'] }, admin: { host: '0.0.0.0', users: [{ name: 'a', passwordHash: HASH }] } };
    expect(issues(off)).toEqual([expect.stringMatching(/^admin\.tls: admin\.users off loopback needs admin\.tls/)]);
    expect(issues({ ...off, admin: { ...off.admin, tls: { cert: 'admin.pem', key: 'admin-key.pem' } } })).toEqual([]);
    // without users the listener serves what it always did
    expect(issues({ ...off, admin: { host: '0.0.0.0' } })).toEqual([]);
  });

  it('sessionTtlMs at least a minute; publicUrl an http(s) origin', () => {
    expect(issues({ admin: { sessionTtlMs: 59_999 } })).toHaveLength(1);
    expect(parseConfig({ admin: { sessionTtlMs: 60_000 } }, 'test').admin.sessionTtlMs).toBe(60_000);
    for (const ok of ['https://dlp-admin.example.com', 'http://10.0.0.5:9090/', 'https://[2001:db8::1]:8443']) expect(issues({ admin: { publicUrl: ok } }), ok).toEqual([]);
    for (const bad of ['dlp-admin.example.com', 'ftp://x', 'https://x/admin', 'https://x?y', 'javascript:alert(1)//']) expect(issues({ admin: { publicUrl: bad } }), bad).toHaveLength(1);
  });
});
