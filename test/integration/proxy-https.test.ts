// HTTPS through the proxy: CONNECT intercepted with our CA (names and IP literals), tunnelled
// hosts that show the origin's own certificate, the Host/CONNECT agreement, hostile CONNECT
// targets, upstream TLS failures, WebSocket over intercepted TLS, and the http-mitm-proxy
// regressions (no per-host listener, no file per host, no console output).
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { CertificateAuthority } from '../../src/ca/index.js';
import { deterministicBytes, startOrigin, type Origin } from '../support/origin.js';
import { connect, httpsViaProxy } from '../support/proxy-client.js';
import { startTestProxy, tempCaDir, type TestProxy } from '../support/proxy-harness.js';
import { tempDir } from '../support/temp-dir.js';

// no incident store (its thread costs each start a second on a loaded machine): nothing here reads it
const NO_STORE = { incidents: { enabled: false } };

const sha256 = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');

function listeningServers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap').length;
}

describe('HTTPS through the proxy', () => {
  let origin: Origin;
  let originCaFile: string;
  let originCaPem: string;
  let proxy: TestProxy;
  let untrusting: TestProxy;
  const caDir = tempCaDir();

  beforeAll(async () => {
    // The origin's own CA (not ours): what a real site's certificate chain stands for.
    const originCaDir = tempDir('dlp-proxy-origin-ca-');
    const { ca: originCa } = await CertificateAuthority.loadOrCreate({ dir: originCaDir, leafValidityDays: 30, certCacheSize: 10 });
    const leaf = originCa.issueLeaf({ host: '127.0.0.1', kind: 'ipv4' });
    originCaPem = originCa.certPem;
    originCaFile = path.join(originCaDir, 'ca.pem');
    origin = await startOrigin({ tls: { cert: leaf.certPem, key: leaf.keyPem } });
    proxy = await startTestProxy({ upstream: { extraCaFiles: [originCaFile] }, proxy: { tunnel: ['tunnelled.test', '127.0.0.2'] }, ...NO_STORE }, { caDir });
    untrusting = await startTestProxy(NO_STORE, { caDir });
  });
  afterAll(async () => {
    await proxy.close();
    await untrusting.close();
    await origin.close();
  });

  it('intercepts with a leaf from our CA for an IP literal and relays bodies byte for byte', async () => {
    const down = await httpsViaProxy(proxy.port, '127.0.0.1', origin.port, '/bytes/200000', { ca: proxy.caPem });
    expect(down.status).toBe(200);
    expect(down.body.equals(deterministicBytes(200000))).toBe(true);
    expect(down.peerCertificate.issuer.O).toBe(new crypto.X509Certificate(proxy.caPem).issuer.match(/O=([^\n]+)/)?.[1]);
    expect(down.peerCertificate.subjectaltname).toContain('IP Address:127.0.0.1');

    const body = deterministicBytes(400000, 3);
    const up = await httpsViaProxy(proxy.port, '127.0.0.1', origin.port, '/echo', { ca: proxy.caPem, method: 'POST', body });
    expect(sha256(up.body)).toBe(sha256(body));
    expect(origin.seen.at(-1)!.sha256).toBe(sha256(body));
  });

  it('issues a leaf for a DNS name that verifies by name', async () => {
    // The CONNECT names localhost; the leaf must carry DNS:localhost and verify with our CA.
    const reply = await httpsViaProxy(proxy.port, 'localhost', origin.port, '/bytes/10', { ca: proxy.caPem, servername: 'localhost' }).catch((e: Error) => e);
    // The origin's certificate is for 127.0.0.1 only, so the upstream hop fails verification (502):
    // what matters here is that OUR leaf for "localhost" verified on the client side.
    expect(reply).not.toBeInstanceOf(Error);
    const r = reply as Awaited<ReturnType<typeof httpsViaProxy>>;
    expect(r.peerCertificate.subjectaltname).toBe('DNS:localhost');
    expect(r.status).toBe(502);
  });

  it('refuses a request whose Host differs from the CONNECT target', async () => {
    const reply = await httpsViaProxy(proxy.port, '127.0.0.1', origin.port, '/bytes/10', { ca: proxy.caPem, host: 'evil.example' });
    expect(reply.status).toBe(400);
    expect(reply.body.toString()).not.toContain('undefined');
  });

  it('tunnels listed hosts untouched: the client sees the origin certificate', async () => {
    const tunnelProxy = await startTestProxy({ proxy: { tunnel: ['127.0.0.1'] }, ...NO_STORE }, { caDir });
    try {
      const reply = await httpsViaProxy(tunnelProxy.port, '127.0.0.1', origin.port, '/bytes/1000', { ca: originCaPem });
      expect(reply.status).toBe(200);
      expect(reply.peerCertificate.issuer.CN).toBe(new crypto.X509Certificate(originCaPem).subject.match(/CN=([^\n]+)/)?.[1]);
      expect(reply.body.equals(deterministicBytes(1000))).toBe(true);
    } finally {
      await tunnelProxy.close();
    }
  });

  it('refuses hostile CONNECT targets with 400 and writes no file', async () => {
    const before = fs.readdirSync(caDir).sort();
    for (const target of ['../../../../tmp/evil:443', 'a/b:443', '..:443', `${'x'.repeat(300)}:443`, 'host:99999', 'host', 'evil\u0000.com:443']) {
      const answer = await connect(proxy.port, target);
      expect(answer.status, target).toBe(400);
      answer.socket.destroy();
    }
    expect(fs.readdirSync(caDir).sort()).toEqual(before);
  });

  it('answers 502 when the origin certificate does not verify', async () => {
    const reply = await httpsViaProxy(untrusting.port, '127.0.0.1', origin.port, '/bytes/10', { ca: untrusting.caPem });
    expect(reply.status).toBe(502);
    expect(reply.body.toString()).not.toMatch(/self.signed|UNABLE_TO|certificate/i);
    await expect.poll(() => untrusting.logs.find((l) => l.code === 'UPSTREAM_TLS_FAILED')).toBeDefined();
  });

  it('serves many new hosts from one TLS path without opening listeners', async () => {
    const before = listeningServers();
    const hosts = Array.from({ length: 20 }, (_, i) => `127.0.1.${i + 1}`);
    await Promise.all(
      hosts.map(async (host) => {
        const tunnel = await connect(proxy.port, `${host}:443`);
        const secure = tls.connect({ socket: tunnel.socket, ca: proxy.caPem, host });
        await new Promise<void>((resolve, reject) => {
          secure.once('secureConnect', resolve);
          secure.once('error', reject);
        });
        expect(secure.getPeerCertificate().subjectaltname).toBe(`IP Address:${host}`);
        secure.destroy();
      }),
    );
    expect(listeningServers()).toBe(before);
  });

  it('relays WebSocket over intercepted TLS', async () => {
    const tunnel = await connect(proxy.port, `127.0.0.1:${origin.port}`);
    const echoed = await new Promise<string>((resolve, reject) => {
      const client = new WebSocket(`wss://127.0.0.1:${origin.port}/socket`, {
        createConnection: () => tls.connect({ socket: tunnel.socket, ca: proxy.caPem, host: '127.0.0.1' }),
      } as WebSocket.ClientOptions);
      client.on('open', () => client.send('over tls'));
      client.on('message', (data) => {
        resolve(data.toString());
        client.close();
      });
      client.on('error', reject);
    });
    expect(echoed).toBe('over tls');
  });

  it('prints nothing on the console, whatever happens', async () => {
    const spies = (['log', 'info', 'debug', 'warn', 'error'] as const).map((m) => vi.spyOn(console, m));
    const stdout = vi.spyOn(process.stdout, 'write');
    try {
      await httpsViaProxy(proxy.port, '127.0.0.1', origin.port, '/bytes/10', { ca: proxy.caPem });
      await httpsViaProxy(untrusting.port, '127.0.0.1', origin.port, '/bytes/10', { ca: untrusting.caPem });
      const bad = await connect(proxy.port, `127.0.0.1:${origin.port}`);
      bad.socket.write('\x16\x03\x01 garbage that is not a client hello');
      await new Promise((r) => setTimeout(r, 100));
      bad.socket.destroy();
      const reset = await connect(proxy.port, `127.0.0.1:${origin.port}`);
      reset.socket.resetAndDestroy();
      await new Promise((r) => setTimeout(r, 100));
      for (const spy of spies) expect(spy).not.toHaveBeenCalled();
      expect(stdout).not.toHaveBeenCalled();
    } finally {
      spies.forEach((s) => s.mockRestore());
      stdout.mockRestore();
    }
  });

  it('issues leaves that pass openssl verify -x509_strict', async () => {
    const tunnel = await connect(proxy.port, 'strict.example.test:443');
    const secure = tls.connect({ socket: tunnel.socket, ca: proxy.caPem, servername: 'strict.example.test' });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', resolve);
      secure.once('error', reject);
    });
    const der = secure.getPeerCertificate().raw;
    secure.destroy();
    const dir = tempDir('dlp-proxy-leaf-');
    fs.writeFileSync(path.join(dir, 'leaf.pem'), new crypto.X509Certificate(der).toString());
    const out = execFileSync('openssl', ['verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', path.join(caDir, 'ca.pem'), path.join(dir, 'leaf.pem')]).toString();
    expect(out).toContain('OK');
  });
});

describe('proxy access control', () => {
  let origin: Origin;
  const caDir = tempCaDir();
  beforeAll(async () => {
    origin = await startOrigin();
  });
  afterAll(async () => origin.close());

  it('refuses clients outside allowedClients with 403, for requests and CONNECT', async () => {
    const proxy = await startTestProxy({ proxy: { allowedClients: ['10.0.0.0/8'] }, ...NO_STORE }, { caDir });
    try {
      const { proxyRequest } = await import('../support/proxy-client.js');
      const reply = await proxyRequest(proxy.port, `${origin.url}/`);
      expect(reply.status).toBe(403);
      const tunnel = await connect(proxy.port, `127.0.0.1:${origin.port}`);
      expect(tunnel.status).toBe(403);
      tunnel.socket.destroy();
      expect(origin.seen.length).toBe(0);
    } finally {
      await proxy.close();
    }
  });

  it('asks for proxy credentials (407), accepts the right ones and never forwards them', async () => {
    const { hashPassword } = await import('../../src/proxy/index.js');
    const passwordHash = await hashPassword('correct horse', { N: 1024, r: 8, p: 1 });
    const proxy = await startTestProxy({ proxy: { auth: { realm: 'corp', users: [{ name: 'alice', passwordHash }] } }, ...NO_STORE }, { caDir });
    const { proxyRequest } = await import('../support/proxy-client.js');
    try {
      const none = await proxyRequest(proxy.port, `${origin.url}/headers`);
      expect(none.status).toBe(407);
      expect(none.headers['proxy-authenticate']).toMatch(/^Basic realm="corp"/);
      const wrong = await proxyRequest(proxy.port, `${origin.url}/headers`, { headers: { 'proxy-authorization': `Basic ${Buffer.from('alice:wrong').toString('base64')}` } });
      expect(wrong.status).toBe(407);
      const good = await proxyRequest(proxy.port, `${origin.url}/headers`, { headers: { 'proxy-authorization': `Basic ${Buffer.from('alice:correct horse').toString('base64')}` } });
      expect(good.status).toBe(200);
      expect(good.body.toString().toLowerCase()).not.toContain('proxy-authorization');
      const tunnelDenied = await connect(proxy.port, `127.0.0.1:${origin.port}`);
      expect(tunnelDenied.status).toBe(407);
      expect(tunnelDenied.head.toLowerCase()).toContain('proxy-authenticate: basic');
      tunnelDenied.socket.destroy();
      const tunnel = await connect(proxy.port, `127.0.0.1:${origin.port}`, { 'Proxy-Authorization': `Basic ${Buffer.from('alice:correct horse').toString('base64')}` });
      expect(tunnel.status).toBe(200);
      tunnel.socket.destroy();
      const line = await vi.waitFor(() => {
        const found = proxy.logs.find((l) => l.msg === 'exchange' && l.status === 200);
        if (!found) throw new Error('no access line yet');
        return found;
      }, { timeout: 10_000 });
      expect(line.user).toBe('alice');
    } finally {
      await proxy.close();
    }
  });
});

