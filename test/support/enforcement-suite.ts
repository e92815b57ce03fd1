// The enforcement matrix of the inline-enforcement issue, as one shared suite (hono's
// common.case.test.ts style) run against every ICAP implementation: the built-in service and
// c-icap (srv_cfg_filter as DLP on uploads, virus_scan with ClamAV on downloads). Real clients
// through the proxy, over HTTP and over intercepted HTTPS; the origin records what reached it.
import crypto from 'node:crypto';
import dc from 'node:diagnostics_channel';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateAuthority } from '../../src/ca/index.js';
import { ICAP_TRANSACTION_CHANNEL, type IcapTransactionMessage } from '../../src/icap/index.js';
import { deterministicBytes, startOrigin, type Origin } from './origin.js';
import { httpsViaProxy, proxyRequest } from './proxy-client.js';
import { startTestProxy, tempCaDir, type TestProxy } from './proxy-harness.js';
import { tempDir } from './temp-dir.js';
import { closed, openThroughProxy } from './ws-through-proxy.js';

/** A Luhn-valid Visa test number: a card to the built-in detector and to c-icap's card rule. */
export const CARD = '4111 1111 1111 1111';

export interface IcapUnderTest {
  dlpUrl: string;
  avUrl: string;
  vendor: 'generic' | 'c-icap';
  stop(): Promise<void>;
}

const sha256 = (b: Buffer | string) => crypto.createHash('sha256').update(b).digest('hex');

/** Count ICAP transactions by method while a test runs. */
export function transactionCounter(): { count(method: 'REQMOD' | 'RESPMOD'): number; stop(): void } {
  const seen: IcapTransactionMessage[] = [];
  const channel = dc.channel(ICAP_TRANSACTION_CHANNEL);
  const handler = (m: unknown) => seen.push(m as IcapTransactionMessage);
  channel.subscribe(handler);
  return {
    count: (method) => seen.filter((m) => m.method === method && m.outcome !== 'error').length,
    stop: () => channel.unsubscribe(handler),
  };
}

/** An origin that serves EICAR at /eicar.com and a clean 300 KB file at /clean.bin, over TLS. */
async function startTlsOrigin(): Promise<{ origin: Origin; caFile: string }> {
  const dir = tempDir('dlp-proxy-origin-ca-');
  const { ca } = await CertificateAuthority.loadOrCreate({ dir, leafValidityDays: 30, certCacheSize: 4 });
  const leaf = ca.issueLeaf({ host: '127.0.0.1', kind: 'ipv4' });
  return { origin: await startOrigin({ tls: { cert: leaf.certPem, key: leaf.keyPem } }), caFile: path.join(dir, 'ca.pem') };
}

export function enforcementSuite(name: string, start: () => Promise<IcapUnderTest>): void {
  describe(`inline enforcement against ${name}`, () => {
    let icap: IcapUnderTest;
    let origin: Origin;
    let tlsOrigin: Origin;
    let proxy: TestProxy;
    const caDir = tempCaDir();

    beforeAll(async () => {
      icap = await start();
      origin = await startOrigin();
      const secure = await startTlsOrigin();
      tlsOrigin = secure.origin;
      proxy = await startTestProxy(
        {
          upstream: { extraCaFiles: [secure.caFile] },
          services: { dlp: { urls: [icap.dlpUrl], vendor: icap.vendor }, av: { urls: [icap.avUrl], vendor: icap.vendor } },
          policy: [
            { name: 'websocket-from-server', match: { protocols: ['websocket'], direction: 'download' }, action: 'pass' },
            { name: 'uploads', match: { direction: 'upload' }, scan: 'dlp' },
            { name: 'downloads', match: { direction: 'download' }, scan: 'av' },
          ],
        },
        { caDir },
      );
    });
    afterAll(async () => {
      await proxy?.close();
      await origin?.close();
      await tlsOrigin?.close();
      await icap?.stop();
    });

    it('passes a clean upload byte for byte, over HTTP and intercepted HTTPS', async () => {
      const body = Buffer.concat([Buffer.from('quarterly figures, nothing secret\n'), deterministicBytes(200_000, 11).map((b) => 0x41 + (b % 26))]);
      const plain = await proxyRequest(proxy.port, `${origin.url}/upload`, { method: 'POST', body, headers: { 'content-type': 'text/plain' } });
      expect(plain.status).toBe(200);
      expect(origin.seen.at(-1)!.sha256).toBe(sha256(body));
      const secure = await httpsViaProxy(proxy.port, '127.0.0.1', tlsOrigin.port, '/upload', { ca: proxy.caPem, method: 'POST', body, headers: { 'content-type': 'text/plain' } });
      expect(secure.status).toBe(200);
      expect(tlsOrigin.seen.at(-1)!.sha256).toBe(sha256(body));
    });

    it('blocks uploads carrying TOP-SECRET or a card number with our page; the origin sees no connection', async () => {
      const before = { seen: origin.seen.length, connections: origin.connections };
      for (const secret of ['memo: TOP-SECRET plans', `card=${CARD}`]) {
        const reply = await proxyRequest(proxy.port, `${origin.url}/upload`, { method: 'POST', body: `${'x'.repeat(50)} ${secret} ${'y'.repeat(50)}`, headers: { 'content-type': 'text/plain' } });
        expect(reply.status, secret).toBe(403);
        const incident = reply.headers['x-dlp-incident'];
        expect(incident).toMatch(/^[0-9a-z]{16}$/);
        expect(reply.body.toString()).toContain(incident as string);
        await expect.poll(() => proxy.logs.some((l) => l.log === 'violation' && l.incident === incident)).toBe(true);
        const line = proxy.logs.find((l) => l.log === 'violation' && l.incident === incident)!;
        expect(line).toMatchObject({ direction: 'upload', service: 'dlp', rule: 'uploads', action: 'block', path: '/upload' });
        // no matched content in the log: the card's digits in any spacing, not any four digits
        // (a millisecond timestamp, a pid or an incident id holds "4111" now and then)
        expect(JSON.stringify(line)).not.toMatch(/TOP-SECRET|4111[ -]?1111/);
      }
      const secure = await httpsViaProxy(proxy.port, '127.0.0.1', tlsOrigin.port, '/upload', { ca: proxy.caPem, method: 'POST', body: 'TOP-SECRET over TLS', headers: { 'content-type': 'text/plain', accept: 'application/json' } });
      expect(secure.status).toBe(403);
      expect(JSON.parse(secure.body.toString())).toMatchObject({ incidentId: secure.headers['x-dlp-incident'] });
      expect(origin.seen.length).toBe(before.seen);
      expect(origin.connections).toBe(before.connections);
    });

    it('scans chunked uploads (no Content-Length) as strictly as sized ones', async () => {
      const chunked = { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' };
      const blocked = await proxyRequest(proxy.port, `${origin.url}/upload`, { method: 'POST', body: `chunked ${'a'.repeat(3000)} TOP-SECRET ${'b'.repeat(3000)}`, headers: chunked });
      expect(blocked.status).toBe(403);
      const body = `chunked and clean ${'c'.repeat(20_000)}`;
      const clean = await proxyRequest(proxy.port, `${origin.url}/upload`, { method: 'POST', body, headers: chunked });
      expect(clean.status).toBe(200);
      expect(origin.seen.at(-1)!.sha256).toBe(sha256(body));
    });

    it('blocks an EICAR download with our page and passes a clean one byte for byte', async () => {
      const reply = await proxyRequest(proxy.port, `${origin.url}/eicar.com`);
      expect(reply.status).toBe(403);
      expect(reply.body.toString()).not.toContain('EICAR-STANDARD');
      expect(reply.headers['x-dlp-incident']).toBeDefined();
      const secureBlocked = await httpsViaProxy(proxy.port, '127.0.0.1', tlsOrigin.port, '/eicar.com', { ca: proxy.caPem });
      expect(secureBlocked.status).toBe(403);
      const clean = await proxyRequest(proxy.port, `${origin.url}/bytes/150000`);
      expect(clean.status).toBe(200);
      expect(clean.body.equals(deterministicBytes(150000))).toBe(true);
      const secure = await httpsViaProxy(proxy.port, '127.0.0.1', tlsOrigin.port, '/bytes/150000', { ca: proxy.caPem });
      expect(secure.body.equals(deterministicBytes(150000))).toBe(true);
    });

    it('never lets byte ranges rebuild a blocked file; a clean range is answered 206 from the scanned whole', async () => {
      for (const range of ['bytes=0-33', 'bytes=34-']) {
        expect((await proxyRequest(proxy.port, `${origin.url}/eicar.com`, { headers: { range } })).status, range).toBe(403);
        expect((await httpsViaProxy(proxy.port, '127.0.0.1', tlsOrigin.port, '/eicar.com', { ca: proxy.caPem, headers: { range } })).status, range).toBe(403);
      }
      const part = await httpsViaProxy(proxy.port, '127.0.0.1', tlsOrigin.port, '/bytes/150000', { ca: proxy.caPem, headers: { range: 'bytes=100000-100099' } });
      expect(part.status).toBe(206);
      expect(part.headers['content-range']).toBe('bytes 100000-100099/150000');
      expect(part.body.equals(deterministicBytes(150000).subarray(100000, 100100))).toBe(true);
    });

    it('an Upgrade token skips no scan: h2c download of EICAR and h2c upload of TOP-SECRET are blocked', async () => {
      const h2c = { connection: 'Upgrade, HTTP2-Settings', upgrade: 'h2c', 'http2-settings': 'AAMAAABkAAQCAAAAAAIAAAAA' };
      expect((await proxyRequest(proxy.port, `${origin.url}/eicar.com`, { headers: h2c })).status).toBe(403);
      const before = origin.seen.length;
      const up = await proxyRequest(proxy.port, `${origin.url}/upload`, { method: 'POST', body: 'memo: TOP-SECRET plans', headers: { ...h2c, 'content-type': 'text/plain' } });
      expect(up.status).toBe(403);
      expect(origin.seen.length).toBe(before);
    });

    it('scans WebSocket messages like uploads: a clean one is echoed, TOP-SECRET closes 1008 (ws:// and intercepted wss://)', async () => {
      for (const [url, route] of [
        [`ws://127.0.0.1:${origin.port}/chat`, 'absolute-form'],
        [`wss://127.0.0.1:${tlsOrigin.port}/chat`, 'connect-tls'],
      ] as const) {
        const client = await openThroughProxy(proxy.port, url, route, { ca: proxy.caPem });
        const echo = new Promise<string>((r) => client.once('message', (d) => r(d.toString())));
        client.send('lunch at noon?');
        expect(await echo, url).toBe('lunch at noon?');
        const end = closed(client);
        client.send('memo: TOP-SECRET plans');
        expect((await end).code, url).toBe(1008);
      }
    });

    it('answers the second identical upload from the verdict cache', async () => {
      const counter = transactionCounter();
      try {
        const body = `cache me ${crypto.randomUUID()} ${'z'.repeat(3000)}`;
        await proxyRequest(proxy.port, `${origin.url}/upload`, { method: 'POST', body, headers: { 'content-type': 'text/plain' } });
        expect(counter.count('REQMOD')).toBe(1);
        const again = await proxyRequest(proxy.port, `${origin.url}/upload`, { method: 'POST', body, headers: { 'content-type': 'text/plain' } });
        expect(again.status).toBe(200);
        expect(counter.count('REQMOD')).toBe(1);
        expect(origin.seen.at(-1)!.sha256).toBe(sha256(body));
        const blockedTwice = `${crypto.randomUUID()} TOP-SECRET`;
        for (let i = 0; i < 2; i++) {
          const r = await proxyRequest(proxy.port, `${origin.url}/upload`, { method: 'POST', body: blockedTwice, headers: { 'content-type': 'text/plain' } });
          expect(r.status).toBe(403);
        }
        expect(counter.count('REQMOD')).toBe(2);
      } finally {
        counter.stop();
      }
    });

    it('makes one ICAP transaction for 100 concurrent identical uploads', async () => {
      const counter = transactionCounter();
      try {
        const body = `same body ${crypto.randomUUID()} ${'q'.repeat(10_000)}`;
        const replies = await Promise.all(
          Array.from({ length: 100 }, () => proxyRequest(proxy.port, `${origin.url}/upload`, { method: 'POST', body, headers: { 'content-type': 'text/plain' } })),
        );
        expect(replies.filter((r) => r.status !== 200).map((r) => `${r.status} ${r.body.toString().slice(0, 300)}`)).toEqual([]);
        expect(counter.count('REQMOD')).toBe(1);
      } finally {
        counter.stop();
      }
    });
  });
}
