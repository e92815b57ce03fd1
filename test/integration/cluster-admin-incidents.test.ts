// The incident reports in cluster mode's admin listener (ClusterAdmin, run by the primary over the
// store it owns): served with the primary's reader, and a SIGHUP reload of admin.users or
// admin.publicUrl applies to the next request while the listener keeps running.
import fs from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, type Config } from '../../src/config/index.js';
import { ClusterAdmin } from '../../src/cluster/cluster-admin.js';
import { hashPassword } from '../../src/proxy/index.js';
import { AdminClient, basicAuth } from '../support/admin-client.js';
import { incident } from '../support/memory-incident-reader.js';
import { makeTestPki, type TestPki } from '../support/pki.js';
import { closeTestStores, openTestStore } from '../support/test-incident-store.js';

const CHEAP = { N: 1024, r: 8, p: 1 };
let admin: ClusterAdmin | undefined;
let pki: TestPki;
let caPem: string;

beforeAll(() => {
  pki = makeTestPki();
  caPem = fs.readFileSync(pki.caCert, 'utf8');
});
afterAll(() => pki?.cleanup());

afterEach(async () => {
  await admin?.close();
  admin = undefined;
  await closeTestStores();
});

describe('ClusterAdmin incident reports', () => {
  it("serve the primary's store; a reload of admin.users and admin.publicUrl applies at once", async () => {
    const users = (name: string, hash: string) => [{ name, passwordHash: hash }];
    const first = await hashPassword('first pass', CHEAP);
    const second = await hashPassword('second pass', CHEAP);
    let config: Config = parseConfig({ admin: { port: 0, users: users('soc', first) } }, 'test');
    const record = incident();
    const reader = await openTestStore([record]);
    admin = new ClusterAdmin({ ca: { certPem: caPem, certDer: Buffer.alloc(0) }, config: () => config, serving: () => [], proxyPort: () => 8080, incidents: reader });
    const port = await admin.listen();
    const client = new AdminClient(`http://127.0.0.1:${port}`);

    const one = await client.get(`/api/incidents/${record.incident}`, { authorization: basicAuth('soc', 'first pass') });
    expect(one.status).toBe(200);
    expect(JSON.parse(one.body)).toMatchObject({ record: { incident: record.incident, host: record.host } });
    expect((await client.signIn('soc', 'first pass')).status).toBe(303);
    expect((await client.get('/incidents', { accept: 'text/html' })).status).toBe(200);

    // SIGHUP: the primary swaps the config; the same listener follows it
    config = parseConfig({ admin: { port: 0, users: users('lead', second), publicUrl: 'https://dlp-admin.example.com' } }, 'test');
    expect((await client.get('/incidents', { accept: 'text/html' })).status).toBe(303);
    expect((await client.get('/api/incidents', { authorization: basicAuth('soc', 'first pass') })).status).toBe(401);
    expect((await client.get('/api/incidents', { authorization: basicAuth('lead', 'second pass') })).status).toBe(200);
    const form = await client.get('/login', { accept: 'text/html' });
    const posted = await client.request('POST', '/login', { headers: { origin: 'https://dlp-admin.example.com' }, form: { csrf: AdminClient.csrf(form.body), user: 'lead', password: 'second pass' } });
    expect(posted.status).toBe(303);
  });

  it('without the store the reports say so (404), and /healthz is unchanged', async () => {
    const config = parseConfig({ admin: { port: 0, users: [{ name: 'soc', passwordHash: await hashPassword('x', CHEAP) }] } }, 'test');
    admin = new ClusterAdmin({ ca: { certPem: caPem, certDer: Buffer.alloc(0) }, config: () => config, serving: () => [], proxyPort: () => 8080 });
    const client = new AdminClient(`http://127.0.0.1:${await admin.listen()}`);
    const r = await client.get('/api/incidents', { authorization: basicAuth('soc', 'x') });
    expect(r.status).toBe(404);
    expect(r.body).toContain('incidents.enabled');
    expect((await client.get('/healthz')).status).toBe(200);
  });
});
