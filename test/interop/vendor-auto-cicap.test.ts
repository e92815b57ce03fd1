// `vendor: auto` (the default) against the real c-icap 0.5.10: both services are recognised as
// c-icap from their OPTIONS, so srv_content_filtering gets chunked uploads whole with their
// Content-Length (it passes any body without one: docs/decisions.md) and blocks them; virus_scan
// blocks EICAR. What test/interop/enforce-cicap.test.ts checks with `vendor: c-icap` set by hand.
// `dlp-proxy icap probe --test` names c-icap and sees both services block their test violation.
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { icapProbe } from '../../src/cli/icap-probe.js';
import { startCicap, type Cicap } from '../support/peers/cicap.js';
import { EICAR_NAME } from '../support/peers/clamd.js';
import { startOrigin, type Origin } from '../support/origin.js';
import { proxyRequest } from '../support/proxy-client.js';
import { startTestProxy, type TestProxy } from '../support/proxy-harness.js';
import { CARD } from '../support/enforcement-suite.js';

let cicap: Cicap;
let origin: Origin;
let proxy: TestProxy;

beforeAll(async () => {
  cicap = await startCicap({ services: ['dlp', 'av'] });
  origin = await startOrigin();
  proxy = await startTestProxy({
    services: { dlp: { urls: [cicap.url('dlp')] }, av: { urls: [cicap.url('av')] } },
    policy: [
      { name: 'uploads', match: { direction: 'upload' }, scan: 'dlp' },
      { name: 'downloads', match: { direction: 'download' }, scan: 'av' },
    ],
  });
});
afterAll(async () => {
  await proxy?.close();
  await origin?.close();
  await cicap?.stop();
});

describe('vendor: auto against c-icap', () => {
  const chunked = { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' };

  it('blocks chunked uploads carrying TOP-SECRET or a card, passes a clean one', async () => {
    for (const secret of ['TOP-SECRET', CARD]) {
      const reply = await proxyRequest(proxy.port, `${origin.url}/upload`, { method: 'POST', body: `chunked ${'a'.repeat(3000)} ${secret} ${'b'.repeat(3000)}`, headers: chunked });
      expect(reply.status, secret).toBe(403);
    }
    const clean = await proxyRequest(proxy.port, `${origin.url}/upload`, { method: 'POST', body: `chunked and clean ${'c'.repeat(20_000)}`, headers: chunked });
    expect(clean.status).toBe(200);
  });

  it('blocks EICAR on download', async () => {
    expect((await proxyRequest(proxy.port, `${origin.url}/eicar.com`)).status).toBe(403);
  });

  it('logged which profile it chose for each service, and why', () => {
    const lines = proxy.logs.filter((l) => l.log === 'icap' && typeof l.vendor === 'string');
    expect(lines.map((l) => [l.service, l.vendor, l.configured]).sort()).toEqual([
      ['av', 'c-icap', 'auto'],
      ['dlp', 'c-icap', 'auto'],
    ]);
    for (const line of lines) expect(line.msg).toMatch(/^ICAP vendor profile c-icap \(auto\): OPTIONS Service is "C-ICAP\/0\.5\.\d+ server - /);
  });
});

describe('dlp-proxy icap probe --test against c-icap', () => {
  async function probe(...argv: string[]): Promise<{ code: number; text: string }> {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    const code = await icapProbe(argv, out);
    return { code, text: Buffer.concat(chunks).toString() };
  }

  it('dlp by REQMOD: the card is blocked, the clean body passes, vendor c-icap', async () => {
    const { code, text } = await probe(cicap.url('dlp'), '--test', '--reqmod');
    expect(text).toMatch(/^vendor: +c-icap \(c-icap \(srv_content_filtering, virus_scan\)\): OPTIONS Service is "C-ICAP\//m);
    expect(text).toMatch(/^test REQMOD clean: +ok: ICAP 200, pass$/m); // srv_content_filtering echoes, never 204
    expect(text).toMatch(/^test REQMOD violation: ok: ICAP 200, block/m);
    expect(text).toMatch(/^    vendor: c-icap /m);
    expect(code).toBe(0);
  });

  it('av by RESPMOD: EICAR is blocked with its ClamAV name', async () => {
    const { code, text } = await probe(cicap.url('av'), '--test', '--respmod');
    expect(text).toMatch(/^test RESPMOD clean: +ok: ICAP 204, pass$/m);
    expect(text).toContain(`test RESPMOD violation: ok: ICAP 200, block (${EICAR_NAME})`);
    expect(code).toBe(0);
  });
});
