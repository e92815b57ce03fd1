// Our defects fail closed (issue 11 item 9, DESIGN.md invariant 7). A defect injected into an
// IcapService transaction against the raw-socket fake server (a body stream that throws a
// TypeError, a codec function that throws, a head the encoder refuses, the response reader
// throwing on an event) comes out as INTERNAL with the original as cause: it is not failed over to
// another server, not counted against the server's health, and failMode() keeps it closed even
// with every class switched open. The peer's own garbage stays ICAP_PROTOCOL_ERROR (the
// classification is not "everything is INTERNAL").
import diagnostics from 'node:diagnostics_channel';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config/schema.js';
import { ERROR_TABLE, ProxyError, type ErrorCode } from '../../../src/core/errors.js';
import { events, type ErrorEvent } from '../../../src/core/events.js';
import type { HttpHead } from '../../../src/core/types.js';
import { failClass, failMode } from '../../../src/enforce/index.js';
import { IcapParseError, IcapResponseDecoder } from '../../../src/icap/codec/index.js';
import { ICAP_TRANSACTION_CHANNEL, IcapService, type IcapRequest, type IcapTransactionMessage } from '../../../src/icap/index.js';
import { isPeerError, peerFailure } from '../../../src/icap/peer-failure.js';
import { ResponseReader } from '../../../src/icap/response-reader.js';
import { startFakeIcapServer, type FakeIcapServer } from '../../support/fake-icap-server.js';
import { proxyErrorOf } from '../../support/proxy-error.js';

const POST: HttpHead = { kind: 'request', method: 'POST', target: 'http://example.test/upload.bin', version: '1.1', headers: [['Host', 'example.test']] };

// Every fail class switched open, both by the service switch and per class.
const FAIL_CLASSES = [...new Set((Object.keys(ERROR_TABLE) as ErrorCode[]).map(failClass).filter((c) => c !== undefined))];
const allOpen = configSchema.parse({
  services: { dlp: { urls: ['icap://127.0.0.1:1344/dlp'], failMode: 'open', failModes: Object.fromEntries(FAIL_CLASSES.map((c) => [c, 'open'])) } },
  policy: [],
}).services.dlp!;

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** Replace a prototype method for one test; restored in afterEach even when the test fails. */
function patch<T extends object>(proto: T, name: string, replacement: (original: (...args: unknown[]) => unknown) => (...args: unknown[]) => unknown): void {
  const target = proto as Record<string, unknown>;
  const original = target[name] as (...args: unknown[]) => unknown;
  target[name] = replacement(original);
  cleanups.push(() => {
    target[name] = original;
  });
}

/** Two servers, so that a failover would show; failureLimit 1, so that one counted failure suspends. */
async function twoServers(): Promise<{ servers: FakeIcapServer[]; icap: IcapService; transactions: IcapTransactionMessage[] }> {
  const servers = [await startFakeIcapServer(), await startFakeIcapServer()];
  for (const s of servers) cleanups.push(() => s.close());
  const icap = new IcapService({
    name: 'dlp',
    servers: servers.map((s) => ({ url: s.url('dlp'), weight: 1 })),
    maxConnections: 4,
    connectTimeoutMs: 1000,
    previewTimeoutMs: 1000,
    readIdleTimeoutMs: 1000,
    queueTimeoutMs: 1000,
    idleTimeoutMs: 5000,
    health: { failureLimit: 1, probeIntervalMs: 0 },
  });
  cleanups.push(() => icap.close());
  const transactions: IcapTransactionMessage[] = [];
  const channel = diagnostics.channel(ICAP_TRANSACTION_CHANNEL);
  const onMessage = (m: unknown) => transactions.push(m as IcapTransactionMessage);
  channel.subscribe(onMessage);
  cleanups.push(() => void channel.unsubscribe(onMessage));
  return { servers, icap, transactions };
}

const reqmod = (body: Readable | null, extra: Partial<IcapRequest> = {}): IcapRequest => ({ method: 'REQMOD', reqHead: POST, body, allow204: true, ...extra });

/** What every injected defect must come to. */
function expectClosedInternal(err: ProxyError, cause: new (...args: never[]) => Error, text: string): void {
  expect(err.code).toBe('INTERNAL');
  expect(err.hop).toBe('internal');
  expect(err.cause).toBeInstanceOf(cause);
  expect((err.cause as Error).message).toContain(text);
  expect(failMode(allOpen, err.code)).toBe('closed');
}

/** Not failed over, not counted: one transaction published, both servers still up with no failure. */
function expectNoFailoverNoBlame(ctx: { servers: FakeIcapServer[]; icap: IcapService; transactions: IcapTransactionMessage[] }): void {
  expect(ctx.transactions.map((t) => t.errorCode)).toEqual(['INTERNAL']);
  const reqmods = ctx.servers.flatMap((s) => s.requests).filter((r) => r.head.method === 'REQMOD');
  expect(reqmods.length).toBeLessThanOrEqual(1);
  for (const view of ctx.icap.serverStates()) expect(view).toMatchObject({ state: 'up', failures: 0 });
}

describe('fail policy: INTERNAL is outside every fail class', () => {
  it('has no class and stays closed with failMode open and every failModes class open', () => {
    expect(FAIL_CLASSES.length).toBeGreaterThanOrEqual(6);
    expect(failClass('INTERNAL')).toBeUndefined();
    expect(failMode(allOpen, 'INTERNAL')).toBe('closed');
    // the control: the same service does fail open for a peer's protocol error
    expect(failMode(allOpen, 'ICAP_PROTOCOL_ERROR')).toBe('open');
  });
});

describe('peerFailure: whose failure it is', () => {
  const errno = (code: string) => Object.assign(new Error(`read ${code}`), { code, errno: -104, syscall: 'read' });

  it.each([
    ['ECONNRESET', 'ICAP_READ_FAILED'],
    ['EPIPE', 'ICAP_READ_FAILED'],
    ['EAI_AGAIN', 'ICAP_READ_FAILED'],
    ['ERR_SSL_WRONG_VERSION_NUMBER', 'ICAP_READ_FAILED'],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'ICAP_READ_FAILED'],
    ['ERR_STREAM_PREMATURE_CLOSE', 'ICAP_READ_FAILED'],
  ])('a peer error %s keeps the peer code', (code, expected) => {
    expect(isPeerError(errno(code))).toBe(true);
    expect(peerFailure(errno(code), 'ICAP_READ_FAILED').code).toBe(expected);
  });

  it('the codec parse error is a protocol error naming the server', () => {
    const e = peerFailure(new IcapParseError('chunk-size', 'invalid chunk-size line'), 'ICAP_READ_FAILED', { server: '127.0.0.1:1344' });
    expect(e.code).toBe('ICAP_PROTOCOL_ERROR');
    expect(e.message).toContain('ICAP server 127.0.0.1:1344 sent an invalid response');
    expect(e.details).toMatchObject({ reason: 'chunk-size' });
  });

  it.each<[string, unknown]>([
    ['a TypeError', new TypeError("Cannot read properties of undefined (reading 'length')")],
    ['a RangeError', new RangeError('Invalid array length')],
    ["a Node ERR_* misuse (TypeError with a code)", Object.assign(new TypeError('The "chunk" argument must be of type string'), { code: 'ERR_INVALID_ARG_TYPE' })],
    ['an Error without a code', new Error('assertion failed: state')],
    ['an Error with a code that is no errno', Object.assign(new Error('push after EOF'), { code: 'ERR_STREAM_PUSH_AFTER_EOF' })],
    ['a thrown string', 'oops'],
  ])('%s is INTERNAL with the original as cause', (_name, thrown) => {
    const e = peerFailure(thrown, 'ICAP_PROTOCOL_ERROR');
    expect(e.code).toBe('INTERNAL');
    expect(e.cause).toBe(thrown);
    expect(isPeerError(thrown)).toBe(false);
  });

  it('a ProxyError passes through untouched', () => {
    const original = new ProxyError('ICAP_READ_TIMEOUT', 'sent nothing for 1000 ms');
    expect(peerFailure(original, 'ICAP_PROTOCOL_ERROR')).toBe(original);
  });
});

describe('IcapService: a defect of ours fails closed', () => {
  it('a body stream whose read throws a TypeError', async () => {
    const ctx = await twoServers();
    const body = new Readable({
      read() {
        throw new TypeError("Cannot read properties of undefined (reading 'subarray')");
      },
    });
    const err = await proxyErrorOf(ctx.icap.send(reqmod(body)));
    expectClosedInternal(err, TypeError, 'subarray');
    expectNoFailoverNoBlame(ctx);
  });

  it('a codec function that throws a TypeError while decoding the answer', async () => {
    const ctx = await twoServers();
    // OPTIONS (200) decodes; the REQMOD answer (204) meets the defect.
    patch(IcapResponseDecoder.prototype, 'parseStartLine', (original) =>
      function (this: unknown, ...args: unknown[]) {
        if (String(args[0]).includes(' 204')) throw new TypeError('injected decoder defect');
        return original.apply(this, args);
      },
    );
    const err = await proxyErrorOf(ctx.icap.send(reqmod(Readable.from([Buffer.from('hello')]))));
    expectClosedInternal(err, TypeError, 'injected decoder defect');
    expectNoFailoverNoBlame(ctx);
    expect(ctx.servers.flatMap((s) => s.requests).filter((r) => r.head.method === 'REQMOD')).toHaveLength(1);
  });

  it('the response reader throwing on an event fails the transaction instead of the process', async () => {
    const ctx = await twoServers();
    patch(ResponseReader.prototype, 'onEvent', (original) =>
      function (this: unknown, ...args: unknown[]) {
        const event = args[0] as { type: string; head?: { status: number } };
        if (event.type === 'head' && event.head?.status === 204) throw new RangeError('injected reader defect');
        return original.apply(this, args);
      },
    );
    const err = await proxyErrorOf(ctx.icap.send(reqmod(Readable.from([Buffer.from('hello')]))));
    expectClosedInternal(err, RangeError, 'injected reader defect');
    expectNoFailoverNoBlame(ctx);
  });

  it('a head the encoder refuses: INTERNAL, and the pooled connection is given back', async () => {
    const ctx = await twoServers();
    const bad: HttpHead = { ...POST, headers: [['Bad Header', 'x']] };
    const err = await proxyErrorOf(ctx.icap.send(reqmod(Readable.from([Buffer.from('hello')]), { reqHead: bad })));
    expectClosedInternal(err, TypeError, 'invalid header name');
    expectNoFailoverNoBlame(ctx);
    await expect.poll(() => ctx.icap.stats().reduce((n, s) => n + s.busy, 0)).toBe(0);
    // the service still works afterwards
    await expect(ctx.icap.send(reqmod(Readable.from([Buffer.from('hello')])))).resolves.toMatchObject({ kind: 'unmodified' });
  });

  it('a defect while reading OPTIONS: options() asks no other server and blames none; the probe publishes it', async () => {
    const errors: ErrorEvent[] = [];
    cleanups.push(events.error.subscribe((e) => errors.push(e)));
    const ctx = await twoServers();
    patch(IcapResponseDecoder.prototype, 'parseStartLine', () => () => {
      throw new TypeError('injected OPTIONS defect');
    });
    const err = await proxyErrorOf(ctx.icap.options());
    expectClosedInternal(err, TypeError, 'injected OPTIONS defect');
    for (const view of ctx.icap.serverStates()) expect(view).toMatchObject({ state: 'up', failures: 0 });
    // the first use starts a probe of each server; theirs meet the same defect and are logged
    await expect.poll(() => errors.filter((e) => e.error.code === 'INTERNAL').length).toBeGreaterThanOrEqual(1);
  });

  it('control: the peer sending garbage is still the peer protocol error (fails open when so configured)', async () => {
    const server = await startFakeIcapServer({ onRequest: () => ({ send: 'ICAP/1.0 2x4 garbage\r\n\r\n' }) });
    cleanups.push(() => server.close());
    const icap = new IcapService({
      name: 'dlp',
      servers: [{ url: server.url('dlp'), weight: 1 }],
      maxConnections: 2,
      connectTimeoutMs: 1000,
      previewTimeoutMs: 1000,
      readIdleTimeoutMs: 1000,
      queueTimeoutMs: 1000,
      idleTimeoutMs: 5000,
    });
    cleanups.push(() => icap.close());
    const err = await proxyErrorOf(icap.send(reqmod(Readable.from([Buffer.from('hello')]))));
    expect(err.code).toBe('ICAP_PROTOCOL_ERROR');
    expect(err.cause).toBeInstanceOf(IcapParseError);
    expect(failMode(allOpen, err.code)).toBe('open');
  });
});
