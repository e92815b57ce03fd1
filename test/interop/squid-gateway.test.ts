// dlp-proxy as the parent of an existing gateway: squid-openssl 5.7 forwards everything to it
// (cache_peer … parent, never_direct), as operators chain a DLP proxy behind Squid. Uploads and
// downloads are enforced through the chain, plain HTTP and CONNECT alike.
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IcapServerHandle } from '../../src/icap-server/index.js';
import { CARD } from '../support/enforcement-suite.js';
import { deterministicBytes, startOrigin, type Origin } from '../support/origin.js';
import { httpsViaProxy, proxyRequest } from '../support/proxy-client.js';
import { startBuiltinIcap, startTestProxy, type TestProxy } from '../support/proxy-harness.js';
import { startSquid, type Squid } from '../support/peers/squid.js';

const sha256 = (b: Buffer | string) => crypto.createHash('sha256').update(b).digest('hex');

describe('squid as the gateway in front of dlp-proxy', () => {
  let icap: IcapServerHandle;
  let origin: Origin;
  let proxy: TestProxy;
  let squid: Squid;

  beforeAll(async () => {
    icap = await startBuiltinIcap();
    origin = await startOrigin();
    proxy = await startTestProxy({
      services: { dlp: { urls: [`icap://127.0.0.1:${icap.port}/dlp`] }, av: { urls: [`icap://127.0.0.1:${icap.port}/av`] } },
      policy: [
        { name: 'uploads', match: { direction: 'upload' }, scan: 'dlp' },
        { name: 'downloads', match: { direction: 'download' }, scan: 'av' },
      ],
    });
    squid = await startSquid({
      extraConfig: [`cache_peer 127.0.0.1 parent ${proxy.port} 0 no-query no-digest default name=dlp`, 'never_direct allow all', 'http_access allow CONNECT localhost'],
    });
  });
  afterAll(async () => {
    await squid?.stop();
    await proxy?.close();
    await origin?.close();
    await icap?.close();
  });

  it('passes clean uploads and downloads byte for byte through both proxies', async () => {
    const body = Buffer.from(deterministicBytes(300_000, 5).map((b) => 0x61 + (b % 26)));
    const up = await proxyRequest(squid.port, `${origin.url}/upload`, { method: 'POST', body, headers: { 'content-type': 'text/plain' } });
    expect(up.status).toBe(200);
    expect(origin.seen.at(-1)!.sha256).toBe(sha256(body));
    const down = await proxyRequest(squid.port, `${origin.url}/bytes/1000000`);
    expect(down.status).toBe(200);
    expect(down.body.equals(deterministicBytes(1_000_000))).toBe(true);
    expect(String(down.headers.via)).toContain('dlp-proxy');
  });

  it('blocks a card-number upload and an EICAR download; the client gets our page through squid', async () => {
    const before = origin.seen.length;
    const up = await proxyRequest(squid.port, `${origin.url}/upload`, { method: 'POST', body: `pay with ${CARD}`, headers: { 'content-type': 'text/plain' } });
    expect(up.status).toBe(403);
    expect(up.headers['x-dlp-incident']).toMatch(/^[0-9a-z]{16}$/);
    expect(origin.seen.length).toBe(before);
    const down = await proxyRequest(squid.port, `${origin.url}/eicar.com`);
    expect(down.status).toBe(403);
    expect(down.body.toString()).not.toContain('EICAR-STANDARD');
  });

  it('carries CONNECT through squid to dlp-proxy, which intercepts with its CA', async () => {
    const reply = await httpsViaProxy(squid.port, '127.0.0.1', origin.port, '/upload', { ca: proxy.caPem, method: 'POST', body: `secret ${CARD}` }).catch((e: Error) => e);
    // The origin speaks plain HTTP, so the upstream TLS hop fails after the block decision would
    // have been made: what matters is that TLS to the client was ours and the upload was scanned.
    expect(reply).not.toBeInstanceOf(Error);
    const r = reply as Awaited<ReturnType<typeof httpsViaProxy>>;
    expect(r.peerCertificate.issuer.O).toBe('dlp-proxy');
    expect(r.status).toBe(403);
  });
});
