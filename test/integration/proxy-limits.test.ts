// The client-side limits of the proxy front (issue 11, item 6), each driven by the hostile client
// that found the hole, on real sockets, and each asserted at its configured value (two values
// where a timeout could otherwise pass by accident): a CONNECT silent after its 200, a TLS
// handshake stalled or dropped, idle and half-closed tunnels, a head sent a byte at a time, 150
// header fields, 300 connections from one address. After each, the same front still serves.
// The front is built here with its handlers (no app, no pipeline): what it decides on its own.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CertificateAuthority } from '../../src/ca/index.js';
import { ProxyError, type ErrorCode } from '../../src/core/errors.js';
import { events, type ConnectEvent } from '../../src/core/events.js';
import { ProxyFront, type ProxyFrontHandlers, type ProxyFrontOptions } from '../../src/proxy/index.js';
import { connect } from '../support/proxy-client.js';

const caDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlp-proxy-limits-ca-'));
let ca: CertificateAuthority;
const fronts: ProxyFront[] = [];
const clients: net.Socket[] = [];
let errors: ErrorCode[] = [];
let connects: ConnectEvent[] = [];
const unsubscribe: Array<() => void> = [];

/** What the exchange handler saw: every header field that reached it. */
interface Seen {
  headerCount: number;
  intercepted: boolean;
}

async function startFront(over: Partial<ProxyFrontOptions> = {}, handlers: Partial<ProxyFrontHandlers> = {}) {
  const seen: Seen[] = [];
  const front = new ProxyFront(
    {
      host: '127.0.0.1',
      port: 0,
      allowedClients: [],
      clientHeadersTimeoutMs: 20_000,
      clientIdleTimeoutMs: 20_000,
      maxHeaderBytes: 65_536,
      maxHeaderCount: 100,
      connectFirstByteTimeoutMs: 20_000,
      tlsHandshakeTimeoutMs: 20_000,
      tunnelIdleTimeoutMs: 20_000,
      maxConnectionsPerClient: 256,
      tunnelConnectTimeoutMs: 5_000,
      ...over,
    },
    {
      secureContext: (host) => ca.getSecureContext(host),
      decideConnect: (target) =>
        target.host === 'tunnel.test'
          ? { action: 'tunnel' }
          : target.host === 'refused.test'
            ? { action: 'refuse', page: { status: 403, headers: { 'x-dlp-incident': 'inc-1' }, body: Buffer.from('blocked by policy') } }
            : { action: 'intercept' },
      openTunnel: (target) => net.connect({ host: '127.0.0.1', port: target.port }),
      exchange: (req, res, _origin, _client, intercepted) => {
        seen.push({ headerCount: Object.keys(req.headers).length, intercepted });
        req.resume();
        req.on('end', () => res.end('served'));
      },
      upgrade: (_req, socket) => socket.destroy(),
      page: (status, code) => ({ status, headers: { 'content-type': 'text/plain', 'x-code': code }, body: Buffer.from(`page ${code}`) }),
      ...handlers,
    },
  );
  fronts.push(front);
  const port = await front.listen();
  return { front, port, seen };
}

function track<T extends net.Socket>(socket: T): T {
  clients.push(socket);
  socket.on('error', () => undefined);
  return socket;
}

async function rawConnect(port: number, options: { localAddress?: string; allowHalfOpen?: boolean } = {}): Promise<net.Socket> {
  const socket = track(net.connect({ port, host: '127.0.0.1', ...options }));
  await new Promise((resolve) => socket.once('connect', resolve));
  return socket;
}

/** Everything a socket receives, and when it closed. */
function watch(socket: net.Socket) {
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(performance.now())));
  return { text: () => Buffer.concat(chunks).toString('latin1'), closed };
}

/** One response (head and content-length body) from a socket that may stay open. */
function readResponse(socket: net.Socket): Promise<{ status: number; head: string; body: string }> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buffered.subarray(0, end).toString('latin1');
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
      if (buffered.length < end + 4 + length) return;
      socket.off('data', onData);
      socket.off('close', onClose);
      resolve({ status: Number(head.slice(9, 12)), head, body: buffered.subarray(end + 4, end + 4 + length).toString('latin1') });
    };
    const onClose = () => reject(new Error(`closed before a whole response: ${JSON.stringify(buffered.toString('latin1'))}`));
    socket.on('data', onData);
    socket.once('close', onClose);
  });
}

function get(host: string, extraFields: string[] = [], keepAlive = true): string {
  return [`GET http://${host}/ HTTP/1.1`, `Host: ${host}`, ...extraFields, ...(keepAlive ? [] : ['Connection: close']), '', ''].join('\r\n');
}

/** CONNECT, then TLS with our CA: the socket HTTP requests are written to. */
async function interceptedTls(port: number, host: string): Promise<{ raw: net.Socket; secure: tls.TLSSocket }> {
  const tunnel = await connect(port, `${host}:443`);
  track(tunnel.socket);
  expect(tunnel.status).toBe(200);
  const secure = track(tls.connect({ socket: tunnel.socket, servername: host, ca: ca.certPem }));
  await new Promise((resolve, reject) => {
    secure.once('secureConnect', resolve);
    secure.once('error', reject);
  });
  return { raw: tunnel.socket, secure };
}

async function servesPlain(port: number): Promise<void> {
  const socket = await rawConnect(port);
  socket.write(get('origin.test', [], false));
  const reply = await readResponse(socket);
  expect(reply.status).toBe(200);
  expect(reply.body).toBe('served');
}

async function servesIntercepted(port: number): Promise<void> {
  const { secure } = await interceptedTls(port, 'intercepted.test');
  secure.write(['GET / HTTP/1.1', 'Host: intercepted.test', 'Connection: close', '', ''].join('\r\n'));
  const reply = await readResponse(secure);
  expect(reply.status).toBe(200);
}

// waits for a state the proxy reaches asynchronously; the timeouts it would otherwise wait for
// are 20 s (startFront), so a few seconds of patience for a loaded machine prove the same
async function eventually(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${check.toString()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function idle(front: ProxyFront): boolean {
  const stats = front.stats();
  return stats.clientConnections === 0 && stats.openSockets === 0;
}

/** A byte echo that never closes its side on its own (half-open connections allowed); `ended` counts the FINs it got. */
async function startEcho() {
  const open = new Set<net.Socket>();
  const counts = { ended: 0 };
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    open.add(socket);
    socket.on('data', (chunk) => socket.write(chunk));
    socket.on('end', () => counts.ended++);
    socket.on('error', () => undefined);
    socket.on('close', () => open.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    counts,
    close: () => {
      for (const socket of open) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// A TLS record header and the start of a ClientHello: the proxy waits for the rest.
const PARTIAL_CLIENT_HELLO = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]);

beforeAll(async () => {
  ({ ca } = await CertificateAuthority.loadOrCreate({ dir: caDir, leafValidityDays: 30, certCacheSize: 10 }));
});
afterAll(() => fs.rmSync(caDir, { recursive: true, force: true }));

afterEach(async () => {
  for (const socket of clients.splice(0)) socket.destroy();
  await Promise.all(fronts.splice(0).map((front) => front.close()));
  for (const off of unsubscribe.splice(0)) off();
});

function subscribe(): void {
  errors = [];
  connects = [];
  unsubscribe.push(events.error.subscribe((event) => errors.push(event.error.code)));
  unsubscribe.push(events.connect.subscribe((event) => connects.push(event)));
}

describe('proxy front limits', () => {
  it.each([400, 1000])('closes an intercepted CONNECT that sends nothing after its 200 (connectFirstByteTimeoutMs %i)', async (timeoutMs) => {
    subscribe();
    const { front, port } = await startFront({ connectFirstByteTimeoutMs: timeoutMs });
    const tunnel = await connect(port, 'intercepted.test:443');
    const started = performance.now();
    expect(tunnel.status).toBe(200);
    const elapsed = (await watch(track(tunnel.socket)).closed) - started;
    expect(elapsed).toBeGreaterThanOrEqual(timeoutMs - 20);
    expect(elapsed).toBeLessThan(timeoutMs + 2000);
    expect(errors).toContain('CLIENT_IDLE_TIMEOUT');
    await eventually(() => idle(front));
    await servesIntercepted(port);
  });

  it.each([400, 1000])('closes a client that stalls its TLS handshake (tlsHandshakeTimeoutMs %i)', async (timeoutMs) => {
    subscribe();
    const { front, port } = await startFront({ tlsHandshakeTimeoutMs: timeoutMs });
    const tunnel = await connect(port, 'intercepted.test:443');
    const closed = watch(track(tunnel.socket)).closed;
    const started = performance.now();
    tunnel.socket.write(PARTIAL_CLIENT_HELLO);
    const elapsed = (await closed) - started;
    expect(elapsed).toBeGreaterThanOrEqual(timeoutMs - 20);
    expect(elapsed).toBeLessThan(timeoutMs + 2000);
    expect(errors).toContain('CLIENT_TLS_HANDSHAKE_TIMEOUT');
    await eventually(() => idle(front));
    await servesIntercepted(port);
  });

  it('leaves no socket open when the client drops before, during or right after the TLS handshake, and a drain does not wait for it', async () => {
    const { front, port } = await startFront();
    // before: FIN right after our 200
    const before = await connect(port, 'intercepted.test:443');
    track(before.socket).end();
    // during: half a ClientHello, then FIN (the socket stayed half-open for ever)
    const during = await connect(port, 'intercepted.test:443');
    track(during.socket).end(PARTIAL_CLIENT_HELLO);
    // right after: handshake done, FIN before any request
    const after = await interceptedTls(port, 'intercepted.test');
    after.raw.end();
    await eventually(() => idle(front));
    await servesIntercepted(port);

    const stalled = await connect(port, 'intercepted.test:443');
    track(stalled.socket).end(PARTIAL_CLIENT_HELLO);
    const started = performance.now();
    expect(await front.drain(5000)).toBe(true);
    // not the drain's 5 s, not the stalled handshake's 20 s
    expect(performance.now() - started).toBeLessThan(3000);
  });

  it.each([400, 1000])('closes an idle tunnel, both sides (tunnelIdleTimeoutMs %i)', async (idleMs) => {
    const echo = await startEcho();
    try {
      const { front, port } = await startFront({ tunnelIdleTimeoutMs: idleMs });
      const tunnel = await connect(port, `tunnel.test:${echo.port}`);
      expect(tunnel.status).toBe(200);
      const seen = watch(track(tunnel.socket));
      tunnel.socket.write('ping');
      await eventually(() => seen.text() === 'ping');
      const started = performance.now();
      const elapsed = (await seen.closed) - started;
      expect(elapsed).toBeGreaterThanOrEqual(idleMs - 20);
      expect(elapsed).toBeLessThan(idleMs + 2000);
      // the origin side too: the echo got our FIN
      await eventually(() => echo.counts.ended === 1 && idle(front));
    } finally {
      await echo.close();
    }
  });

  it('keeps a tunnel that moves bytes open past tunnelIdleTimeoutMs', async () => {
    const echo = await startEcho();
    try {
      // a byte every 100 ms for 1.2 s: the idle timeout well above the gaps, so that a loaded
      // machine's late timer does not make one
      const { port } = await startFront({ tunnelIdleTimeoutMs: 800 });
      const tunnel = await connect(port, `tunnel.test:${echo.port}`);
      const seen = watch(track(tunnel.socket));
      let closed = false;
      void seen.closed.then(() => (closed = true));
      for (let i = 0; i < 12; i++) {
        tunnel.socket.write('.');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(closed).toBe(false);
      await eventually(() => seen.text() === '.'.repeat(12));
    } finally {
      await echo.close();
    }
  });

  it('closes an idle intercepted connection at tunnelIdleTimeoutMs when the HTTP timeouts are longer', async () => {
    const { front, port } = await startFront({ tunnelIdleTimeoutMs: 500, clientIdleTimeoutMs: 20_000, clientHeadersTimeoutMs: 20_000 });
    const { raw, secure } = await interceptedTls(port, 'intercepted.test');
    secure.write(['GET / HTTP/1.1', 'Host: intercepted.test', '', ''].join('\r\n'));
    expect((await readResponse(secure)).status).toBe(200);
    const started = performance.now();
    const elapsed = (await watch(raw).closed) - started;
    expect(elapsed).toBeGreaterThanOrEqual(480);
    expect(elapsed).toBeLessThan(500 + 2000);
    await eventually(() => idle(front));
  });

  it('closes our side when a client half-closes an idle keep-alive connection or a tunnel', async () => {
    const echo = await startEcho();
    try {
      const { front, port } = await startFront({ tunnelIdleTimeoutMs: 500 });
      // plain keep-alive, after a response
      const plain = await rawConnect(port, { allowHalfOpen: true });
      plain.write(get('origin.test'));
      expect((await readResponse(plain)).status).toBe(200);
      const plainClosed = watch(plain).closed;
      const finAt = performance.now();
      plain.end();
      expect((await plainClosed) - finAt).toBeLessThan(2000); // not clientIdleTimeoutMs (20 s)
      // intercepted keep-alive, after a response: FIN under the TLS
      const { raw, secure } = await interceptedTls(port, 'intercepted.test');
      secure.write(['GET / HTTP/1.1', 'Host: intercepted.test', '', ''].join('\r\n'));
      expect((await readResponse(secure)).status).toBe(200);
      raw.end();
      await eventually(() => idle(front));
      // a tunnel whose origin keeps its side open after the client's FIN: idle, then closed
      const tunnel = await connect(port, `tunnel.test:${echo.port}`);
      const seen = watch(track(tunnel.socket));
      tunnel.socket.write('ping');
      await eventually(() => seen.text() === 'ping');
      const tunnelFinAt = performance.now();
      tunnel.socket.end();
      expect((await seen.closed) - tunnelFinAt).toBeLessThan(500 + 2000);
      await eventually(() => echo.counts.ended === 1 && idle(front));
      await servesPlain(port);
    } finally {
      await echo.close();
    }
  });

  it.each([500, 1200])('answers 408 to a head sent a byte at a time, at clientHeadersTimeoutMs %i (Node alone checks every 30 s)', async (timeoutMs) => {
    subscribe();
    const { port } = await startFront({ clientHeadersTimeoutMs: timeoutMs });
    const socket = await rawConnect(port);
    const seen = watch(socket);
    const started = performance.now();
    socket.write('GET http://origin.test/ HTTP/1.1\r\nX-Slow: ');
    const trickle = setInterval(() => socket.write('a'), 100);
    const elapsed = (await seen.closed) - started;
    clearInterval(trickle);
    expect(seen.text()).toMatch(/^HTTP\/1\.1 408 /);
    expect(seen.text()).toContain('page CLIENT_HEADERS_TIMEOUT');
    expect(elapsed).toBeGreaterThanOrEqual(timeoutMs - 20);
    expect(elapsed).toBeLessThan(timeoutMs + 2000);
    expect(errors).toContain('CLIENT_HEADERS_TIMEOUT');
    await servesPlain(port);
  });

  it('answers 408 to a slow head inside intercepted HTTPS too', async () => {
    const { port } = await startFront({ clientHeadersTimeoutMs: 600 });
    const { secure } = await interceptedTls(port, 'intercepted.test');
    const seen = watch(secure);
    const started = performance.now();
    secure.write('GET / HTTP/1.1\r\nHost: intercepted.test\r\nX-Slow: ');
    const trickle = setInterval(() => secure.write('a'), 100);
    const elapsed = (await seen.closed) - started;
    clearInterval(trickle);
    expect(seen.text()).toMatch(/^HTTP\/1\.1 408 /);
    expect(elapsed).toBeLessThan(600 + 2000);
  });

  it('answers 431 to more header fields than maxHeaderCount (plain and intercepted), and passes a head at the count whole', async () => {
    subscribe();
    const fields = (n: number) => Array.from({ length: n }, (_, i) => `X-Field-${i}: ${i}`);
    const { port, seen } = await startFront({ maxHeaderCount: 100 });

    const over = await rawConnect(port);
    over.write(get('origin.test', fields(149))); // 150 fields with Host
    const refused = await readResponse(over);
    expect(refused.status).toBe(431);
    expect(refused.body).toBe('page CLIENT_TOO_MANY_HEADERS');
    expect(seen).toHaveLength(0);
    expect(errors).toContain('CLIENT_TOO_MANY_HEADERS');

    const at = await rawConnect(port);
    at.write(get('origin.test', fields(98), false)); // 100 fields with Host and Connection
    expect((await readResponse(at)).status).toBe(200);
    expect(seen.at(-1)).toEqual({ headerCount: 100, intercepted: false });

    const { secure } = await interceptedTls(port, 'intercepted.test');
    secure.write(['GET / HTTP/1.1', 'Host: intercepted.test', ...fields(149), '', ''].join('\r\n'));
    expect((await readResponse(secure)).status).toBe(431);
    expect(seen).toHaveLength(1);

    // the same 150 fields under a higher maxHeaderCount reach the handler, all of them
    const roomy = await startFront({ maxHeaderCount: 200 });
    const passed = await rawConnect(roomy.port);
    passed.write(get('origin.test', fields(148), false)); // 150 with Host and Connection
    expect((await readResponse(passed)).status).toBe(200);
    expect(roomy.seen.at(-1)?.headerCount).toBe(150);
  });

  it('caps connections per client address: 429 over maxConnectionsPerClient, closed unread from twice it, counted down on close', async () => {
    subscribe();
    const { front, port } = await startFront({ maxConnectionsPerClient: 10 });
    const sockets: net.Socket[] = [];
    const closed: Array<Promise<number>> = [];
    for (let i = 0; i < 300; i++) {
      const socket = await rawConnect(port);
      sockets.push(socket);
      closed.push(new Promise((resolve) => socket.once('close', () => resolve(performance.now()))));
    }
    // from the 21st on: closed without a byte read or written
    await Promise.all(closed.slice(20));
    await eventually(() => front.stats().clientConnections === 20);
    expect(errors.filter((code) => code === 'CLIENT_TOO_MANY_CONNECTIONS')).toHaveLength(280);

    for (const socket of sockets.slice(0, 10)) socket.write(get('origin.test'));
    for (const socket of sockets.slice(0, 10)) expect((await readResponse(socket)).status).toBe(200);
    for (const socket of sockets.slice(10, 20)) socket.write(get('origin.test'));
    for (const socket of sockets.slice(10, 20)) {
      const reply = await readResponse(socket);
      expect(reply.status).toBe(429);
      expect(reply.body).toBe('page CLIENT_TOO_MANY_CONNECTIONS');
      expect(reply.head.toLowerCase()).toContain('connection: close');
    }
    await Promise.all(closed.slice(10, 20));

    // a CONNECT over the cap is refused on its raw socket
    const tunnel = await connect(port, 'intercepted.test:443');
    track(tunnel.socket);
    expect(tunnel.status).toBe(429);
    expect(connects.some((event) => event.outcome === 'refused' && event.status === 429 && event.client.ip === '127.0.0.1')).toBe(true);

    // another client address is not this one's cap
    const other = await rawConnect(port, { localAddress: '127.0.0.2' });
    other.write(get('origin.test', [], false));
    expect((await readResponse(other)).status).toBe(200);

    // closing connections gives the room back
    for (const socket of sockets.slice(0, 10)) socket.destroy();
    await eventually(() => front.stats().clientConnections === 0);
    const again: net.Socket[] = [];
    for (let i = 0; i < 10; i++) again.push(await rawConnect(port));
    for (const socket of again) socket.write(get('origin.test'));
    for (const socket of again) expect((await readResponse(socket)).status).toBe(200);
  });

  it('counts an intercepted CONNECT once, not again for its decrypted socket', async () => {
    const { front, port } = await startFront({ maxConnectionsPerClient: 3 });
    for (let i = 0; i < 3; i++) {
      const { secure } = await interceptedTls(port, 'intercepted.test');
      secure.write(['GET / HTTP/1.1', 'Host: intercepted.test', '', ''].join('\r\n'));
      expect((await readResponse(secure)).status).toBe(200);
    }
    expect(front.stats().clientConnections).toBe(3);
    const fourth = await rawConnect(port);
    fourth.write(get('origin.test'));
    expect((await readResponse(fourth)).status).toBe(429);
  });
});

describe('CONNECT decisions', () => {
  it("writes the pipeline's page for a refused CONNECT and closes; publishes events.connect only for the front's own refusals", async () => {
    subscribe();
    const { port } = await startFront();
    const refused = await connect(port, 'refused.test:443');
    const closed = watch(track(refused.socket)).closed;
    expect(refused.status).toBe(403);
    expect(refused.head).toContain('x-dlp-incident: inc-1');
    await closed;
    await servesIntercepted(port);
    expect(connects).toHaveLength(0); // decided CONNECTs are the pipeline's to publish

    const fenced = await startFront({ allowedClients: ['10.0.0.0/8'] });
    const forbidden = await connect(fenced.port, 'intercepted.test:443');
    track(forbidden.socket);
    expect(forbidden.status).toBe(403);
    expect(connects).toEqual([expect.objectContaining({ outcome: 'refused', status: 403, host: 'intercepted.test:443', client: expect.objectContaining({ ip: '127.0.0.1' }) })]);
  });

  it('tunnels through openTunnel and keeps the code of the ProxyError it emits (a forbidden destination is a 403)', async () => {
    const echo = await startEcho();
    try {
      const opened: string[] = [];
      const { port } = await startFront(
        {},
        {
          openTunnel: (target) => {
            opened.push(`${target.host}:${target.port}`);
            if (target.port !== echo.port) {
              const socket = new net.Socket();
              process.nextTick(() => socket.destroy(new ProxyError('UPSTREAM_DESTINATION_FORBIDDEN', 'the proxy itself')));
              return socket;
            }
            return net.connect({ host: '127.0.0.1', port: target.port });
          },
        },
      );
      const forbidden = await connect(port, `tunnel.test:${port}`);
      track(forbidden.socket);
      expect(forbidden.status).toBe(403);
      expect(forbidden.head).toContain('x-code: UPSTREAM_DESTINATION_FORBIDDEN');

      const tunnel = await connect(port, `tunnel.test:${echo.port}`);
      const seen = watch(track(tunnel.socket));
      tunnel.socket.write('through');
      await eventually(() => seen.text() === 'through');
      expect(opened).toEqual([`tunnel.test:${port}`, `tunnel.test:${echo.port}`]);
    } finally {
      await echo.close();
    }
  });
});
