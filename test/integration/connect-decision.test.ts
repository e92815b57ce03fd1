// A CONNECT is decided by the same policy call as every request (issue 11, item 1 and 8): a block
// rule that refuses every request of the tunnel refuses the CONNECT with our block page and an
// incident; tunnel rules match by client address and by proxy user, not only by host; and every
// CONNECT's decision is in the access log.
import crypto from 'node:crypto';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateAuthority } from '../../src/ca/index.js';
import { hashPassword } from '../../src/proxy/access.js';
import { startOrigin, type Origin } from '../support/origin.js';
import { connect } from '../support/proxy-client.js';
import { startTestProxy, type TestProxy } from '../support/proxy-harness.js';
import { tempDir } from '../support/temp-dir.js';

let origin: Origin;
let originCaPem: string;
let proxy: TestProxy;
const auth = (user: string) => ({ 'proxy-authorization': `Basic ${Buffer.from(`${user}:pw`).toString('base64')}` });

beforeAll(async () => {
  const dir = tempDir('dlp-proxy-connect-origin-');
  const { ca } = await CertificateAuthority.loadOrCreate({ dir, leafValidityDays: 30, certCacheSize: 4 });
  const leaf = ca.issueLeaf({ host: 'localhost', kind: 'dns' });
  originCaPem = ca.certPem;
  origin = await startOrigin({ tls: { cert: leaf.certPem, key: leaf.keyPem } });
  const passwordHash = await hashPassword('pw', { N: 1024, r: 8, p: 1 });
  proxy = await startTestProxy({
    admin: { enabled: true, port: 0 },
    proxy: { auth: { users: [{ name: 'alice', passwordHash }, { name: 'bob', passwordHash }] } },
    policy: [
      { name: 'banned', match: { hosts: ['banned.example'] }, action: 'block' },
      { name: 'pinned-for-alice', match: { hosts: ['localhost'], users: ['alice'] }, action: 'tunnel' },
      { name: 'pinned-for-loopback-clients', match: { hosts: ['127.0.0.1'], clients: ['127.0.0.0/8'] }, action: 'tunnel' },
    ],
  });
});

afterAll(async () => {
  await proxy?.close();
  await origin?.close();
});

/** Our CA's common name: an intercepted tunnel shows a leaf it issued. */
const ours = () => /CN=([^\n]+)/.exec(new crypto.X509Certificate(proxy.caPem).subject)![1]!;

/** The issuer of the certificate seen through the tunnel: the origin's own, or our CA's. */
async function issuerThrough(socket: import('node:net').Socket, servername: string): Promise<string> {
  const secure = tls.connect({ socket, servername, ca: [originCaPem, proxy.caPem] });
  await new Promise<void>((resolve, reject) => {
    secure.once('secureConnect', resolve);
    secure.once('error', reject);
  });
  const cn = secure.getPeerCertificate().issuer.CN;
  const issuer = (Array.isArray(cn) ? cn[0] : cn) ?? '';
  secure.destroy();
  return issuer;
}

describe('CONNECT decided by the policy', () => {
  it('a host every request of which is blocked: the CONNECT itself gets our block page and an incident', async () => {
    const result = await connect(proxy.port, 'banned.example:443', auth('bob'));
    expect(result.status).toBe(403);
    expect(result.head).toMatch(/x-dlp-incident: [0-9a-z]{16}/i);
    result.socket.destroy();
    await expect.poll(() => proxy.logs.find((l) => l.log === 'violation' && l.rule === 'banned')).toBeDefined();
    await expect.poll(() => proxy.logs.find((l) => l.msg === 'exchange' && l.method === 'CONNECT' && l.host === 'banned.example')).toMatchObject({ decision: 'connect=block', status: 403 });
  });

  it('a tunnel rule by user: alice is tunnelled to the origin untouched, bob is intercepted', async () => {
    const alice = await connect(proxy.port, `localhost:${origin.port}`, auth('alice'));
    expect(alice.status).toBe(200);
    expect(await issuerThrough(alice.socket, 'localhost')).not.toBe(ours());
    const bob = await connect(proxy.port, `localhost:${origin.port}`, auth('bob'));
    expect(bob.status).toBe(200);
    expect(await issuerThrough(bob.socket, 'localhost')).toBe(ours());
    await expect.poll(() => proxy.logs.filter((l) => l.msg === 'exchange' && l.method === 'CONNECT' && l.host === 'localhost').map((l) => [l.user, l.decision])).toEqual([
      ['alice', 'connect=tunnel'],
      ['bob', 'connect=intercept'],
    ]);
    const metrics = await proxy.app.metrics!.text();
    for (const outcome of ['tunnel', 'intercept', 'refused']) expect(metrics).toMatch(new RegExp(`dlp_proxy_connects_total\\{outcome="${outcome}"\\} [1-9]`));
  });

  it('a tunnel rule by client address', async () => {
    const result = await connect(proxy.port, `127.0.0.1:${origin.port}`, auth('bob'));
    expect(result.status).toBe(200);
    expect(await issuerThrough(result.socket, 'localhost')).not.toBe(ours());
  });
});
