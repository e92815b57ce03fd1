// The built-in service fronting a real clamd (icapServer.av.clamd): every file of a body streamed
// by INSTREAM beside the service's own detectors, over a UNIX socket and over TCP; what clamd finds
// inside containers it opens itself; its signature version for the ISTag; clamd down or silent is
// a failed scan, never a clean one; maxStreamBytes bounds what is sent.
import net from 'node:net';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { BodyScan } from '../../src/icap-server/decode/body-scan.js';
import { buildDetectorSet } from '../../src/icap-server/detectors/detector-set.js';
import { ClamdClient, signatureVersion } from '../../src/icap-server/extract/clamd-client.js';
import { type Clamd, EICAR, EICAR_NAME, MARKER_NAME, VIRUS_MARKER, startClamd } from '../support/peers/clamd.js';
import { zip } from '../unit/icap-server/extract-fixtures.js';

let clamd: Clamd;

beforeAll(async () => {
  clamd = await startClamd();
});

afterAll(async () => {
  await clamd?.stop();
});

function config(clamdConfig: Record<string, unknown>) {
  return parseConfig({ icapServer: { av: { clamd: clamdConfig } } }).icapServer;
}

/** A download scanned by the `av` service with `clamdConfig` as icapServer.av.clamd. */
async function scanWith(clamdConfig: Record<string, unknown>, body: Buffer, content: { contentType?: string; contentEncoding?: string } = {}): Promise<string[]> {
  const icapServer = config(clamdConfig);
  const detectors = buildDetectorSet(icapServer.detectors, 'av', 'RESPMOD');
  const scan = new BodyScan(detectors, content, icapServer, { service: 'av', method: 'RESPMOD' });
  for (let i = 0; i < body.length; i += 1000) await scan.write(body.subarray(i, i + 1000));
  return (await scan.end()).map((v) => v.name);
}

describe('clamd back-end', () => {
  it('reads the signature version for the ISTag', async () => {
    const client = new ClamdClient(config({ socket: clamd.socket }).av.clamd!);
    const version = await client.version();
    expect(version).toMatch(/^ClamAV \d+\.\d+/);
    // The test database is not a CVD, so clamd names no database version: the engine stands in.
    expect(signatureVersion(version)).toBe(version.split('/')[1] ?? version);
    expect(signatureVersion('ClamAV 1.0.7/27480/Thu Dec  3 09:38:02 2026')).toBe('27480');
  });

  it('reports what clamd finds beside the built-in detectors, in plain and encoded bodies and inside containers clamd opens', async () => {
    const unix = { socket: clamd.socket };
    expect(await scanWith(unix, Buffer.from('a clean download, nothing to see'))).toEqual([]);
    expect(await scanWith(unix, Buffer.from(EICAR))).toEqual(['EICAR-Test-File', EICAR_NAME]);
    const marker = Buffer.from(`${'harmless text '.repeat(500)}${VIRUS_MARKER} more text`);
    expect(await scanWith(unix, marker)).toEqual([MARKER_NAME]);
    expect(await scanWith(unix, zlib.gzipSync(marker), { contentEncoding: 'gzip' })).toEqual([MARKER_NAME]);
    expect(await scanWith(unix, zip([{ name: 'docs/readme.txt', data: marker }]))).toEqual([MARKER_NAME]);
    // Only the `av` service asks clamd; without the key the built-in detectors alone answer.
    const icapServer = config(unix);
    const dlpScan = new BodyScan(buildDetectorSet(icapServer.detectors, 'dlp', 'REQMOD'), {}, icapServer, { service: 'dlp', method: 'REQMOD' });
    await dlpScan.write(marker);
    expect((await dlpScan.end()).map((v) => v.name)).toEqual([]);
    const plain = parseConfig({}).icapServer;
    const avScan = new BodyScan(buildDetectorSet(plain.detectors, 'av', 'RESPMOD'), {}, plain, { service: 'av', method: 'RESPMOD' });
    await avScan.write(marker);
    expect((await avScan.end()).map((v) => v.name)).toEqual([]);
  });

  it('speaks TCP as well as a UNIX socket', async () => {
    // A relay from a TCP port to the test clamd's socket (the test clamd listens on its socket only).
    const relay = net.createServer((c) => {
      const upstream = net.connect(clamd.socket);
      c.pipe(upstream).pipe(c);
      c.on('error', () => upstream.destroy());
      upstream.on('error', () => c.destroy());
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = relay.address() as net.AddressInfo;
      expect(await scanWith({ host: '127.0.0.1', port }, Buffer.from(VIRUS_MARKER))).toEqual([MARKER_NAME]);
    } finally {
      await new Promise<void>((resolve) => relay.close(() => resolve()));
    }
  });

  it('sends at most maxStreamBytes of a file', async () => {
    const body = Buffer.from(`${'x '.repeat(40_000)}${VIRUS_MARKER}`);
    expect(await scanWith({ socket: clamd.socket, maxStreamBytes: 100_000 }, body)).toEqual([MARKER_NAME]);
    expect(await scanWith({ socket: clamd.socket, maxStreamBytes: 50_000 }, body)).toEqual([]);
  });

  it('fails the scan when clamd is not there or does not answer within timeoutMs', async () => {
    await expect(scanWith({ socket: `${clamd.socket}.missing` }, Buffer.from('hello'))).rejects.toMatchObject({ code: 'SCAN_UNSCANNABLE' });
    const silent = net.createServer((c) => c.resume());
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as net.AddressInfo;
      const started = Date.now();
      await expect(scanWith({ port, timeoutMs: 300 }, Buffer.from('hello'))).rejects.toMatchObject({ code: 'SCAN_UNSCANNABLE' });
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      silent.close();
    }
  });

  it('refuses a clamd config that names neither or both a socket and a port', () => {
    expect(() => config({})).toThrow(/socket/);
    expect(() => config({ socket: '/x', port: 3310 })).toThrow(/socket/);
  });
});
