// A rule that matches on size needs the length of a body sent without one (chunked): the body is
// held to learn it, then scanned from that same spool: one spool and one hash per body, never a
// second copy (issue 12, item 3). Counted on the spool channel: one release per body.
import crypto from 'node:crypto';
import dc from 'node:diagnostics_channel';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CARD } from '../support/enforcement-suite.js';
import { answers, startFakeIcapServer, type FakeIcapServer } from '../support/fake-icap-server.js';
import { deterministicBytes, startOrigin, type Origin } from '../support/origin.js';
import { proxyRequest } from '../support/proxy-client.js';
import { startTestProxy, tempCaDir, type TestProxy } from '../support/proxy-harness.js';

const BLOCK_PAGE = { kind: 'response' as const, status: 403, reason: 'Forbidden', version: '1.1', headers: [['Content-Type', 'text/plain']] as Array<[string, string]> };

let origin: Origin;
let icap: FakeIcapServer;
let proxy: TestProxy;
const releases: unknown[] = [];
const onSpool = (m: unknown) => {
  if ((m as { type?: string }).type === 'release') releases.push(m);
};

beforeAll(async () => {
  origin = await startOrigin();
  // blocks what carries the card number, passes the rest: it judges what it read
  icap = await startFakeIcapServer({
    options: { methods: ['REQMOD'], istag: 'size-1', allow204: true },
    onRequest: (req) => (req.body.includes(CARD) ? { send: answers.modified(BLOCK_PAGE, 'blocked', [['ISTag', '"size-1"'], ['X-Violations-Found', 'card']]) } : { send: answers.noContent() }),
  });
  proxy = await startTestProxy(
    { services: { dlp: { urls: [icap.url('dlp')] } }, policy: [{ name: 'large-uploads', match: { direction: 'upload', minBytes: 1024 }, scan: 'dlp' }] },
    { caDir: tempCaDir() },
  );
  dc.subscribe('dlp-proxy:spool', onSpool);
});
afterEach(() => {
  releases.length = 0;
});
afterAll(async () => {
  dc.unsubscribe('dlp-proxy:spool', onSpool);
  await proxy?.close();
  await icap?.close();
  await origin?.close();
});

const chunkedUpload = (body: Buffer) => proxyRequest(proxy.port, `${origin.url}/upload`, { method: 'POST', body, headers: { 'transfer-encoding': 'chunked', 'content-type': 'text/plain' } });

describe('a size rule on a body of unknown length', () => {
  it('a clean chunked body: measured, scanned whole from the same spool, forwarded byte-exact; one spool', async () => {
    const body = deterministicBytes(48 * 1024, 7);
    const reply = await chunkedUpload(body);
    expect(reply.status).toBe(200);
    expect(icap.requests.at(-1)!.body.equals(body)).toBe(true);
    const seen = origin.seen.at(-1)!;
    expect(seen.sha256).toBe(crypto.createHash('sha256').update(body).digest('hex'));
    await expect.poll(() => releases.length).toBe(1);
  });

  it('a card at the end of a chunked body is blocked; one spool; the origin sees nothing', async () => {
    const before = origin.seen.length;
    const body = Buffer.concat([deterministicBytes(40 * 1024, 8), Buffer.from(` card ${CARD}`)]);
    expect((await chunkedUpload(body)).status).toBe(403);
    expect(origin.seen.length).toBe(before);
    await expect.poll(() => releases.length).toBe(1);
  });

  it('under the size: not scanned, passed on', async () => {
    const reply = await chunkedUpload(Buffer.from(`small ${CARD}`));
    expect(reply.status).toBe(200);
  });
});
