// squid 5.7 using the built-in ICAP service: `dlp` for REQMOD (uploads), `av` for RESPMOD
// (downloads). Bodies for RESPMOD stay under 64 KiB: squid 5.7 stalls on larger ones when the
// service reads the whole body before answering (squid bug 5352, see test/support/peers/squid.ts).
import http from 'node:http';
import type net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { EICAR } from '../../src/icap-server/detectors/eicar.js';
import { startIcapServer, type IcapServerHandle } from '../../src/icap-server/index.js';
import { startSquid, type Squid } from '../support/peers/squid.js';

let icap: IcapServerHandle;
let squid: Squid;
let origin: http.Server;
let originPort: number;
const uploads: Buffer[] = [];

const DOWNLOADS: Record<string, { type: string; body: Buffer }> = {
  '/clean.txt': { type: 'text/plain', body: Buffer.from('just a harmless text file\n'.repeat(200)) },
  '/eicar.com': { type: 'application/octet-stream', body: EICAR },
  '/padded-eicar.com': { type: 'application/octet-stream', body: Buffer.concat([EICAR, Buffer.from('\r\n')]) },
};

beforeAll(async () => {
  origin = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'POST') {
        uploads.push(Buffer.concat(chunks));
        res.writeHead(200, { 'content-type': 'text/plain' }).end('stored\n');
        return;
      }
      const file = DOWNLOADS[req.url ?? ''];
      if (!file) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': file.type, 'content-length': file.body.length }).end(file.body);
    });
  });
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  originPort = (origin.address() as net.AddressInfo).port;
  icap = await startIcapServer({ config: parseConfig({}).icapServer, port: 0 });
  squid = await startSquid({ reqmod: `icap://127.0.0.1:${icap.port}/dlp`, respmod: `icap://127.0.0.1:${icap.port}/av` });
});

afterAll(async () => {
  await squid?.stop();
  await icap?.close();
  await new Promise((r) => origin?.close(r));
});

/** One request through squid (absolute-form target, as a browser configured with a proxy sends). */
function viaSquid(method: string, urlPath: string, body?: Buffer, headers: http.OutgoingHttpHeaders = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: squid.port, method, path: `http://127.0.0.1:${originPort}${urlPath}`, headers: { ...headers, ...(body ? { 'content-length': body.length } : {}) }, agent: false, timeout: 20_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from squid within 20 s\n${squid.log()}`)));
    req.on('error', reject);
    req.end(body);
  });
}

describe('squid with the built-in ICAP service', () => {
  it('passes a clean upload to the origin unchanged', async () => {
    const body = Buffer.from('comment=hello+world&n=42');
    const r = await viaSquid('POST', '/upload', body, { 'content-type': 'application/x-www-form-urlencoded' });
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('stored\n');
    expect(uploads.at(-1)?.equals(body)).toBe(true);
  });

  it('blocks an upload carrying a card number before it reaches the origin, small or large', async () => {
    for (const body of [Buffer.from('card=4111+1111+1111+1111'), Buffer.from(`data=${'x'.repeat(200_000)}&card=5555555555554444`)]) {
      const before = uploads.length;
      const r = await viaSquid('POST', '/upload', body, { 'content-type': 'application/x-www-form-urlencoded' });
      expect(r.status).toBe(403);
      expect(r.body.toString()).toContain('<code>payment-card</code>');
      expect(uploads.length).toBe(before);
    }
  });

  it('passes a large clean upload (preview, then 100 Continue)', async () => {
    const body = Buffer.from(`data=${'y'.repeat(300_000)}`);
    const r = await viaSquid('POST', '/upload', body, { 'content-type': 'application/x-www-form-urlencoded' });
    expect(r.status).toBe(200);
    expect(uploads.at(-1)?.equals(body)).toBe(true);
  });

  it('passes a clean download unchanged', async () => {
    const r = await viaSquid('GET', '/clean.txt');
    expect(r.status).toBe(200);
    expect(r.body.equals(DOWNLOADS['/clean.txt']!.body)).toBe(true);
  });

  it('blocks EICAR downloads, with and without trailing whitespace', async () => {
    for (const p of ['/eicar.com', '/padded-eicar.com']) {
      const r = await viaSquid('GET', p);
      expect(r.status).toBe(403);
      expect(r.body.toString()).toContain('EICAR-Test-File');
      expect(r.body.includes(EICAR)).toBe(false);
    }
  });
});
