// IcapService against the raw-socket fake server: preview and 100 Continue, 204 in and after
// preview, streamed 200 bodies, connection reuse rules, every failure code, Max-Connections under
// load, failover, ISTag tracking and the diagnostics channel messages.
import diagnostics from 'node:diagnostics_channel';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { ProxyError } from '../../../src/core/errors.js';
import type { HttpHead } from '../../../src/core/types.js';
import { ICAP_ISTAG_CHANNEL, ICAP_TRANSACTION_CHANNEL, IcapService, type IcapServiceOptions, type IcapTransactionMessage } from '../../../src/icap/index.js';
import { freePort } from '../../support/peers/common.js';
import { answers, startFakeIcapServer, type FakeIcapOptions, type FakeIcapServer } from '../../support/fake-icap-server.js';
import { proxyErrorOf } from '../../support/proxy-error.js';
import { encodeContinue } from '../../../src/icap/codec/index.js';

const POST: HttpHead = { kind: 'request', method: 'POST', target: 'http://example.test/upload.bin', version: '1.1', headers: [['Host', 'example.test']] };
const RES: HttpHead = { kind: 'response', status: 200, reason: 'OK', version: '1.1', headers: [['Content-Type', 'text/plain']] };

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function setup(fake: FakeIcapOptions = {}, service: Partial<IcapServiceOptions> = {}): Promise<{ server: FakeIcapServer; icap: IcapService }> {
  const server = await startFakeIcapServer(fake);
  cleanups.push(() => server.close());
  const icap = new IcapService({
    name: 'dlp',
    servers: [{ url: server.url('dlp'), weight: 1 }],
    maxConnections: 8,
    connectTimeoutMs: 1000,
    previewTimeoutMs: 1000,
    readIdleTimeoutMs: 1000,
    queueTimeoutMs: 1000,
    idleTimeoutMs: 5000,
    ...service,
  });
  cleanups.push(() => icap.close());
  return { server, icap };
}

const body = (text: string | Buffer) => Readable.from([Buffer.from(text)]);
const reqmod = (data: string | Buffer | null, extra: Partial<Parameters<IcapService['send']>[0]> = {}) => ({
  method: 'REQMOD' as const,
  reqHead: POST,
  body: data === null ? null : body(data),
  allow204: true,
  ...extra,
});

async function readAll(stream: Readable | null): Promise<string> {
  if (!stream) return '';
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts).toString('latin1');
}


describe('IcapService transactions', () => {
  it('sends a small body as a preview ending in ieof and reads 204 as unmodified', async () => {
    const { server, icap } = await setup();
    const result = await icap.send(reqmod('hello', { clientIp: '10.1.2.3', serverIp: '192.0.2.9', user: 'alice' }));
    expect(result).toMatchObject({ kind: 'unmodified', status: 204, previewUsed: true, istag: '"fake-1"' });
    const [options, req] = server.requests;
    expect(options!.head.method).toBe('OPTIONS');
    expect(req!.preview).toEqual({ ieof: true });
    expect(req!.body.toString()).toBe('hello');
    expect(Object.fromEntries(req!.head.headers)).toMatchObject({
      allow: '204',
      preview: '1024',
      'x-client-ip': '10.1.2.3',
      'x-server-ip': '192.0.2.9',
      'x-authenticated-user': Buffer.from('Local://alice').toString('base64'),
      'x-client-username': 'alice',
    });
    expect(server.connections).toBe(1);
  });

  it('sends the rest after 100 Continue and streams a 200 body back', async () => {
    const big = Buffer.alloc(300_000, 'a');
    big.write('TOP-SECRET', big.length - 20);
    const { server, icap } = await setup({
      onRequest: (req) => ({ send: answers.modified({ kind: 'response', status: 403, reason: 'Forbidden', version: '1.0', headers: [] }, `blocked ${req.body.length}\0\0`, [['ISTag', '"fake-1"'], ['X-Violations-Found', '1']]) }),
    });
    const result = await icap.send(reqmod(big));
    expect(result.kind).toBe('modified');
    if (result.kind !== 'modified') return;
    expect(result.status).toBe(200);
    expect(result.head).toMatchObject({ status: 403, version: '1.0' });
    expect(result.headers.get('x-violations-found')).toBe('1');
    expect(await readAll(result.body)).toBe(`blocked ${big.length}\0\0`);
    expect(server.requests[1]!.preview).toEqual({ ieof: false });
    expect(server.requests[1]!.body.equals(big)).toBe(true);
  });

  it('takes a 204 after the preview: the rest is never sent and the connection is reused', async () => {
    const { server, icap } = await setup({ onPreview: () => ({ send: answers.noContent() }) });
    const first = await icap.send(reqmod(Buffer.alloc(5000, 'b')));
    expect(first).toMatchObject({ kind: 'unmodified', previewUsed: true });
    expect(server.requests[1]!.body.length).toBe(1024);
    const second = await icap.send(reqmod(Buffer.alloc(3000, 'c')));
    expect(second.kind).toBe('unmodified');
    expect(server.connections).toBe(1);
    expect(icap.stats()[0]).toMatchObject({ connected: 1, idle: 1, busy: 0, queued: 0 });
  });

  it('a caller that cannot replay gets no preview and no Allow: 204', async () => {
    const { server, icap } = await setup({ onRequest: (req) => ({ send: answers.modified(POST, req.body) }) });
    const result = await icap.send(reqmod('data', { allow204: false }));
    expect(result).toMatchObject({ kind: 'modified', previewUsed: false });
    expect(server.requests[1]!.head.headers.has('allow')).toBe(false);
    expect(server.requests[1]!.head.preview).toBeUndefined();
  });

  it('sends header-only messages with null-body, and RESPMOD with both heads', async () => {
    const { server, icap } = await setup();
    await icap.send(reqmod(null));
    expect(server.requests[1]!.head.encapsulated?.body.name).toBe('null-body');
    await icap.send({ method: 'RESPMOD', reqHead: { ...POST, method: 'GET' }, resHead: RES, body: body('x'), bodyBytes: 1, allow204: true });
    const resp = server.requests[2]!;
    expect(resp.http.map((h) => h.kind)).toEqual(['request', 'response']);
    expect(resp.head.encapsulated?.body.name).toBe('res-body');
  });

  it('honours a preview override from the caller', async () => {
    const { server, icap } = await setup();
    await icap.send(reqmod('abcdef', { preview: 2 }));
    expect(server.requests[1]!.head.preview).toBe(2);
    await icap.send(reqmod('abcdef', { preview: false }));
    expect(server.requests[2]!.head.preview).toBeUndefined();
    expect(server.requests[2]!.body.toString()).toBe('abcdef');
  });

  it('skipPreviewUpToBytes: a body held whole in RAM up to that size goes without preview; a larger one, a stream, or 0 previews as offered', async () => {
    const { server, icap } = await setup({}, { skipPreviewUpToBytes: 4096 });
    const ram = (size: number) => ({ body: [Buffer.alloc(size - 1, 'r'), Buffer.from('!')], bodyBytes: size });
    const small = await icap.send(reqmod(null, ram(4096)));
    expect(small).toMatchObject({ kind: 'unmodified', status: 204, previewUsed: false, complete: true });
    expect(server.requests[1]!.head.preview).toBeUndefined();
    expect(server.requests[1]!.body.length).toBe(4096);
    expect(server.requests[1]!.head.headers.get('allow')).toBe('204');

    const larger = await icap.send(reqmod(null, ram(4097)));
    expect(larger).toMatchObject({ previewUsed: true });
    expect(server.requests[2]!.head.preview).toBe(1024);
    expect(server.requests[2]!.body.length).toBe(4097);
    // the same size as a stream: its bytes are not all here yet
    await icap.send(reqmod('s'.repeat(100), { bodyBytes: 100 }));
    expect(server.requests[3]!.head.preview).toBe(1024);
    // an explicit preview from the caller (probes) still wins
    await icap.send(reqmod(null, { ...ram(100), preview: 10 }));
    expect(server.requests[4]!.head.preview).toBe(10);

    const always = await setup({}, { skipPreviewUpToBytes: 0 });
    await always.icap.send(reqmod(null, ram(100)));
    expect(always.server.requests[1]!.head.preview).toBe(1024);
  });

  it('a 100 Continue to a request sent without preview is skipped: the final answer decides (a block stays a block), and the connection serves the next one', async () => {
    let lie = true;
    const block = answers.modified({ kind: 'response', status: 403, reason: 'Forbidden', version: '1.0', headers: [] }, 'blocked');
    const { server, icap } = await setup({ onRequest: () => (lie ? ((lie = false), { send: Buffer.concat([encodeContinue(), block]) }) : { send: answers.noContent() }) }, { skipPreviewUpToBytes: 65_536 });
    const first = await icap.send(reqmod(null, { body: [Buffer.from('card 4111 1111 1111 1111')], bodyBytes: 24 }));
    expect(first).toMatchObject({ kind: 'modified', status: 200, previewUsed: false });
    if (first.kind === 'modified') expect(await readAll(first.body)).toBe('blocked');
    const next = await icap.send(reqmod(null, { body: [Buffer.from('clean')], bodyBytes: 5 }));
    expect(next).toMatchObject({ kind: 'unmodified', previewUsed: false });
    expect(server.requests.at(-1)!.body.toString()).toBe('clean');
    expect(server.connections).toBe(1);
  });

});

describe('IcapService connection reuse', () => {
  it('reuses one connection for sequential transactions and opens a new one after Connection: close', async () => {
    let n = 0;
    const { server, icap } = await setup({ onRequest: () => ({ send: answers.noContent('"fake-1"', ++n === 2 ? [['Connection', 'close']] : []), close: n === 2 }) });
    for (let i = 0; i < 4; i++) await icap.send(reqmod('x'));
    expect(server.connections).toBe(2);
  });

  it('closes a connection idle for idleTimeoutMs, and only one that was idle that long', async () => {
    const { server, icap } = await setup({}, { idleTimeoutMs: 300 });
    await icap.send(reqmod('one'));
    // used again every 100 ms: never idle for 300 ms, never closed
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 100));
      await icap.send(reqmod('again'));
    }
    expect(server.connections).toBe(1);
    expect(server.open).toBe(1);
    await new Promise((r) => setTimeout(r, 450));
    expect(server.open).toBe(0);
    expect(icap.stats()[0]).toMatchObject({ connected: 0, idle: 0 });
    await icap.send(reqmod('fresh'));
    expect(server.connections).toBe(2);
  });

  it('drops an idle connection the server closed and carries on with a fresh one', async () => {
    const { server, icap } = await setup({ onRequest: () => ({ send: answers.noContent(), close: true }) });
    await icap.send(reqmod('x'));
    // The server's FIN reaches the pooled socket later: wait for the pool to drop it.
    await expect.poll(() => icap.stats()[0]!.idle).toBe(0);
    await icap.send(reqmod('y'));
    expect(server.connections).toBe(2);
  });

  it('returns the connection only once the 200 body was read, or discarded by destroy()', async () => {
    const { server, icap } = await setup({ onRequest: () => ({ send: answers.modified(RES, Buffer.alloc(200_000, 'z')) }) });
    const first = await icap.send(reqmod('x'));
    expect(icap.stats()[0]).toMatchObject({ busy: 1, idle: 0 });
    if (first.kind !== 'modified') throw new Error('expected modified');
    first.body!.destroy();
    // Discarding the rest of the 200 body takes socket reads: wait until the connection is back.
    await expect.poll(() => icap.stats()[0]).toMatchObject({ busy: 0, idle: 1 });
    const second = await icap.send(reqmod('x'));
    if (second.kind !== 'modified') throw new Error('expected modified');
    expect((await readAll(second.body)).length).toBe(200_000);
    expect(server.connections).toBe(1);
  });
});

describe('IcapService failures', () => {
  it('maps 503 to ICAP_OVERLOADED, 500 to ICAP_SERVER_ERROR with the status, 405 to ICAP_METHOD_NOT_SUPPORTED', async () => {
    const statuses = [503, 500, 405];
    const { icap } = await setup({ onRequest: () => ({ send: answers.status(statuses.shift()!) }) });
    expect((await proxyErrorOf(icap.send(reqmod('a')))).code).toBe('ICAP_OVERLOADED');
    const e = await proxyErrorOf(icap.send(reqmod('a')));
    expect(e.code).toBe('ICAP_SERVER_ERROR');
    expect(e.details).toMatchObject({ status: 500 });
    expect((await proxyErrorOf(icap.send(reqmod('a')))).code).toBe('ICAP_METHOD_NOT_SUPPORTED');
  });

  it('reports garbage as ICAP_PROTOCOL_ERROR', async () => {
    const { icap } = await setup({ onRequest: () => ({ send: 'HTTP/1.1 200 OK\r\n\r\n' }) });
    expect((await proxyErrorOf(icap.send(reqmod('a')))).code).toBe('ICAP_PROTOCOL_ERROR');
  });

  it('times out a slow answer with ICAP_READ_TIMEOUT and a silent preview with ICAP_PREVIEW_TIMEOUT', async () => {
    const { icap } = await setup({ onRequest: () => ({ hang: true }), onPreview: () => ({ hang: true }) }, { readIdleTimeoutMs: 150, previewTimeoutMs: 150 });
    expect((await proxyErrorOf(icap.send(reqmod('small')))).code).toBe('ICAP_READ_TIMEOUT');
    expect((await proxyErrorOf(icap.send(reqmod(Buffer.alloc(4000))))).code).toBe('ICAP_PREVIEW_TIMEOUT');
  });

  it('an answer that trickles in: each piece re-arms the idle timer; silence after a piece still times out', async () => {
    const whole = answers.modified(RES, Buffer.alloc(3000, 't'));
    // six pieces 120 ms apart: 600 ms in all against an idle limit of 300 ms
    const slow = await setup({ onRequest: () => ({ trickle: whole, pieces: 6, everyMs: 120 }) }, { readIdleTimeoutMs: 300 });
    const result = await slow.icap.send(reqmod('a'));
    if (result.kind !== 'modified') throw new Error('expected modified');
    expect(await readAll(result.body)).toBe('t'.repeat(3000));
    const stalled = await setup({ onRequest: () => ({ trickle: whole, pieces: 6, everyMs: 120, stopAfter: 2 }) }, { readIdleTimeoutMs: 300 });
    const started = performance.now();
    const err = await proxyErrorOf(stalled.icap.send(reqmod('a')).then((r) => (r.kind === 'modified' ? readAll(r.body) : r.kind)));
    expect(err.code).toBe('ICAP_READ_TIMEOUT');
    // counted from the last piece (120 ms in), not from the request
    expect(performance.now() - started).toBeGreaterThan(400);
  });

  it('a 200 body its reader leaves unread for longer than the idle limit: paused, not timed out', async () => {
    const big = Buffer.alloc(4 * 1024 * 1024, 'p');
    const { icap } = await setup({ onRequest: () => ({ send: answers.modified(RES, big) }) }, { readIdleTimeoutMs: 150 });
    const result = await icap.send(reqmod('a'));
    if (result.kind !== 'modified') throw new Error('expected modified');
    // nobody reads for 3x the idle limit: the connection waits on us, not on the server
    await new Promise((r) => setTimeout(r, 450));
    expect((await readAll(result.body)).length).toBe(big.length);
  });

  it('a body given as RAM chunks meets the same read and preview timeouts as a stream', async () => {
    const { icap } = await setup({ onRequest: () => ({ hang: true }), onPreview: () => ({ hang: true }) }, { readIdleTimeoutMs: 150, previewTimeoutMs: 150 });
    const body = Buffer.alloc(4000, 'r');
    expect((await proxyErrorOf(icap.send(reqmod(null, { body: [Buffer.from('small')], bodyBytes: 5 })))).code).toBe('ICAP_READ_TIMEOUT');
    expect((await proxyErrorOf(icap.send(reqmod(null, { body: [body.subarray(0, 10), body.subarray(10)], bodyBytes: body.length })))).code).toBe('ICAP_PREVIEW_TIMEOUT');
  });

  it('a reset in the middle of a 200 body fails the body stream with ICAP_READ_FAILED', async () => {
    const whole = answers.modified(RES, Buffer.alloc(10_000, 'q'));
    const { icap } = await setup({ onRequest: () => ({ reset: true, after: whole.subarray(0, whole.length - 4000) }) });
    const result = await icap.send(reqmod('a'));
    if (result.kind !== 'modified') throw new Error('expected modified');
    const err = await proxyErrorOf(readAll(result.body));
    expect(err.code).toBe('ICAP_READ_FAILED');
  });

  it('a body sent from RAM: an echo byte for byte is an echo; one byte changed, a tail added or a short echo are bodies of their own', async () => {
    const data = Buffer.alloc(40_000, 'e');
    data.write('4111 1111 1111 1111', 30_000);
    const sent = [data.subarray(0, 7000), data.subarray(7000)];
    const cases: Array<[string, Buffer, boolean]> = [
      ['echo', data, true],
      ['one byte changed', Buffer.concat([data.subarray(0, 30_000), Buffer.from('X'), data.subarray(30_001)]), false],
      ['a tail added', Buffer.concat([data, Buffer.from('tail')]), false],
      ['cut short', data.subarray(0, 39_999), false],
    ];
    for (const [name, answer, echo] of cases) {
      const { server, icap } = await setup({ onRequest: () => ({ send: answers.modified(POST, answer) }) });
      const result = await icap.send(reqmod(null, { body: sent, bodyBytes: data.length }));
      if (result.kind !== 'modified') throw new Error(`${name}: expected modified`);
      expect(result.echo, name).toBe(echo);
      if (echo) expect(result.body, name).toBeNull();
      else expect(Buffer.from(await readAll(result.body), 'latin1').equals(answer), name).toBe(true);
      // the connection was read to the end of the answer and goes back to the pool either way
      await icap.send(reqmod(null, { body: sent, bodyBytes: data.length }));
      expect(server.connections, name).toBe(1);
    }
  });

  it('a server that stops halfway through an echo times out (ICAP_READ_TIMEOUT); one that resets fails (ICAP_READ_FAILED)', async () => {
    const data = Buffer.alloc(20_000, 'h');
    const whole = answers.modified(POST, data);
    const { icap } = await setup({ onRequest: () => ({ send: whole.subarray(0, whole.length - 9000) }) }, { readIdleTimeoutMs: 150 });
    expect((await proxyErrorOf(icap.send(reqmod(null, { body: [data], bodyBytes: data.length })))).code).toBe('ICAP_READ_TIMEOUT');
    const reset = await setup({ onRequest: () => ({ reset: true, after: whole.subarray(0, whole.length - 9000) }) });
    expect((await proxyErrorOf(reset.icap.send(reqmod(null, { body: [data], bodyBytes: data.length })))).code).toBe('ICAP_READ_FAILED');
  });

  it('a server that resets while the rest of a large body is being written fails the transaction, and the next one goes through', async () => {
    let resets = 1;
    const { server, icap } = await setup({ onPreview: () => (resets-- > 0 ? { reset: true, after: encodeContinue() } : { continue: true }), onRequest: () => ({ send: answers.noContent() }) });
    const big = Buffer.alloc(8 * 1024 * 1024, 'w');
    const err = await proxyErrorOf(icap.send(reqmod(null, { body: [big], bodyBytes: big.length })));
    expect(['ICAP_WRITE_FAILED', 'ICAP_READ_FAILED']).toContain(err.code);
    expect(err.details?.['server']).toBe(`127.0.0.1:${server.port}`);
    const result = await icap.send(reqmod(null, { body: [big], bodyBytes: big.length }));
    expect(result.kind).toBe('unmodified');
    expect(server.connections).toBe(2);
  });

  it('reports a closed port as ICAP_CONNECT_FAILED, and an abort as ICAP_ABORTED', async () => {
    const port = await freePort();
    const dead = new IcapService({ name: 'x', servers: [{ url: `icap://127.0.0.1:${port}/x`, weight: 1 }], maxConnections: 1, connectTimeoutMs: 500, previewTimeoutMs: 500, readIdleTimeoutMs: 500, queueTimeoutMs: 500, idleTimeoutMs: 500 });
    cleanups.push(() => dead.close());
    expect((await proxyErrorOf(dead.send(reqmod('a')))).code).toBe('ICAP_CONNECT_FAILED');
    const { icap } = await setup({ onRequest: () => ({ hang: true }) });
    const controller = new AbortController();
    const pending = icap.send(reqmod('a', { signal: controller.signal }));
    setTimeout(() => controller.abort(), 50);
    expect((await proxyErrorOf(pending)).code).toBe('ICAP_ABORTED');
  });

  it('Max-Connections: 2 caps the pool under load, and the queue has a deadline', async () => {
    const { server, icap } = await setup({ options: { maxConnections: 2 }, onRequest: () => ({ send: answers.noContent(), delayMs: 30 }) });
    const sends = Array.from({ length: 12 }, () => icap.send(reqmod('x')));
    // twelve 30 ms answers through two connections: requests wait for about 150 ms (a fixed 10 ms
    // sleep could wake after that on a loaded machine)
    await expect.poll(() => icap.stats()[0]!.queued, { interval: 5, timeout: 2000 }).toBeGreaterThan(0);
    const results = await Promise.all(sends);
    expect(results.every((r) => r.kind === 'unmodified')).toBe(true);
    expect(server.maxActive).toBeLessThanOrEqual(2);
    expect(icap.stats()[0]!.connected).toBeLessThanOrEqual(2);

    const slow = await setup({ options: { maxConnections: 1 }, onRequest: () => ({ send: answers.noContent(), delayMs: 400 }) }, { queueTimeoutMs: 100 });
    await slow.icap.options();
    const [a, b] = await Promise.allSettled([slow.icap.send(reqmod('x')), slow.icap.send(reqmod('y'))]);
    expect(a.status).toBe('fulfilled');
    expect(b.status === 'rejected' && (b.reason as ProxyError).code).toBe('ICAP_QUEUE_TIMEOUT');
  });
});

describe('IcapService servers, OPTIONS and events', () => {
  it('fails over to the next server when the first cannot be reached', async () => {
    const port = await freePort();
    const server = await startFakeIcapServer();
    cleanups.push(() => server.close());
    const icap = new IcapService({
      name: 'av',
      servers: [{ url: `icap://127.0.0.1:${port}/av`, weight: 5 }, { url: server.url('av'), weight: 1 }],
      maxConnections: 2, connectTimeoutMs: 500, previewTimeoutMs: 500, readIdleTimeoutMs: 500, queueTimeoutMs: 500, idleTimeoutMs: 500,
    });
    cleanups.push(() => icap.close());
    for (let i = 0; i < 3; i++) expect((await icap.send(reqmod('x'))).kind).toBe('unmodified');
  });

  it('spreads transactions by weight over healthy servers', async () => {
    const a = await startFakeIcapServer();
    const b = await startFakeIcapServer();
    cleanups.push(() => a.close(), () => b.close());
    const icap = new IcapService({
      name: 'dlp',
      servers: [{ url: a.url(), weight: 3 }, { url: b.url(), weight: 1 }],
      maxConnections: 2, connectTimeoutMs: 500, previewTimeoutMs: 500, readIdleTimeoutMs: 500, queueTimeoutMs: 500, idleTimeoutMs: 500,
    });
    cleanups.push(() => icap.close());
    for (let i = 0; i < 8; i++) await icap.send(reqmod('x'));
    const count = (s: FakeIcapServer) => s.requests.filter((r) => r.head.method === 'REQMOD').length;
    expect([count(a), count(b)]).toEqual([6, 2]);
  });

  it('caches OPTIONS, refreshes them after Options-TTL, and reports ISTag changes', async () => {
    let tag = 'v1';
    const { server, icap } = await setup({ options: () => ({ send: optionsAnswer(tag) }), onRequest: () => ({ send: answers.noContent(`"${tag}"`) }) });
    const seen: Array<[string, string | undefined]> = [];
    icap.onIstagChange((istag, previous) => seen.push([istag, previous]));
    const published: unknown[] = [];
    const sub = (m: unknown) => published.push(m);
    diagnostics.subscribe(ICAP_ISTAG_CHANNEL, sub);
    cleanups.push(async () => void diagnostics.unsubscribe(ICAP_ISTAG_CHANNEL, sub));
    const first = await icap.options();
    expect(first).toMatchObject({ methods: ['REQMOD', 'RESPMOD'], preview: 1024, allow204: true, ttlMs: 1000, maxConnections: 3 });
    expect(await icap.options()).toBe(first);
    expect(icap.istag).toBe('"v1"');
    tag = 'v2';
    await icap.send(reqmod('x'));
    expect(icap.istag).toBe('"v2"');
    await new Promise((r) => setTimeout(r, 1050));
    const refreshed = await icap.options();
    expect(refreshed).not.toBe(first);
    expect(server.requests.filter((r) => r.head.method === 'OPTIONS')).toHaveLength(2);
    expect(seen).toEqual([['"v1"', undefined], ['"v2"', '"v1"']]);
    expect(published).toHaveLength(2);
  });

  it('publishes one message per transaction on dlp-proxy:icap:transaction', async () => {
    const statuses = [204, 500];
    const { server, icap } = await setup({ onRequest: () => ({ send: answers.status(statuses.shift()!) }) });
    const messages: IcapTransactionMessage[] = [];
    const sub = (m: unknown) => messages.push(m as IcapTransactionMessage);
    diagnostics.subscribe(ICAP_TRANSACTION_CHANNEL, sub);
    cleanups.push(async () => void diagnostics.unsubscribe(ICAP_TRANSACTION_CHANNEL, sub));
    await icap.send(reqmod('x'));
    await proxyErrorOf(icap.send(reqmod('x')));
    expect(messages).toMatchObject([
      { service: 'dlp', server: `127.0.0.1:${server.port}`, method: 'REQMOD', status: 204, previewUsed: true, outcome: 'unmodified' },
      { service: 'dlp', method: 'REQMOD', status: 500, outcome: 'error', errorCode: 'ICAP_SERVER_ERROR' },
    ]);
    expect(messages[0]!.durationMs).toBeGreaterThan(0);
  });

  it('honours Transfer-Ignore without contacting the server, and Methods', async () => {
    const { server, icap } = await setup({ options: { transferIgnore: ['bin'], methods: ['REQMOD'] } });
    const result = await icap.send(reqmod('x'));
    expect(result).toMatchObject({ kind: 'unmodified', status: 204 });
    expect(server.requests.filter((r) => r.head.method === 'REQMOD')).toHaveLength(0);
    const err = await proxyErrorOf(icap.send({ method: 'RESPMOD', reqHead: POST, resHead: RES, body: null, allow204: true }));
    expect(err.code).toBe('ICAP_METHOD_NOT_SUPPORTED');
  });
});

function optionsAnswer(tag: string): string {
  return [
    'ICAP/1.0 200 OK',
    'Methods: REQMOD, RESPMOD',
    `ISTag: "${tag}"`,
    'Preview: 1024',
    'Allow: 204',
    'Options-TTL: 1',
    'Max-Connections: 3',
    'Encapsulated: null-body=0',
    '',
    '',
  ].join('\r\n');
}
