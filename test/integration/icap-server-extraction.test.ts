// Extraction through the built-in ICAP server on a real socket, as the proxy (or Squid) talks to
// it: a docx uploaded with a preview and streamed in small chunks, a tar.gz download with EICAR
// deep inside, a zip bomb answered quickly with the limit that stopped it, a clean xlsx answered 204.
import zlib from 'node:zlib';
import tar from 'tar-stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { encodeChunk, encodeIcapRequest, encodeLastChunk } from '../../src/icap/codec/index.js';
import { EICAR } from '../../src/icap-server/detectors/eicar.js';
import { listenIcapServer, type IcapServerHandle } from '../../src/icap-server/index.js';
import { docx, xlsx, zip } from '../unit/icap-server/extract-fixtures.js';
import { IcapTestClient, httpRequest, httpResponse } from '../unit/icap-server/icap-test-client.js';

let server: IcapServerHandle;
const clients: IcapTestClient[] = [];
const uri = (service: string) => `icap://127.0.0.1:${server.port}/${service}`;
const connect = async () => {
  const c = await IcapTestClient.connect(server.port);
  clients.push(c);
  return c;
};

beforeAll(async () => {
  const config = parseConfig({ icapServer: { port: 0, detectors: { keywords: [{ name: 'classified', words: ['TOP-SECRET'] }] } } }).icapServer;
  server = await listenIcapServer({ config });
});
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});
afterAll(() => server.close());

async function tarGz(files: Array<{ name: string; data: Buffer }>): Promise<Buffer> {
  const pack = tar.pack();
  for (const f of files) pack.entry({ name: f.name }, f.data);
  pack.finalize();
  const out: Buffer[] = [];
  for await (const chunk of pack) out.push(chunk);
  return zlib.gzipSync(Buffer.concat(out));
}

describe('built-in ICAP server: content extraction', () => {
  it('blocks a docx upload whose words are split into runs, sent after a preview in small chunks', async () => {
    const body = docx(['Quarterly notes', 'memo: TOP-|SECRET| plans for the merger']);
    const c = await connect();
    const type = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
    c.send(encodeIcapRequest({ method: 'REQMOD', uri: uri('dlp'), reqHead: httpRequest([['Content-Type', type]]), headers: [['Allow', '204']], preview: 64, hasBody: true }));
    c.send(Buffer.concat([...encodeChunk(body.subarray(0, 64)), encodeLastChunk(false)]));
    expect((await c.next()).status).toBe(100);
    for (let at = 64; at < body.length; at += 37) c.send(Buffer.concat(encodeChunk(body.subarray(at, at + 37))));
    c.send(encodeLastChunk());
    const a = await c.next();
    expect(a.headers.get('x-violations-found')).toBe('1 - keyword:classified x1 0 2');
    expect(a.httpHead?.status).toBe(403);
  });

  it('finds EICAR in a tar.gz download and names it in X-Infection-Found', async () => {
    const body = await tarGz([{ name: 'docs/readme.txt', data: Buffer.from('hello') }, { name: 'tools/eicar.com', data: EICAR }]);
    const c = await connect();
    const a = await c.transact({ method: 'RESPMOD', uri: uri('av'), reqHead: httpRequest(), resHead: httpResponse([['Content-Type', 'application/gzip']]), headers: [['Allow', '204']] }, body);
    expect(a.headers.get('x-infection-found')).toBe('Type=0; Resolution=2; Threat=EICAR-Test-File;');
  });

  it('answers a zip bomb quickly, naming the limit that stopped it', async () => {
    const bomb = zip([{ name: 'zeros.bin', data: Buffer.alloc(16 * 1024 * 1024) }]);
    const c = await connect();
    const started = Date.now();
    const a = await c.transact({ method: 'RESPMOD', uri: uri('av'), reqHead: httpRequest(), resHead: httpResponse([['Content-Type', 'application/zip']]), headers: [['Allow', '204']] }, bomb);
    expect(a.headers.get('x-violations-found')).toBe('1 - decode-limit:ratio 0 2');
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('answers 204 for a clean spreadsheet, and keeps the connection for the next request', async () => {
    const c = await connect();
    const clean = xlsx([['Name', 'Team'], ['Alice Example', 'Platform']]);
    const a = await c.transact({ method: 'REQMOD', uri: uri('dlp'), reqHead: httpRequest([['Content-Type', 'application/octet-stream']]), headers: [['Allow', '204']] }, clean);
    expect(a.status).toBe(204);
    const b = await c.transact({ method: 'REQMOD', uri: uri('dlp'), reqHead: httpRequest([['Content-Type', 'application/octet-stream']]), headers: [['Allow', '204']] }, xlsx([['memo'], ['TOP-SECRET']]));
    expect(b.headers.get('x-violations-found')).toBe('1 - keyword:classified x1 0 2');
  });
});
