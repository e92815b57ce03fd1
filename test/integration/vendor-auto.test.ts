// `vendor: auto` through the whole proxy, against a scripted ICAP server whose OPTIONS change
// under it: the profile read from OPTIONS acts (c-icap's Content-Length need), the choice is
// logged once with its reason, a change of profile is logged and retires every cached verdict of
// the service even when the ISTag stays the same, and a configured vendor that OPTIONS contradict
// is warned about.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { answers, startFakeIcapServer, type FakeIcapServer, type FakeRequest } from '../support/fake-icap-server.js';
import { startOrigin, type Origin } from '../support/origin.js';
import { proxyRequest } from '../support/proxy-client.js';
import { startTestProxy, tempCaDir, type TestProxy } from '../support/proxy-harness.js';
import { chunked, rawRequest } from '../support/raw-client.js';
import { encodeOptionsResponse } from '../../src/icap/codec/index.js';

let origin: Origin;
let caDir: string;
let icap: FakeIcapServer | undefined;
let proxy: TestProxy | undefined;
let service = 'C-ICAP/0.5.10 server - srv_content_filtering service';

beforeAll(async () => {
  origin = await startOrigin();
  caDir = tempCaDir();
});
afterEach(async () => {
  await proxy?.close();
  await icap?.close();
  proxy = undefined;
  icap = undefined;
});
afterAll(async () => {
  await origin.close();
});

async function start(vendor: string | undefined, extraOptions: Array<[string, string]> = []) {
  icap = await startFakeIcapServer({
    // Options-TTL 1 s: the proxy asks again and meets whatever product answers now
    options: () => ({ send: encodeOptionsResponse({ methods: ['REQMOD'], istag: 'same-tag', allow204: true, preview: 1024, optionsTtlSeconds: 1, headers: [['Service', service], ...extraOptions] }) }),
    onRequest: () => ({ send: answers.noContent('"same-tag"') }),
  });
  // no incident store (its thread costs each start a second on a loaded machine): nothing here reads it
  proxy = await startTestProxy({ services: { dlp: { urls: [icap.url('dlp')], ...(vendor ? { vendor } : {}) } }, policy: [{ name: 'uploads', match: { direction: 'upload' }, scan: 'dlp' }], incidents: { enabled: false } }, { caDir });
  return proxy;
}
const transactions = () => icap!.requests.filter((r: FakeRequest) => r.head.method !== 'OPTIONS');
const vendorLines = (p: TestProxy) => p.logs.filter((l) => l.log === 'icap' && typeof l.vendor === 'string');

describe('vendor: auto', () => {
  it('is the default: c-icap recognised from its Service, so a chunked body goes out whole with its Content-Length', async () => {
    service = 'C-ICAP/0.5.10 server - srv_content_filtering service';
    const p = await start(undefined);
    const body = Buffer.from(`chunked upload ${'x'.repeat(3000)}`);
    const reply = await rawRequest(p.port, [`POST ${origin.url}/up HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`, chunked([body.subarray(0, 1000), body.subarray(1000)])]);
    expect(reply.status).toBe(200);
    const head = transactions()[0]!.http[0]!;
    expect(head.headers).toContainEqual(['Content-Length', String(body.length)]);
    expect(head.headers.some(([n]) => /^transfer-encoding$/i.test(n))).toBe(false);
    expect(vendorLines(p)).toEqual([
      expect.objectContaining({ level: 30, service: 'dlp', vendor: 'c-icap', configured: 'auto', msg: `ICAP vendor profile c-icap (auto): OPTIONS Service is "${service}"` }),
    ]);
  });

  it('a generic server: its bodies of unknown length are streamed, not held for a length', async () => {
    service = 'Acme Content Scanner 2.0';
    const p = await start(undefined);
    const body = Buffer.from(`chunked upload ${'y'.repeat(3000)}`);
    await rawRequest(p.port, [`POST ${origin.url}/up HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`, chunked([body.subarray(0, 1000), body.subarray(1000)])]);
    expect(transactions()[0]!.http[0]!.headers.some(([n]) => /^content-length$/i.test(n))).toBe(false);
    expect(vendorLines(p)[0]).toMatchObject({ vendor: 'generic', msg: 'ICAP vendor profile generic (auto): no vendor recognised in OPTIONS (Service "Acme Content Scanner 2.0", no Server, ISTag "same-tag")' });
  });

  it('a change of product under the same ISTag is logged and retires the cached verdicts', async () => {
    service = 'C-ICAP/0.5.10 server - srv_content_filtering service';
    const p = await start(undefined);
    const body = `the same bytes ${'z'.repeat(2000)}`;
    const post = () => proxyRequest(p.port, `${origin.url}/up`, { method: 'POST', body, headers: { 'content-type': 'text/plain' } });
    expect((await post()).status).toBe(200);
    expect((await post()).status).toBe(200);
    expect(transactions()).toHaveLength(1); // the second answered from the verdict cache
    service = 'Sophos Anti-Virus Dynamic Interface (SAVDI) ICAP';
    await new Promise((r) => setTimeout(r, 1100)); // past Options-TTL
    expect((await post()).status).toBe(200);
    expect(transactions()).toHaveLength(2); // read by another profile: asked again
    expect(vendorLines(p).map((l) => [l.level, l.vendor, l.previous])).toEqual([
      [30, 'c-icap', undefined],
      [40, 'sophos', 'c-icap'],
    ]);
    expect(vendorLines(p)[1]!.msg).toBe('ICAP vendor profile changed from c-icap to sophos: OPTIONS Service is "Sophos Anti-Virus Dynamic Interface (SAVDI) ICAP"');
  });

  it('a configured vendor wins, with a warning when OPTIONS say another', async () => {
    service = 'any';
    const p = await start('symantec', [['X-Response-Info', 'Options']]);
    expect((await proxyRequest(p.port, `${origin.url}/up`, { method: 'POST', body: 'hello', headers: { 'content-type': 'text/plain' } })).status).toBe(200);
    expect(vendorLines(p)).toEqual([
      expect.objectContaining({ level: 40, vendor: 'symantec', configured: 'symantec', detected: 'metadefender', msg: 'ICAP vendor profile symantec (configured), but OPTIONS look like metadefender: OPTIONS carries x-response-info: Options' }),
    ]);
  });
});
