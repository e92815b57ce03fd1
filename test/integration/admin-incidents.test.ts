// The incident reports on a real admin listener (port 0, loopback) reading the real incident
// store (SQLite, test/support/test-incident-store.ts): closed without users or store, refused without sign-in while /metrics and the rest stay open, the login form (cookie
// flags, CSRF by origin and token, failures limited), filters reaching the store, an incident by
// id, CSV and JSON exports, the JSON API with HTTP Basic and its paging, logout, a reload that
// revokes, HTTPS with admin.tls, and hostile values from traffic rendered inert.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AdminServer, incidentReportsOptions, type AdminServerOptions } from '../../src/admin/index.js';
import { parseConfig, type Config } from '../../src/config/index.js';
import type { IncidentReader } from '../../src/incidents/index.js';
import { hashPassword } from '../../src/proxy/index.js';
import { AdminClient, basicAuth } from '../support/admin-client.js';
import { incident } from '../support/memory-incident-reader.js';
import { closeTestStores, openTestStore, type TestStore } from '../support/test-incident-store.js';
import { makeTestPki, type TestPki } from '../support/pki.js';

const CHEAP = { N: 1024, r: 8, p: 1 };
let pki: TestPki;
let caPem: string;
let soc: { name: string; passwordHash: string };
const servers: AdminServer[] = [];
// read-only stores, opened once for the file (each is a SQLite file with its own thread)
let sample: TestStore;
let empty: TestStore;

beforeAll(async () => {
  pki = makeTestPki();
  caPem = (await import('node:fs')).readFileSync(pki.caCert, 'utf8');
  soc = { name: 'soc', passwordHash: await hashPassword('s3cret pass', CHEAP) };
  [sample, empty] = await Promise.all([sampleReader(), openTestStore([])]);
});
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});
afterAll(async () => {
  await closeTestStores();
  pki?.cleanup();
});

function configWith(admin: Record<string, unknown>): Config {
  return parseConfig({ admin: { port: 0, ...admin } }, 'test');
}

async function start(opts: { config?: () => Config; reader?: IncidentReader | undefined; reports?: boolean } = {}): Promise<{ client: AdminClient; port: number }> {
  const config = opts.config ?? (() => configWith({ users: [soc] }));
  const c = config();
  const options: AdminServerOptions = {
    host: '127.0.0.1',
    port: 0,
    allowedClients: [],
    metrics: { text: async () => 'dlp_proxy_up 1\n', contentType: 'text/plain; version=0.0.4' },
    ca: { certPem: caPem, certDer: Buffer.from('der') },
    proxy: { host: '127.0.0.1', port: 8080, bypass: [], tunnel: [] },
    contact: 'the service desk',
    readiness: async () => ({ ready: true }) as never,
    ...(opts.reports === false ? {} : { incidents: incidentReportsOptions(config, 'reader' in opts ? opts.reader : empty) }),
    tls: c.admin.tls,
  };
  const server = new AdminServer(options);
  servers.push(server);
  const port = await server.listen();
  return { client: new AdminClient(`${c.admin.tls ? 'https' : 'http'}://127.0.0.1:${port}`, caPem), port };
}

const html = { accept: 'text/html' };

function sampleReader(): Promise<TestStore> {
  const records = [];
  const day = Date.parse('2024-05-06T12:00:00Z');
  for (let i = 0; i < 30; i++) {
    records.push(
      incident({
        time: new Date(day - i * 3_600_000).toISOString(),
        user: i % 3 === 0 ? 'bob' : 'alice',
        host: i % 2 === 0 ? 'paste.example' : 'files.example.com',
        direction: i % 5 === 0 ? 'download' : 'upload',
        action: i % 4 === 0 ? 'monitor' : 'block',
        violations: i % 2 === 0 ? ['payment-card'] : ['iban', 'payment-card'],
      }),
    );
  }
  return openTestStore(records);
}

describe('closed, never open', () => {
  it('without admin users: 403 with a hint; /metrics and the rest unchanged', async () => {
    const { client } = await start({ config: () => configWith({}) });
    const page = await client.get('/incidents', html);
    expect(page.status).toBe(403);
    expect(page.body).toMatch(/no admin user is configured.*admin\.users.*hash-password/);
    const api = await client.get('/api/incidents');
    expect(api.status).toBe(403);
    expect(JSON.parse(api.body)).toMatchObject({ error: 'forbidden' });
    expect((await client.get('/login', html)).status).toBe(403);
    expect((await client.request('POST', '/login', { form: { user: 'x', password: 'y' } })).status).toBe(403);
    expect((await client.get('/metrics')).body).toBe('dlp_proxy_up 1\n');
    expect((await client.get('/healthz')).status).toBe(200);
    expect((await client.get('/ca.pem')).body).toBe(caPem);
  });

  it('without the store (incidents disabled): 404 with a hint, even with users', async () => {
    const { client } = await start({ reader: undefined });
    const page = await client.get('/incidents', { ...html, authorization: basicAuth('soc', 's3cret pass') });
    expect(page.status).toBe(404);
    expect(page.body).toContain('incidents.enabled');
    // a listener built without the reports at all says where they would come from
    const bare = await start({ reports: false });
    expect((await bare.client.get('/incidents/summary')).status).toBe(404);
    expect((await bare.client.get('/api/incidents')).body).toContain('admin.users');
    expect((await bare.client.get('/')).status).toBe(200);
  });

  it('with users, nothing without a sign-in: pages go to the form, the API and exports get 401', async () => {
    const reader = sample;
    const { client } = await start({ reader });
    const id = reader.rows[0]!.incident;
    const asked = reader.queries.length;
    const page = await client.get(`/incidents/${id}?x=1`, html);
    expect(page.status).toBe(303);
    expect(page.headers.location).toBe(`/login?next=${encodeURIComponent(`/incidents/${id}?x=1`)}`);
    expect(page.body).not.toContain('alice');
    for (const path of ['/api/incidents', `/api/incidents/${id}`, '/api/incidents/summary', '/incidents/export.csv', '/incidents/export.json']) {
      const r = await client.get(path);
      expect(r.status, path).toBe(401);
      expect(r.headers['www-authenticate'], path).toBe('Basic realm="dlp-proxy admin", charset="UTF-8"');
      expect(r.body, path).not.toMatch(/alice|bob|paste\.example/);
    }
    expect((await client.get('/api/incidents', { authorization: basicAuth('soc', 'wrong') })).status).toBe(401);
    expect((await client.get('/api/incidents', { authorization: basicAuth('soc', 's3cret pass'), cookie: 'dlp-admin-session=forged' })).status).toBe(200);
    expect((await client.request('DELETE', '/incidents')).status).toBe(405);
    expect(reader.queries.length - asked).toBe(1);
  });
});

describe('signed in through the form', () => {
  it('login sets a session cookie (HttpOnly, SameSite=Strict, admin.sessionTtlMs) and lands on next', async () => {
    const ttlMs = 5 * 60_000;
    const { client } = await start({ config: () => configWith({ users: [soc], sessionTtlMs: ttlMs }), reader: sample });
    const form = await client.get('/login?next=%2Fincidents%3Fuser%3Dbob', html);
    expect(form.status).toBe(200);
    expect(form.headers['content-security-policy']).toContain("form-action 'self'");
    expect(form.setCookies).toEqual([expect.stringMatching(/^dlp-admin-login=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=3600; HttpOnly; SameSite=Strict$/)]);
    const done = await client.request('POST', '/login?next=%2Fincidents%3Fuser%3Dbob', {
      headers: { origin: client.base },
      form: { csrf: AdminClient.csrf(form.body), user: 'soc', password: 's3cret pass' },
    });
    expect(done.status).toBe(303);
    expect(done.headers.location).toBe('/incidents?user=bob');
    expect(done.setCookies[0]).toMatch(new RegExp(`^dlp-admin-session=[A-Za-z0-9_-]{43}; Path=/; Max-Age=${ttlMs / 1000}; HttpOnly; SameSite=Strict$`));
    // the login token is spent
    expect(done.setCookies[1]).toBe('dlp-admin-login=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict');
    const list = await client.get('/incidents?user=bob', html);
    expect(list.status).toBe(200);
    expect(list.body).toContain('<strong id="signed-in-user">soc</strong>');
  });

  it('filters reach the store; the list, an incident, the summary and a CSV export', async () => {
    const reader = sample;
    const { client } = await start({ reader });
    expect((await client.signIn('soc', 's3cret pass')).status).toBe(303);
    const list = await client.get('/incidents?from=2024-05-05&to=2024-05-06&user=bob&direction=upload&action=block&violation=payment-card&host=paste.example&limit=25', html);
    expect(list.status).toBe(200);
    expect(reader.queries.at(-1)).toEqual({
      from: new Date('2024-05-05T00:00:00Z'),
      to: new Date('2024-05-07T00:00:00Z'),
      user: 'bob',
      host: 'paste.example',
      direction: 'upload',
      action: 'block',
      violation: 'payment-card',
      limit: 25,
    });
    const expected = reader.rows.filter((r) => r.user === 'bob' && r.host === 'paste.example' && r.direction === 'upload' && r.action === 'block');
    expect(expected.length).toBeGreaterThan(0);
    const ids = [...list.body.matchAll(/<td class="id"><a href="\/incidents\/([0-9a-z]+)">/g)].map((m) => m[1]);
    expect(ids).toEqual(expected.map((r) => r.incident));
    expect(list.body).toContain(`<span id="total">${expected.length === 1 ? '1 incident matches' : `${expected.length} incidents match`}</span>`);

    const bad = await client.get('/incidents?direction=sideways&from=yesterday', html);
    expect(bad.status).toBe(400);
    expect(bad.body).toContain('direction: upload or download');

    const one = await client.get(`/incidents/${expected[0]!.incident}`, html);
    expect(one.status).toBe(200);
    expect(one.body).toContain(`<span class="mono" id="incident-id">${expected[0]!.incident}</span>`);
    expect((await client.get('/incidents/0000000000000000', html)).status).toBe(404);
    expect((await client.get('/incidents/%E0%A4%A', html)).status).toBe(404);

    const summary = await client.get('/incidents/summary?from=2024-05-05&to=2024-05-06', html);
    expect(summary.status).toBe(200);
    expect(summary.body.match(/<rect class="bar"/g)).toHaveLength(2);
    expect(summary.body).toContain('<span id="summary-total">30 incidents</span>');

    const csv = await client.get('/incidents/export.csv?host=paste.example&limit=1&before=junk');
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8; header=present');
    expect(csv.headers['content-disposition']).toMatch(/^attachment; filename="incidents-\d{8}T\d{6}Z\.csv"$/);
    expect(csv.headers['transfer-encoding']).toBe('chunked');
    const lines = csv.body.trimEnd().split('\r\n');
    expect(lines[0]).toMatch(/^incident,time,action,/);
    expect(lines).toHaveLength(1 + reader.rows.filter((r) => r.host === 'paste.example').length);
    const json = JSON.parse((await client.get('/incidents/export.json?user=alice')).body) as unknown[];
    expect(json).toHaveLength(reader.rows.filter((r) => r.user === 'alice').length);
    const head = await client.request('HEAD', '/incidents/export.csv');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });

  it('logout needs the session token, then the session is gone', async () => {
    const { client } = await start();
    await client.signIn('soc', 's3cret pass');
    const page = await client.get('/incidents', html);
    const token = AdminClient.csrf(page.body);
    const session = client.cookieHeader;
    expect((await client.request('POST', '/logout', { headers: { origin: client.base }, form: { csrf: 'guess' } })).status).toBe(403);
    expect((await client.request('POST', '/logout', { headers: { origin: 'http://evil.example' }, form: { csrf: token } })).status).toBe(403);
    expect((await client.get('/incidents', html)).status).toBe(200);
    const out = await client.request('POST', '/logout', { headers: { origin: client.base }, form: { csrf: token } });
    expect(out.status).toBe(303);
    expect(out.headers.location).toBe('/login');
    expect(client.jar.size).toBe(0);
    expect((await client.get('/incidents', { ...html, cookie: session })).status).toBe(303);
  });
});

describe('a hostile client', () => {
  it('cannot post the login form from another origin, without the token, or with a forged one', async () => {
    const { client } = await start();
    const form = await client.get('/login', html);
    const csrf = AdminClient.csrf(form.body);
    const attempt = (headers: Record<string, string>, fields: Record<string, string> = {}, cookies = true) =>
      client.request('POST', '/login', { headers, form: { csrf, user: 'soc', password: 's3cret pass', ...fields }, cookies });
    const refused = [
      await attempt({}),
      await attempt({ origin: 'http://evil.example' }),
      await attempt({ origin: 'null' }),
      await attempt({ origin: client.base, 'sec-fetch-site': 'cross-site' }),
      await attempt({ referer: 'http://evil.example/' }),
      await attempt({ origin: client.base }, { csrf: 'forged' }),
      await attempt({ origin: client.base }, {}, false),
      await attempt({ origin: client.base, 'content-type': 'text/plain' }),
    ];
    expect(refused.map((r) => r.status)).toEqual([403, 403, 403, 403, 403, 403, 403, 415]);
    for (const r of refused) expect(r.setCookies.join()).not.toContain('dlp-admin-session=');
    expect(refused[0]!.body).toContain('id="csrf-refused"');
    // the Referer of our own page is enough when a client sends no Origin (a fresh form: the
    // attempt without cookies was given a new login token)
    const fresh = AdminClient.csrf((await client.get('/login', html)).body);
    expect((await attempt({ referer: `${client.base}/login` }, { csrf: fresh })).status).toBe(303);
  });

  it('refuses an oversized form before buffering it', async () => {
    const { client } = await start();
    const r = await client.request('POST', '/login', { headers: { origin: client.base }, form: { csrf: 'x', user: 'soc', password: 'p'.repeat(20_000) } });
    expect(r.status).toBe(413);
  });

  it('is slowed down at the fifth failure: 429 with Retry-After, then even for the right password', async () => {
    const { client } = await start();
    for (let i = 0; i < 4; i++) expect((await client.get('/api/incidents', { authorization: basicAuth('soc', `guess${i}`) })).status).toBe(401);
    expect((await client.get('/api/incidents', { authorization: basicAuth('soc', 'guess4') })).status).toBe(429);
    const limited = await client.get('/api/incidents', { authorization: basicAuth('soc', 's3cret pass') });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(800);
    const form = await client.signIn('soc', 's3cret pass');
    expect(form.status).toBe(429);
    expect(form.body).toContain('Too many failed sign-ins');
  });

  it('cannot be redirected elsewhere after sign-in', async () => {
    const { client } = await start();
    const done = await client.signIn('soc', 's3cret pass', '//evil.example/incidents');
    expect(done.status).toBe(303);
    expect(done.headers.location).toBe('/incidents');
  });

  it('values from traffic are rendered inert in the pages and neutralised in CSV', async () => {
    const reader = await openTestStore([
      incident({ incident: 'hostile0000000001', host: '"><script>alert(1)</script>', path: '/\u202egnp.exe', user: '<img src=x onerror=alert(2)>', rule: '=HYPERLINK("http://evil")' }),
    ]);
    const { client } = await start({ reader });
    await client.signIn('soc', 's3cret pass');
    for (const page of [await client.get('/incidents', html), await client.get('/incidents/hostile0000000001', html), await client.get('/incidents/summary?from=2000-01-01&to=2000-12-31', html)]) {
      expect(page.status).toBe(200);
      expect(page.body).not.toMatch(/<script>alert|<img src=x/);
      expect(page.body).not.toContain('\u202e');
      expect(page.headers['content-security-policy']).toBe("default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
      expect(page.headers['x-content-type-options']).toBe('nosniff');
      expect(page.headers['cache-control']).toBe('no-store');
    }
    const csv = await client.get('/incidents/export.csv');
    expect(csv.body).toContain(`"'=HYPERLINK(""http://evil"")"`);
  });
});

describe('API clients with HTTP Basic', () => {
  it('pages through every match with the next cursor, reads one incident and the summary', async () => {
    const reader = sample;
    const { client } = await start({ reader });
    const auth = { authorization: basicAuth('soc', 's3cret pass') };
    const seen: string[] = [];
    let url: string | null = '/api/incidents?user=alice&limit=4';
    while (url) {
      const r = await client.get(url, auth);
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
      const page = JSON.parse(r.body) as { total: number; items: Array<{ incident: string; user: string }>; nextUrl: string | null };
      expect(page.total).toBe(20);
      expect(page.items.every((i) => i.user === 'alice')).toBe(true);
      seen.push(...page.items.map((i) => i.incident));
      url = page.nextUrl;
    }
    expect(seen).toEqual(reader.rows.filter((r) => r.user === 'alice').map((r) => r.incident));
    const id = seen[0]!;
    const one = JSON.parse((await client.get(`/api/incidents/${id}`, auth)).body) as { record: { incident: string }; records: unknown[] };
    expect(one.record.incident).toBe(id);
    expect(one.records).toHaveLength(1);
    expect((await client.get('/api/incidents/nope0000', auth)).status).toBe(404);
    const summary = JSON.parse((await client.get('/api/incidents/summary?from=2024-05-05&to=2024-05-06&top=1', auth)).body) as { total: number; topUsers: unknown[] };
    expect(summary.total).toBe(30);
    expect(summary.topUsers).toEqual([{ key: 'alice', count: 20 }]);
    // a raw "?" inside the query is part of a value, not a second query
    expect((await client.get('/api/incidents?user=who?x&limit=1', auth)).status).toBe(200);
    expect(reader.queries.at(-1)).toEqual({ user: 'who?x', limit: 1 });
    const bad = await client.get('/api/incidents?limit=1001', auth);
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body)).toEqual({ error: 'bad_filter', errors: ['limit: a whole number from 1 to 1000'] });
  });
});

describe('config in force', () => {
  it('a reload that drops the user or changes the hash ends sessions and Basic access at once', async () => {
    let config = configWith({ users: [soc] });
    const { client } = await start({ config: () => config });
    await client.signIn('soc', 's3cret pass');
    expect((await client.get('/incidents', html)).status).toBe(200);
    config = configWith({ users: [{ name: 'soc', passwordHash: await hashPassword('rotated', CHEAP) }] });
    expect((await client.get('/incidents', html)).status).toBe(303);
    expect((await client.get('/api/incidents', { authorization: basicAuth('soc', 's3cret pass') })).status).toBe(401);
    expect((await client.get('/api/incidents', { authorization: basicAuth('soc', 'rotated') })).status).toBe(200);
  });

  it('admin.publicUrl: a form posted from that origin is accepted (a reverse proxy in front)', async () => {
    const { client } = await start({ config: () => configWith({ users: [soc], publicUrl: 'https://dlp-admin.example.com' }) });
    const form = await client.get('/login', html);
    const post = (origin: string) => client.request('POST', '/login', { headers: { origin }, form: { csrf: AdminClient.csrf(form.body), user: 'soc', password: 's3cret pass' } });
    expect((await post('https://dlp-admin.example.net')).status).toBe(403);
    expect((await post('https://dlp-admin.example.com')).status).toBe(303);
  });

  it('admin.tls: HTTPS, and the cookies are Secure with the __Host- prefix', async () => {
    const { client } = await start({ config: () => configWith({ users: [soc], tls: { cert: pki.serverCert, key: pki.serverKey } }) });
    expect(client.base).toMatch(/^https:/);
    const done = await client.signIn('soc', 's3cret pass');
    expect(done.status).toBe(303);
    expect(done.setCookies[0]).toMatch(/^__Host-dlp-admin-session=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=28800; HttpOnly; SameSite=Strict; Secure$/);
    expect((await client.get('/incidents', html)).status).toBe(200);
    // a plain-http request to the TLS listener gets no answer
    const plain = new AdminClient(client.base.replace('https:', 'http:'));
    await expect(plain.get('/healthz')).rejects.toThrow();
  });
});
