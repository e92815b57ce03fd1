// The admin listener of a running app: health and readiness (with a live, a dead fail-closed and
// a dead fail-open ICAP service), the CA downloads, the onboarding page, /proxy.pac evaluated as a
// browser would, and the client ACL when bound off loopback.
import crypto from 'node:crypto';
import http from 'node:http';
import vm from 'node:vm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import type { IcapServerHandle } from '../../src/icap-server/index.js';
import { freePort } from '../support/peers/common.js';
import { startBuiltinIcap, startTestProxy, tempCaDir, type TestProxy } from '../support/proxy-harness.js';

const caDir = tempCaDir();
let icap: IcapServerHandle;
const started: TestProxy[] = [];

async function start(overrides: Record<string, unknown> = {}): Promise<TestProxy & { admin: string }> {
  const proxy = await startTestProxy(
    {
      admin: { enabled: true, port: 0 },
      services: { dlp: { urls: [`icap://127.0.0.1:${icap.port}/dlp`] }, av: { urls: [`icap://127.0.0.1:${icap.port}/av`] } },
      // no incident store (its thread costs each start a second on a loaded machine): no endpoint here reads it
      incidents: { enabled: false },
      ...overrides,
    },
    { caDir },
  );
  started.push(proxy);
  return { ...proxy, admin: `http://127.0.0.1:${proxy.app.adminPort}` };
}

/** A GET with a Host header of our choosing (fetch does not let one set it). */
function get(port: number, path: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, headers: { host }, setHost: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

function findProxy(pac: string, url: string): string {
  const host = new URL(url).hostname;
  return vm.runInNewContext(`${pac}\nFindProxyForURL(${JSON.stringify(url)}, ${JSON.stringify(host)})`, {}, { timeout: 1000 }) as string;
}

beforeAll(async () => {
  icap = await startBuiltinIcap();
});
afterEach(async () => {
  for (const p of started.splice(0)) await p.close();
});
afterAll(async () => {
  await icap?.close();
});

describe('admin listener', () => {
  it('answers /healthz, refuses other methods and unknown paths', async () => {
    const { admin } = await start();
    const health = await fetch(`${admin}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok' });
    const post = await fetch(`${admin}/metrics`, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    expect((await fetch(`${admin}/etc/passwd`)).status).toBe(404);
  });

  it('serves the CA as PEM and DER with download names, and an onboarding page with its fingerprint', async () => {
    const proxy = await start({ blockPage: { contact: 'the service desk (ext. 4357)' } });
    const pem = await fetch(`${proxy.admin}/ca.pem`);
    expect(pem.headers.get('content-type')).toBe('application/x-pem-file');
    expect(pem.headers.get('content-disposition')).toBe('attachment; filename="dlp-proxy-ca.pem"');
    expect(await pem.text()).toBe(proxy.caPem);
    const der = await fetch(`${proxy.admin}/ca.der`);
    expect(der.headers.get('content-type')).toBe('application/pkix-cert');
    expect(der.headers.get('content-disposition')).toBe('attachment; filename="dlp-proxy-ca.crt"');
    const cert = new crypto.X509Certificate(proxy.caPem);
    expect(Buffer.from(await der.arrayBuffer()).equals(cert.raw)).toBe(true);

    const page = await fetch(`${proxy.admin}/`);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await page.text();
    expect(html).toContain(cert.fingerprint256);
    expect(html).toContain(`127.0.0.1:${proxy.port}`);
    expect(html).toContain(`${proxy.admin}/proxy.pac`);
    expect(html).toContain('the service desk (ext. 4357)');
    for (const step of ['certutil -addstore -f Root', 'security add-trusted-cert', 'update-ca-certificates', 'certutil -d sql:$HOME/.pki/nssdb', 'Trust this CA to identify websites', '--cacert dlp-proxy-ca.pem']) {
      expect(html).toContain(step.replace(/"/g, '&quot;'));
    }
    // A hostile Host header is not echoed into the page
    const hostile = await get(proxy.app.adminPort!, '/', 'x"><script>alert(1)</script>');
    expect(hostile.status).toBe(200);
    expect(hostile.body).not.toContain('<script>');
  });

  it('is ready with a live ICAP service; names a dead fail-closed service with 503; a fail-open one does not hold it back', async () => {
    const live = await start();
    const ok = await fetch(`${live.admin}/readyz`);
    expect(ok.status).toBe(200);
    const body = (await ok.json()) as { ready: boolean; services: Record<string, { ready: boolean; optionsAgeSeconds: number; istag: string }> };
    expect(body.ready).toBe(true);
    expect(body.services['dlp']).toMatchObject({ ready: true, failMode: 'closed' });
    expect(body.services['dlp']!.istag).toMatch(/^"/);
    await live.close();

    const deadPort = await freePort();
    const dead = await start({
      services: {
        dlp: { urls: [`icap://127.0.0.1:${icap.port}/dlp`] },
        av: { urls: [`icap://127.0.0.1:${deadPort}/av`], failMode: 'closed' },
        extra: { urls: [`icap://127.0.0.1:${deadPort}/extra`], failMode: 'open' },
      },
    });
    const notReady = await fetch(`${dead.admin}/readyz`);
    expect(notReady.status).toBe(503);
    const why = (await notReady.json()) as { ready: boolean; proxy: { ready: boolean }; services: Record<string, { ready: boolean; reason: string }> };
    expect(why.ready).toBe(false);
    expect(why.proxy.ready).toBe(true);
    expect(why.services['dlp']!.ready).toBe(true);
    expect(why.services['av']).toMatchObject({ ready: false, failMode: 'closed' });
    expect(why.services['av']!.reason).toMatch(/ECONNREFUSED.*fails closed/);
    expect(why.services['extra']).toMatchObject({ ready: true, failMode: 'open' });
    expect(why.services['extra']!.reason).toMatch(/fails open/);
  });

  it('generates /proxy.pac from config: loopback and bypass hosts DIRECT, tunnelled and other hosts through the proxy', async () => {
    const proxy = await start({ proxy: { bypass: ['*.corp.example', 'intranet', 'files-*.example.org'], tunnel: ['*.bank.example'] } });
    const res = await fetch(`${proxy.admin}/proxy.pac`);
    expect(res.headers.get('content-type')).toBe('application/x-ns-proxy-autoconfig');
    const pac = await res.text();
    const via = `PROXY 127.0.0.1:${proxy.port}`;
    expect(findProxy(pac, 'https://wiki.corp.example/')).toBe('DIRECT');
    expect(findProxy(pac, 'https://a.b.corp.example/')).toBe('DIRECT');
    expect(findProxy(pac, 'https://corp.example/')).toBe(via); // `*.` is not the apex, as in policy globs
    expect(findProxy(pac, 'http://intranet/')).toBe('DIRECT');
    expect(findProxy(pac, 'https://files-eu.example.org/')).toBe('DIRECT');
    expect(findProxy(pac, 'https://files.eu.example.org/')).toBe(via);
    expect(findProxy(pac, 'http://127.0.0.1:3000/')).toBe('DIRECT');
    expect(findProxy(pac, 'http://localhost/')).toBe('DIRECT');
    expect(findProxy(pac, 'https://www.bank.example/')).toBe(via);
    expect(findProxy(pac, 'https://upload.example.net/')).toBe(via);
    expect(pac).toContain('"*.bank.example"');
  });

  it('names the host the client asked by when the proxy listens on a wildcard address, and admin.pacProxy when set', async () => {
    const wildcard = await start({ proxy: { host: '0.0.0.0', allowedClients: ['127.0.0.0/8'] } });
    const adminPort = wildcard.app.adminPort!;
    const asked = await get(adminPort, '/proxy.pac', `proxy.corp.example:${adminPort}`);
    expect(findProxy(asked.body, 'https://example.net/')).toBe(`PROXY proxy.corp.example:${wildcard.port}`);
    const hostile = await get(adminPort, '/proxy.pac', 'a";while(1);"');
    expect(hostile.body).not.toContain('while(1)');
    expect(findProxy(hostile.body, 'https://example.net/')).toBe(`PROXY 127.0.0.1:${wildcard.port}`);
    await wildcard.close();

    const named = await start({ admin: { enabled: true, port: 0, pacProxy: 'gw.corp.example:3128' } });
    const pac = await (await fetch(`${named.admin}/proxy.pac`)).text();
    expect(findProxy(pac, 'https://example.net/')).toBe('PROXY gw.corp.example:3128');
  });

  it('off loopback, admits only proxy.allowedClients', async () => {
    const refused = await start({ admin: { enabled: true, host: '0.0.0.0', port: 0 }, proxy: { allowedClients: ['10.0.0.0/8'] } });
    await expect(fetch(`${refused.admin}/healthz`)).rejects.toThrow();
    await refused.close();
    const admitted = await start({ admin: { enabled: true, host: '0.0.0.0', port: 0 }, proxy: { allowedClients: ['127.0.0.0/8'] } });
    expect((await fetch(`${admitted.admin}/healthz`)).status).toBe(200);
  });

  it('refuses a config that puts the admin listener on the proxy port', () => {
    expect(() => parseConfig({ proxy: { port: 8080 }, admin: { port: 8080 } }, 'test')).toThrow(/admin\.port/);
    expect(() => parseConfig({ proxy: { port: 8080 }, admin: { enabled: false, port: 8080 } }, 'test')).not.toThrow();
  });
});
