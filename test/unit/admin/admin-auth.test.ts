// Sign-in without sockets: cookie flags, sessions (expiry, revocation by a reload, bound), the
// failure limiter (before scrypt, per client, IPv6 per /64), HTTP Basic parsing, the origin check
// and tokens of the CSRF defence, and the open-redirect guard of `next`.
import { describe, expect, it } from 'vitest';
import { AdminAuth, type AdminUser } from '../../../src/admin/auth/admin-auth.js';
import { cookieNames, parseCookies, serializeCookie } from '../../../src/admin/auth/cookies.js';
import { allowedOrigins, checkOrigin, tokensEqual } from '../../../src/admin/auth/csrf.js';
import { clientKey, LoginLimiter } from '../../../src/admin/auth/login-limiter.js';
import { safeNext } from '../../../src/admin/auth/login-page.js';
import { SessionStore } from '../../../src/admin/auth/session-store.js';
import { hashPassword } from '../../../src/proxy/index.js';

// a low scrypt cost keeps the tests fast; the verifier reads N, r, p from the hash
const CHEAP = { N: 1024, r: 8, p: 1 };
const alice: AdminUser = { name: 'alice', passwordHash: await hashPassword('correct horse', CHEAP) };
const bob: AdminUser = { name: 'bob', passwordHash: await hashPassword('battery staple', CHEAP) };
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

function makeAuth(users: { list: readonly AdminUser[] }, secure = false, ttlMs = 60_000) {
  return new AdminAuth({ users: () => users.list, sessionTtlMs: () => ttlMs, secure, maxFailures: 3, failureWindowMs: 60_000 });
}

/** The cookie header a browser would send back for a Set-Cookie value. */
const cookieOf = (setCookie: string) => setCookie.split(';')[0]!;

describe('cookies', () => {
  it('HttpOnly and SameSite=Strict always; Secure and __Host- only over TLS', () => {
    expect(serializeCookie('dlp-admin-session', 'v', { secure: false, maxAgeSeconds: 3600 })).toBe('dlp-admin-session=v; Path=/; Max-Age=3600; HttpOnly; SameSite=Strict');
    expect(serializeCookie('__Host-dlp-admin-session', 'v', { secure: true, maxAgeSeconds: 0 })).toBe('__Host-dlp-admin-session=v; Path=/; Max-Age=0; HttpOnly; SameSite=Strict; Secure');
    expect(cookieNames(true)).toEqual({ session: '__Host-dlp-admin-session', login: '__Host-dlp-admin-login' });
    expect(cookieNames(false)).toEqual({ session: 'dlp-admin-session', login: 'dlp-admin-login' });
  });

  it('parses a Cookie header; the first of a repeated name wins', () => {
    expect([...parseCookies(' a=1; b = 2 ;junk; a=3; =x; c=')]).toEqual([
      ['a', '1'],
      ['b', '2'],
      ['c', ''],
    ]);
    expect(parseCookies(undefined).size).toBe(0);
  });
});

describe('sessions', () => {
  it('end at their expiry, at destroy, and are looked up by id only', () => {
    const store = new SessionStore();
    const { id, session } = store.create('alice', 'cred', 1000, 0);
    expect(store.get(id, 999)).toBe(session);
    expect(store.get(id, 1000)).toBeUndefined();
    const second = store.create('alice', 'cred', 1000);
    expect(store.get(second.id.slice(0, -1) + (second.id.endsWith('A') ? 'B' : 'A'))).toBeUndefined();
    store.destroy(second.id);
    expect(store.get(second.id)).toBeUndefined();
    expect(second.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(second.session.csrfToken).not.toBe(session.csrfToken);
  });

  it('are bounded: past the maximum the least recently used goes', () => {
    const store = new SessionStore(3);
    const ids = [0, 1, 2, 3].map(() => store.create('u', 'c', 60_000).id);
    expect(store.size).toBe(3);
    expect(store.get(ids[0])).toBeUndefined();
    expect(store.get(ids[3])).toBeDefined();
  });
});

describe('login limiter', () => {
  it('refuses a client after maxFailures in the window, until the window passes; success clears', () => {
    const limiter = new LoginLimiter({ maxFailures: 2, windowMs: 1000 });
    limiter.fail('10.0.0.1', 0);
    expect(limiter.retryAfterMs('10.0.0.1', 10)).toBe(0);
    limiter.fail('10.0.0.1', 100);
    expect(limiter.retryAfterMs('10.0.0.1', 200)).toBe(800);
    expect(limiter.retryAfterMs('10.0.0.2', 200)).toBe(0);
    expect(limiter.retryAfterMs('10.0.0.1', 1000)).toBe(0);
    limiter.fail('10.0.0.3', 0);
    limiter.succeed('10.0.0.3');
    limiter.fail('10.0.0.3', 1);
    expect(limiter.retryAfterMs('10.0.0.3', 2)).toBe(0);
  });

  it('counts IPv4-mapped addresses as IPv4 and IPv6 per /64', () => {
    expect(clientKey('::ffff:10.0.0.1')).toBe('10.0.0.1');
    expect(clientKey('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:0db8:0001:0002:ffff:1:2:3')).toBe('2001:db8:1:2::/64');
    expect(clientKey('::1')).toBe('0:0:0:0::/64');
    const limiter = new LoginLimiter({ maxFailures: 2, windowMs: 1000 });
    limiter.fail('2001:db8:1:2::1', 0);
    limiter.fail('2001:db8:1:2::ffff', 0);
    expect(limiter.retryAfterMs('2001:db8:1:2:abcd::9', 1)).toBeGreaterThan(0);
    expect(limiter.retryAfterMs('2001:db8:1:3::1', 1)).toBe(0);
  });
});

describe('AdminAuth', () => {
  it('signs in a configured user with the right password only', async () => {
    const auth = makeAuth({ list: [alice, bob] });
    expect(await auth.signIn('alice', 'correct horse', '10.0.0.1')).toEqual({ ok: true, user: 'alice' });
    expect(await auth.signIn('alice', 'battery staple', '10.0.0.2')).toMatchObject({ ok: false });
    expect(await auth.signIn('mallory', 'correct horse', '10.0.0.2')).toMatchObject({ ok: false });
    expect(await auth.signIn('ALICE', 'correct horse', '10.0.0.2')).toMatchObject({ ok: false });
    expect(auth.configured).toBe(true);
    expect(makeAuth({ list: [] }).configured).toBe(false);
  });

  it('past the failure limit even the right password is refused', async () => {
    const auth = makeAuth({ list: [alice] });
    for (let i = 0; i < 3; i++) expect(await auth.signIn('alice', 'guess', '10.0.0.9')).toMatchObject({ ok: false });
    const refused = await auth.signIn('alice', 'correct horse', '10.0.0.9');
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.retryAfterMs).toBeGreaterThan(50_000);
    // Basic counts against the same client
    expect(await auth.basic(basic('alice', 'correct horse'), '10.0.0.9')).toMatchObject({ ok: false });
    // another client is not affected
    expect(await auth.signIn('alice', 'correct horse', '10.0.0.10')).toEqual({ ok: true, user: 'alice' });
  });

  it('an unknown name costs the same scrypt as a wrong password (timing does not tell which names exist)', async () => {
    const costly = { name: 'dave', passwordHash: await hashPassword('secret', { N: 16384, r: 8, p: 1 }) };
    const users = [costly];
    const auth = new AdminAuth({ users: () => users, sessionTtlMs: () => 60_000, secure: false, maxFailures: 100 });
    await auth.signIn('nobody', 'x', '10.0.3.1'); // the decoy hash is made on first use
    // the two in turn, so that a machine whose load changes slows both alike; the median of each
    const runs = { dave: [] as number[], nobody: [] as number[] };
    for (let i = 0; i < 5; i++) {
      for (const name of ['dave', 'nobody'] as const) {
        const start = performance.now();
        expect((await auth.signIn(name, `wrong${i}`, '10.0.3.1')).ok).toBe(false);
        runs[name].push(performance.now() - start);
      }
    }
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[2]!;
    const known = median(runs.dave);
    const unknown = median(runs.nobody);
    expect(unknown).toBeGreaterThan(known / 2);
    expect(unknown).toBeLessThan(known * 2);
  });

  it('reads HTTP Basic (RFC 7617): other schemes are no credentials, malformed ones are failures', async () => {
    const auth = makeAuth({ list: [alice] });
    expect(await auth.basic(basic('alice', 'correct horse'), '10.0.1.1')).toEqual({ ok: true, user: 'alice' });
    expect(await auth.basic('basic   ' + Buffer.from('alice:correct horse').toString('base64') + ' ', '10.0.1.1')).toEqual({ ok: true, user: 'alice' });
    expect(await auth.basic(undefined, '10.0.1.1')).toBeUndefined();
    expect(await auth.basic('Bearer abc', '10.0.1.1')).toBeUndefined();
    expect(await auth.basic(`Basic ${Buffer.from('alice').toString('base64')}`, '10.0.1.2')).toMatchObject({ ok: false });
    // a password with a colon is fine: only the first colon separates
    const colon = { name: 'carol', passwordHash: await hashPassword('a:b:c', CHEAP) };
    expect(await makeAuth({ list: [colon] }).basic(basic('carol', 'a:b:c'), '10.0.1.3')).toEqual({ ok: true, user: 'carol' });
  });

  it('a session lives until logout, its expiry, or a reload that drops the user or changes the hash', async () => {
    const users = { list: [alice, bob] as readonly AdminUser[] };
    const auth = makeAuth(users);
    const a = auth.startSession('alice');
    const b = auth.startSession('bob');
    expect(a.setCookie).toMatch(/^dlp-admin-session=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=60; HttpOnly; SameSite=Strict$/);
    expect(auth.session(cookieOf(a.setCookie))?.user).toBe('alice');
    expect(auth.session(`other=1; ${cookieOf(b.setCookie)}`)?.user).toBe('bob');
    expect(auth.session('dlp-admin-session=forged')).toBeUndefined();
    expect(auth.session(undefined)).toBeUndefined();
    // a reload with a new hash for alice ends her session, bob's stays
    users.list = [{ name: 'alice', passwordHash: await hashPassword('new one', CHEAP) }, bob];
    expect(auth.session(cookieOf(a.setCookie))).toBeUndefined();
    expect(auth.session(cookieOf(b.setCookie))?.user).toBe('bob');
    // and the old password no longer signs in (no cached success outlives its hash)
    expect(await auth.signIn('alice', 'correct horse', '10.0.2.1')).toMatchObject({ ok: false });
    users.list = [alice];
    expect(auth.session(cookieOf(b.setCookie))).toBeUndefined();
    const c = auth.startSession('alice');
    expect(auth.endSession(cookieOf(c.setCookie))).toBe('dlp-admin-session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict');
    expect(auth.session(cookieOf(c.setCookie))).toBeUndefined();
  });

  it('sessions expire after sessionTtlMs', async () => {
    // a TTL well above a loaded machine's pause between two statements
    const auth = makeAuth({ list: [alice] }, false, 300);
    const s = auth.startSession('alice');
    expect(auth.session(cookieOf(s.setCookie))).toBeDefined();
    await new Promise((r) => setTimeout(r, 320));
    expect(auth.session(cookieOf(s.setCookie))).toBeUndefined();
  });

  it('over TLS the cookies are Secure and __Host- prefixed', () => {
    const auth = makeAuth({ list: [alice] }, true);
    expect(auth.startSession('alice').setCookie).toMatch(/^__Host-dlp-admin-session=.*; Secure$/);
    expect(auth.loginToken(undefined).setCookie).toMatch(/^__Host-dlp-admin-login=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=3600; HttpOnly; SameSite=Strict; Secure$/);
  });

  it('the login token is reused from its cookie, and a malformed cookie gets a new one', () => {
    const auth = makeAuth({ list: [alice] });
    const first = auth.loginToken(undefined);
    expect(first.setCookie).toBeDefined();
    expect(auth.loginToken(cookieOf(first.setCookie!))).toEqual({ token: first.token });
    expect(auth.loginToken('dlp-admin-login=short').setCookie).toBeDefined();
  });
});

describe('CSRF: origin and tokens', () => {
  const own = allowedOrigins('127.0.0.1:9090', false, undefined);

  it('the allowed origins are this listener as reached, and the public URL', () => {
    expect(own).toEqual(['http://127.0.0.1:9090']);
    expect(allowedOrigins('Admin.Example:443', true, 'https://dlp.example.com/')).toEqual(['https://admin.example', 'https://dlp.example.com']);
    expect(allowedOrigins(undefined, false, undefined)).toEqual([]);
    expect(allowedOrigins('evil@127.0.0.1:9090', false, undefined)).toEqual([]);
  });

  it('accepts our own origin, refuses any other, a missing and a null one', () => {
    expect(checkOrigin({ origin: 'http://127.0.0.1:9090' }, own)).toEqual({ ok: true });
    expect(checkOrigin({ origin: 'http://127.0.0.1:9090', 'sec-fetch-site': 'same-origin' }, own)).toEqual({ ok: true });
    for (const origin of ['http://127.0.0.1:9091', 'https://127.0.0.1:9090', 'http://localhost:9090', 'http://evil.example', 'null', 'http://127.0.0.1:9090/path', 'http://127.0.0.1:9090.evil.example']) {
      expect(checkOrigin({ origin }, own).ok, origin).toBe(false);
    }
    expect(checkOrigin({}, own).ok).toBe(false);
    expect(checkOrigin({ origin: 'http://127.0.0.1:9090', 'sec-fetch-site': 'same-site' }, own).ok).toBe(false);
    expect(checkOrigin({ origin: 'http://127.0.0.1:9090', 'sec-fetch-site': 'cross-site' }, own).ok).toBe(false);
  });

  it('falls back to the Referer only when there is no Origin', () => {
    expect(checkOrigin({ referer: 'http://127.0.0.1:9090/login?next=/incidents' }, own)).toEqual({ ok: true });
    expect(checkOrigin({ referer: 'http://evil.example/http://127.0.0.1:9090/' }, own).ok).toBe(false);
    expect(checkOrigin({ referer: 'not a url' }, own).ok).toBe(false);
    expect(checkOrigin({ origin: 'http://evil.example', referer: 'http://127.0.0.1:9090/login' }, own).ok).toBe(false);
  });

  it('tokens compare whole and never match empty', () => {
    expect(tokensEqual('abc', 'abc')).toBe(true);
    expect(tokensEqual('abc', 'abd')).toBe(false);
    expect(tokensEqual('abc', 'abcd')).toBe(false);
    expect(tokensEqual('', '')).toBe(false);
    expect(tokensEqual(undefined, undefined)).toBe(false);
  });
});

describe('next after sign-in', () => {
  it('only a path of the incident pages on this listener', () => {
    expect(safeNext('/incidents')).toBe('/incidents');
    expect(safeNext('/incidents/01jtfz1yk8ab3xyz')).toBe('/incidents/01jtfz1yk8ab3xyz');
    expect(safeNext('/incidents?user=a%20b&host=x')).toBe('/incidents?user=a%20b&host=x');
    for (const bad of ['//evil.example/incidents', '/\\evil.example', 'https://evil.example/incidents', 'javascript:alert(1)', '/incidents/../metrics', '/%2e%2e/metrics', '/metrics', '/incidentsx', '/incidents\r\nSet-Cookie: x=1', '', undefined, null, '/' + 'a'.repeat(3000)]) {
      expect(safeNext(bad), String(bad)).toBeUndefined();
    }
  });
});
