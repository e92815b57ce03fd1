// The block page's incident number leads to the incident (issue 15): through the app as `npm start`
// composes it, a blocked upload's page links to the admin listener's /incidents/<id>, and that
// page (behind sign-in; here HTTP Basic, as an API client) shows the same incident, recorded in
// the store with the fields of the violation log line and nothing of the body.
import http from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { hashPassword } from '../../src/proxy/access.js';
import { CARD } from '../support/enforcement-suite.js';
import { startOrigin, type Origin } from '../support/origin.js';
import { proxyRequest } from '../support/proxy-client.js';
import { startBuiltinIcap, startTestProxy, type TestProxy } from '../support/proxy-harness.js';

let icap: { port: number; close(): Promise<void> };
let origin: Origin;
let proxy: TestProxy;

beforeAll(async () => {
  icap = await startBuiltinIcap();
  origin = await startOrigin();
  const passwordHash = await hashPassword('s3cret', { N: 1024, r: 8, p: 1 });
  proxy = await startTestProxy({
    admin: { enabled: true, port: 0, users: [{ name: 'analyst', passwordHash }] },
    services: { dlp: { urls: [`icap://127.0.0.1:${icap.port}/dlp`] } },
    policy: [{ name: 'uploads', match: { direction: 'upload' }, scan: 'dlp' }],
  });
});

afterAll(async () => {
  await proxy?.close();
  await origin?.close();
  await icap?.close();
});

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, headers: { authorization: `Basic ${Buffer.from('analyst:s3cret').toString('base64')}`, accept: 'application/json' } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

it('a blocked upload links to its incident, which the admin listener shows from the store', async () => {
  const reply = await proxyRequest(proxy.port, `${origin.url}/upload?token=SECRET`, { method: 'POST', body: `card=${CARD}` });
  expect(reply.status).toBe(403);
  const incident = reply.headers['x-dlp-incident'] as string;
  expect(reply.body.toString()).toContain(`http://127.0.0.1:${proxy.app.adminPort}/incidents/${incident}`);
  await proxy.app.incidentRecorder!.flush();
  const page = await get(proxy.app.adminPort!, `/api/incidents/${incident}`);
  expect(page.status).toBe(200);
  const { record } = JSON.parse(page.body) as { record: Record<string, unknown> };
  expect(record).toMatchObject({ incident, host: '127.0.0.1', path: '/upload', rule: 'uploads', direction: 'upload' });
  // the card's digits in any spacing (a hash, a time or an id holds some four digits now and then)
  expect(page.body).not.toMatch(/4111[ -]?1111|SECRET/);
});
