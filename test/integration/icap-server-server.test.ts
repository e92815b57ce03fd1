import zlib from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { EICAR } from '../../src/icap-server/detectors/eicar.js';
import { listenIcapServer, type IcapServerHandle } from '../../src/icap-server/index.js';
import { IcapTestClient, httpRequest, httpResponse } from '../unit/icap-server/icap-test-client.js';

const CARD_BODY = Buffer.from('name=Jane&card=4111 1111 1111 1111');
const CLEAN_BODY = Buffer.from('name=Jane&comment=nothing to see here');

let server: IcapServerHandle;
let uri: (service: string) => string;
const clients: IcapTestClient[] = [];
const connect = async () => {
  const c = await IcapTestClient.connect(server.port);
  clients.push(c);
  return c;
};

beforeAll(async () => {
  const config = parseConfig({ icapServer: { port: 0, maxEchoBytes: 4096, detectors: { keywords: [{ name: 'classified', words: ['TOP-SECRET'] }] } } }).icapServer;
  server = await listenIcapServer({ config });
  uri = (service) => `icap://127.0.0.1:${server.port}/${service}`;
});
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});
afterAll(() => server.close());

describe('built-in ICAP server: OPTIONS', () => {
  it.each(['dlp', 'av'])('answers OPTIONS for %s with its capabilities', async (service) => {
    const c = await connect();
    const a = await c.transact({ method: 'OPTIONS', uri: uri(service) });
    expect(a.status).toBe(200);
    expect(a.headers.get('methods')).toBe('REQMOD, RESPMOD');
    expect(a.headers.get('preview')).toBe('1024');
    expect(a.headers.get('allow')).toBe('204');
    expect(a.headers.get('options-ttl')).toBe('3600');
    expect(a.headers.get('max-connections')).toBe('256');
    expect(a.headers.get('encapsulated')).toBe('null-body=0');
    expect(a.headers.get('service')).toMatch(service === 'dlp' ? /DLP/ : /AV/);
    expect(a.headers.get('istag')).toBe(server.istags[service]);
    expect(a.headers.get('istag')).toMatch(/^"[^"]{1,30}"$/);
  });
});

describe('built-in ICAP server: REQMOD and RESPMOD', () => {
  it('blocks an upload carrying a card number with a 403 page and X-Violations-Found', async () => {
    const c = await connect();
    const a = await c.transact({ method: 'REQMOD', uri: uri('dlp'), reqHead: httpRequest([['Content-Type', 'application/x-www-form-urlencoded']]), headers: [['Allow', '204']] }, CARD_BODY);
    expect(a.status).toBe(200);
    expect(a.headers.get('x-violations-found')).toBe('1 - payment-card x1 0 2');
    expect(a.headers.get('x-infection-found')).toBeUndefined();
    expect(a.headers.get('istag')).toBe(server.istags.dlp);
    expect(a.httpHead?.status).toBe(403);
    expect(a.httpHead?.headers).toContainEqual(['Content-Type', 'text/html; charset=utf-8']);
    expect(a.body.toString()).toContain('<code>payment-card</code>');
    expect(Number(a.httpHead?.headers.find(([n]) => n === 'Content-Length')?.[1])).toBe(a.body.length);
  });

  it('answers 204 to a clean upload, several times on one connection', async () => {
    const c = await connect();
    for (let i = 0; i < 5; i++) {
      const a = await c.transact({ method: 'REQMOD', uri: uri('dlp'), reqHead: httpRequest(), headers: [['Allow', '204']] }, CLEAN_BODY);
      expect(a.status).toBe(204);
      expect(a.headers.get('istag')).toBe(server.istags.dlp);
    }
    const blocked = await c.transact({ method: 'REQMOD', uri: uri('dlp'), reqHead: httpRequest(), headers: [['Allow', '204']] }, Buffer.from('this is TOP-SECRET'));
    expect(blocked.headers.get('x-violations-found')).toBe('1 - keyword:classified x1 0 2');
  });

  it('answers 204 to a bodiless request (null-body)', async () => {
    const c = await connect();
    const a = await c.transact({ method: 'REQMOD', uri: uri('dlp'), reqHead: { ...httpRequest(), method: 'GET' }, headers: [['Allow', '204']] });
    expect(a.status).toBe(204);
  });

  it('blocks an EICAR download with X-Infection-Found', async () => {
    const c = await connect();
    const a = await c.transact({ method: 'RESPMOD', uri: uri('av'), reqHead: { ...httpRequest(), method: 'GET' }, resHead: httpResponse([['Content-Type', 'application/octet-stream']]), headers: [['Allow', '204']] }, EICAR);
    expect(a.status).toBe(200);
    expect(a.headers.get('x-infection-found')).toBe('Type=0; Resolution=2; Threat=EICAR-Test-File;');
    expect(a.headers.get('x-violations-found')).toBe('1 - EICAR-Test-File 0 2');
    expect(a.httpHead?.status).toBe(403);
  });

  it('decodes a gzip download before scanning it', async () => {
    const c = await connect();
    const body = zlib.gzipSync(Buffer.from(`${'x'.repeat(5000)} SSN 536-22-1234`));
    const a = await c.transact({ method: 'RESPMOD', uri: uri('dlp'), resHead: httpResponse([['Content-Encoding', 'gzip']]), headers: [['Allow', '204']] }, body);
    expect(a.headers.get('x-violations-found')).toBe('1 - us-ssn x1 0 2');
  });

  it('echoes a clean message unchanged to a client that does not allow 204', async () => {
    const c = await connect();
    const a = await c.transact({ method: 'RESPMOD', uri: uri('av'), resHead: httpResponse([['Content-Type', 'text/plain']]) }, CLEAN_BODY);
    expect(a.status).toBe(200);
    expect(a.httpHead).toMatchObject({ kind: 'response', status: 200, headers: [['Content-Type', 'text/plain']] });
    expect(a.body.equals(CLEAN_BODY)).toBe(true);
    const big = await c.transact({ method: 'RESPMOD', uri: uri('av'), resHead: httpResponse() }, Buffer.alloc(8192, 0x61));
    expect(big.status).toBe(500); // larger than maxEchoBytes
  });
});

describe('built-in ICAP server: preview (RFC 3507 §4.5)', () => {
  it('answers a body that fits the preview (ieof) at once, with 204 even without Allow: 204', async () => {
    const c = await connect();
    const a = await c.transact({ method: 'REQMOD', uri: uri('dlp'), reqHead: httpRequest(), preview: 1024 }, CLEAN_BODY);
    expect(a).toMatchObject({ status: 204, continued: false });
    const b = await c.transact({ method: 'REQMOD', uri: uri('dlp'), reqHead: httpRequest(), preview: 1024 }, CARD_BODY);
    expect(b).toMatchObject({ status: 200, continued: false });
  });

  it('asks for the rest with 100 Continue and finds a card after the preview', async () => {
    const c = await connect();
    const body = Buffer.concat([Buffer.alloc(3000, 0x2e), Buffer.from(' card 5555555555554444 '), Buffer.alloc(3000, 0x2e)]);
    const a = await c.transact({ method: 'REQMOD', uri: uri('dlp'), reqHead: httpRequest(), preview: 1024, headers: [['Allow', '204']] }, body);
    expect(a).toMatchObject({ status: 200, continued: true });
    expect(a.headers.get('x-violations-found')).toBe('1 - payment-card x1 0 2');
    const clean = await c.transact({ method: 'REQMOD', uri: uri('dlp'), reqHead: httpRequest(), preview: 0, headers: [['Allow', '204']] }, CLEAN_BODY);
    expect(clean).toMatchObject({ status: 204, continued: true });
  });
});

describe('built-in ICAP server: bad requests', () => {
  const answerTo = async (raw: string) => {
    const c = await connect();
    c.send(raw);
    const a = await c.next();
    await new Promise((r) => c.socket.once('close', r));
    return a.status;
  };

  it('answers 400 to garbage and to a broken Encapsulated header, then closes', async () => {
    expect(await answerTo('HELLO WORLD\r\n\r\n')).toBe(400);
    expect(await answerTo(`REQMOD icap://127.0.0.1/dlp ICAP/1.0\r\nHost: x\r\nEncapsulated: req-hdr=zz\r\n\r\n`)).toBe(400);
    expect(await answerTo(`REQMOD icap://127.0.0.1/dlp ICAP/1.0\r\nHost: x\r\n\r\n`)).toBe(400);
    expect(await answerTo(`OPTIONS not-a-uri ICAP/1.0\r\nHost: x\r\nEncapsulated: null-body=0\r\n\r\n`)).toBe(400);
  });

  it('answers 404 to an unknown service, 501 to an unknown method, 505 to another version', async () => {
    expect(await answerTo(`OPTIONS icap://127.0.0.1/nope ICAP/1.0\r\nEncapsulated: null-body=0\r\n\r\n`)).toBe(404);
    expect(await answerTo(`BREW icap://127.0.0.1/dlp ICAP/1.0\r\nEncapsulated: null-body=0\r\n\r\n`)).toBe(501);
    expect(await answerTo(`OPTIONS icap://127.0.0.1/dlp ICAP/1.1\r\nEncapsulated: null-body=0\r\n\r\n`)).toBe(505);
  });

  it('answers 400 to a bad chunk size in the middle of a body', async () => {
    const c = await connect();
    c.send(`REQMOD icap://127.0.0.1/dlp ICAP/1.0\r\nHost: x\r\nEncapsulated: req-hdr=0, req-body=48\r\n\r\nPOST / HTTP/1.1\r\nHost: origin.test\r\nX-A: 123\r\n\r\n5\r\nhello\r\nZZZ\r\n`);
    expect((await c.next()).status).toBe(400);
  });

  it('keeps serving other connections after a bad one', async () => {
    await answerTo('\x00\x01\x02 garbage\r\n\r\n');
    const c = await connect();
    expect((await c.transact({ method: 'OPTIONS', uri: uri('dlp') })).status).toBe(200);
  });
});
