// OriginClient.open() through undici against origins that misbehave on purpose: each test is what
// a hostile or broken origin does to a proxy, and what must hold then (a named failure, no hang,
// no unbounded buffering, the connection pool still serving).
import http from 'node:http';
import net from 'node:net';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { ProxyError } from '../../src/core/errors.js';
import { OriginClient, type OriginResponse, type OriginTarget, type UpstreamOptions } from '../../src/upstream/index.js';

const options = (over: Partial<UpstreamOptions> = {}): UpstreamOptions => ({
  extraCaFiles: [],
  rejectUnauthorized: true,
  connectTimeoutMs: 2_000,
  headersTimeoutMs: 2_000,
  idleTimeoutMs: 2_000,
  keepAliveMs: 5_000,
  maxSocketsPerHost: 8,
  allowDestinations: [],
  denyDestinations: [],
  ...over,
});

interface RawOrigin {
  port: number;
  connections: number;
  /** bytes the origin managed to hand to its sockets (write() accepted) */
  written: number;
  close(): Promise<void>;
}

/** A TCP origin that hands each request head (up to the blank line) to `answer`. */
async function rawOrigin(answer: (socket: net.Socket, head: string, origin: RawOrigin) => void): Promise<RawOrigin> {
  const sockets = new Set<net.Socket>();
  const origin: RawOrigin = { port: 0, connections: 0, written: 0, close: async () => undefined };
  const server = net.createServer((socket) => {
    origin.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffered = '';
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buffered.slice(0, end);
      buffered = buffered.slice(end + 4);
      answer(socket, head, origin);
    };
    socket.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin.port = (server.address() as net.AddressInfo).port;
  origin.close = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return origin;
}

const clients: OriginClient[] = [];
const origins: RawOrigin[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  for (const o of origins.splice(0)) await o.close();
});

function client(over: Partial<UpstreamOptions> = {}): OriginClient {
  const c = new OriginClient(options(over), { listensOffLoopback: false });
  clients.push(c);
  return c;
}

async function origin(answer: Parameters<typeof rawOrigin>[0]): Promise<RawOrigin & { target: OriginTarget }> {
  const o = await rawOrigin(answer);
  origins.push(o);
  return Object.assign(o, { target: { scheme: 'http' as const, host: '127.0.0.1', port: o.port } });
}

/** A GET as the pipeline sends one: no body, dispatched at once, no request Writable made. */
function get(c: OriginClient, target: OriginTarget, path = '/', headers: string[] = []) {
  return c.open(target, { method: 'GET', path, headers: ['Host', `${target.host}:${target.port}`, ...headers] }, null);
}

async function failureOf(promise: Promise<unknown>): Promise<ProxyError> {
  const outcome = await promise.then(
    () => new Error('expected a failure'),
    (err: unknown) => err,
  );
  expect(outcome).toBeInstanceOf(ProxyError);
  return outcome as ProxyError;
}

/** The response body's fate: its bytes, or the error it ended with (and whether 'aborted' came first). */
function bodyOutcome(res: OriginResponse): Promise<{ bytes: number; error?: ProxyError; aborted: boolean }> {
  return new Promise((resolve) => {
    let bytes = 0;
    let aborted = false;
    const body = res.body();
    body.on('aborted', () => (aborted = true));
    body.on('data', (chunk: Buffer) => (bytes += chunk.length));
    body.on('end', () => resolve({ bytes, aborted }));
    body.on('error', (error) => resolve({ bytes, error: error as ProxyError, aborted }));
  });
}

const ok = (body: string, extra = '') => `HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;

describe('OriginClient.open() (undici) against hostile origins', () => {
  it('an origin that hangs after the head: the body idle timeout names the moment, the response says aborted', async () => {
    const o = await origin((socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nfirst bytes'));
    const res = await get(client({ idleTimeoutMs: 300 }), o.target).response;
    expect(res.statusCode).toBe(200);
    const outcome = await bodyOutcome(res);
    expect(outcome.bytes).toBe('first bytes'.length);
    expect(outcome.aborted).toBe(true);
    expect(outcome.error?.code).toBe('UPSTREAM_IDLE_TIMEOUT');
  });

  it('an origin that never answers: UPSTREAM_HEADERS_TIMEOUT, counted from open()', async () => {
    const o = await origin(() => undefined);
    const started = performance.now();
    const error = await failureOf(get(client({ headersTimeoutMs: 300, idleTimeoutMs: 10_000 }), o.target).response);
    expect(error.code).toBe('UPSTREAM_HEADERS_TIMEOUT');
    // the 300 ms of the option, not the idle timeout nor undici's own 300 s (generous: CI under load)
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(performance.now() - started).toBeLessThan(8_000);
  });

  it('a malformed head is a read failure, and the next request to a sane origin still works', async () => {
    const heads = ['HTTP/1.1 200 OK\r\nBroken Header Line\r\n\r\n', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello', 'NOT-HTTP garbage\r\n\r\n', 'HTTP/1.1 abc OK\r\n\r\n'];
    const c = client();
    for (const head of heads) {
      const o = await origin((socket) => socket.write(head));
      const error = await failureOf(get(c, o.target).response);
      expect(error.code, head).toBe('UPSTREAM_READ_FAILED');
    }
    const sane = await origin((socket) => socket.write(ok('fine')));
    const res = await get(c, sane.target).response;
    expect((await bodyOutcome(res)).bytes).toBe(4);
  });

  it('an origin that closes mid-body: aborted, then UPSTREAM_READ_FAILED; never a complete-looking end', async () => {
    const o = await origin((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n');
      socket.end(Buffer.alloc(1000, 1));
    });
    const res = await get(client(), o.target).response;
    const outcome = await bodyOutcome(res);
    expect(outcome.bytes).toBe(1000);
    expect(outcome.aborted).toBe(true);
    expect(outcome.error?.code).toBe('UPSTREAM_READ_FAILED');
  });

  it('a chunked body cut before its last chunk fails the same way', async () => {
    const o = await origin((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n');
      setTimeout(() => socket.destroy(), 50);
    });
    const outcome = await bodyOutcome(await get(client(), o.target).response);
    expect(outcome.bytes).toBe(5);
    expect(outcome.error?.code).toBe('UPSTREAM_READ_FAILED');
  });

  it('takeWhole: a body that came with its head is taken at once; one still arriving, or cut short, only as a stream', async () => {
    const whole = await origin((socket) => socket.write(ok('small and complete')));
    const res = await get(client(), whole.target).response;
    await expect.poll(() => res.takeWhole()?.toString()).toBe('small and complete');
    const partial = await origin((socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf'));
    const open = await get(client(), partial.target).response;
    await new Promise((r) => setTimeout(r, 50));
    expect(open.takeWhole()).toBeUndefined();
    open.destroy();
    const cut = await origin((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n');
      setTimeout(() => socket.destroy(), 20);
    });
    const failed = await get(client(), cut.target).response;
    const outcome = await bodyOutcome(failed);
    expect(outcome.error?.code).toBe('UPSTREAM_READ_FAILED');
    expect(failed.takeWhole()).toBeUndefined();
  });

  it('a body nobody streams yet is held to a high-water mark: the origin pauses, then body() reads all of it in order', async () => {
    const total = 64 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024);
    const o = await origin((socket, _head, self) => {
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${total}\r\n\r\n`);
      const pump = () => {
        while (self.written < total) {
          // each chunk says where it sits, so that a reorder or a loss shows
          chunk.writeUInt32BE(self.written / chunk.length, 0);
          self.written += chunk.length;
          if (!socket.write(Buffer.from(chunk))) return void socket.once('drain', pump);
        }
      };
      pump();
    });
    const res = await get(client(), o.target).response;
    await new Promise((resolve) => setTimeout(resolve, 300));
    // not read, not streamed: the origin's writes stop at what the sockets' buffers take (a few MiB)
    expect(o.written).toBeLessThan(16 * 1024 * 1024);
    expect(res.takeWhole()).toBeUndefined();
    const parts: Buffer[] = [];
    for await (const part of res.body()) parts.push(part as Buffer);
    const body = Buffer.concat(parts);
    expect(body.length).toBe(total);
    for (let at = 0; at < total; at += chunk.length) expect(body.readUInt32BE(at)).toBe(at / chunk.length);
  });

  it('an origin that fails before anyone streams the body: body() then says aborted and fails with the code of the moment', async () => {
    const o = await origin((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\npartial');
      setTimeout(() => socket.destroy(), 20);
    });
    const res = await get(client(), o.target).response;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(res.takeWhole()).toBeUndefined();
    const outcome = await bodyOutcome(res);
    expect(outcome.bytes).toBe('partial'.length);
    expect(outcome.aborted).toBe(true);
    expect(outcome.error?.code).toBe('UPSTREAM_READ_FAILED');
  });

  it('a body taken whole is taken once: body() after it is empty and ends, and dropping the response keeps its connection', async () => {
    let closed = 0;
    const o = await origin((socket) => {
      socket.once('close', () => closed++);
      socket.write(ok('once'));
    });
    const c = client();
    const res = await get(c, o.target).response;
    await expect.poll(() => res.takeWhole()?.toString()).toBe('once');
    expect(res.takeWhole()).toBeUndefined();
    expect(await bodyOutcome(res)).toEqual({ bytes: 0, aborted: false });
    res.destroy();
    expect((await bodyOutcome(await get(c, o.target).response)).bytes).toBe(4);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(closed).toBe(0);
  });

  it('a slow reader pauses the origin: its writes stop well before the body is sent, and resume on reading', async () => {
    const total = 64 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 7);
    const o = await origin((socket, _head, self) => {
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${total}\r\n\r\n`);
      const pump = () => {
        while (self.written < total) {
          self.written += chunk.length;
          if (!socket.write(chunk)) return void socket.once('drain', pump);
        }
      };
      pump();
    });
    const res = await get(client(), o.target).response;
    await new Promise((resolve) => setTimeout(resolve, 300));
    // socket buffers both sides plus the Readable's high-water mark: a few MiB at most
    expect(o.written).toBeLessThan(16 * 1024 * 1024);
    const outcome = await bodyOutcome(res);
    expect(outcome.bytes).toBe(total);
    expect(o.written).toBe(total);
  });

  it('a response far larger than the heap budget streams through without being held', async () => {
    const total = 256 * 1024 * 1024;
    const chunk = Buffer.alloc(256 * 1024, 3);
    const o = await origin((socket) => {
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${total}\r\n\r\n`);
      let sent = 0;
      const pump = () => {
        while (sent < total) {
          sent += chunk.length;
          if (!socket.write(chunk)) return void socket.once('drain', pump);
        }
      };
      pump();
    });
    const before = process.memoryUsage();
    let peak = 0;
    const res = await get(client(), o.target).response;
    let bytes = 0;
    for await (const part of res.body()) {
      bytes += (part as Buffer).length;
      if ((bytes & 0xffffff) < (part as Buffer).length) {
        const now = process.memoryUsage();
        peak = Math.max(peak, now.arrayBuffers - before.arrayBuffers, now.heapUsed - before.heapUsed);
      }
    }
    expect(bytes).toBe(total);
    expect(peak).toBeLessThan(64 * 1024 * 1024);
  });

  it('reuses connections: many requests, few connections (keep-alive pool per origin)', async () => {
    const o = await origin((socket) => socket.write(ok('pooled')));
    // one socket answers one head at a time; the raw origin answers every head it sees
    const c = client({ maxSocketsPerHost: 4 });
    for (let i = 0; i < 20; i++) expect((await bodyOutcome(await get(c, o.target).response)).bytes).toBe(6);
    await Promise.all(Array.from({ length: 20 }, async () => expect((await bodyOutcome(await get(c, o.target).response)).bytes).toBe(6)));
    expect(o.connections).toBeLessThanOrEqual(4);
  });

  it('upstream.keepAliveMs: an idle pooled connection is closed after it, the next request dials anew', async () => {
    const closed: number[] = [];
    const o = await origin((socket) => {
      socket.once('close', () => closed.push(performance.now()));
      socket.write(ok('idle'));
    });
    const c = client({ keepAliveMs: 200 });
    expect((await bodyOutcome(await get(c, o.target).response)).bytes).toBe(4);
    const idleSince = performance.now();
    // closed at keepAliveMs; the origin's 'close' follows on its own turn (later on a loaded
    // machine), yet well before undici's own 4 s
    await expect.poll(() => closed, { timeout: 3000 }).toHaveLength(1);
    expect(closed[0]! - idleSince).toBeGreaterThanOrEqual(150);
    expect(closed[0]! - idleSince).toBeLessThan(3000);
    expect((await bodyOutcome(await get(c, o.target).response)).bytes).toBe(4);
    expect(o.connections).toBe(2);
  });

  it('an abandoned response drops its connection instead of returning it to the pool half-read', async () => {
    const served = new Set<net.Socket>();
    const o = await origin((socket) => {
      served.add(socket);
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: 10000000\r\n\r\n${'x'.repeat(1000)}`);
    });
    const c = client();
    const first = await get(c, o.target).response;
    const [firstSocket] = served;
    const dropped = new Promise((resolve) => firstSocket!.once('close', resolve));
    first.destroy();
    await dropped;
    const second = await get(c, o.target).response;
    expect(second.statusCode).toBe(200);
    second.destroy();
    // the second head came on another connection (undici may also open a spare one after an abort)
    expect(served.size).toBe(2);
  });

  it('never follows a redirect, not even one to a guarded address (the 302 is the answer)', async () => {
    let ownConnections = 0;
    const own = net.createServer((s) => {
      ownConnections++;
      s.destroy();
    });
    await new Promise<void>((resolve) => own.listen(0, '127.0.0.1', resolve));
    try {
      const ownPort = (own.address() as net.AddressInfo).port;
      const c = client();
      c.addOwnListener('admin', '127.0.0.1', ownPort);
      for (const location of [`http://127.0.0.1:${ownPort}/metrics`, 'http://169.254.169.254/latest/meta-data/']) {
        const o = await origin((socket) => socket.write(`HTTP/1.1 302 Found\r\nLocation: ${location}\r\nContent-Length: 0\r\n\r\n`));
        const res = await get(c, o.target).response;
        expect(res.statusCode).toBe(302);
        expect(res.headers.location).toBe(location);
        res.body().resume();
      }
      expect(ownConnections).toBe(0);
    } finally {
      await new Promise<void>((resolve) => own.close(() => resolve()));
    }
  });

  it('a reason phrase no client may be sent (DEL, a control) becomes the standard phrase of its status; one in the grammar stays', async () => {
    // undici decodes the phrase as UTF-8: a lone obs-text byte arrives as U+FFFD, which node cannot write either
    const phrases: Array<[string, string]> = [['Ok\x7f', 'OK'], ['O\x01k', 'OK'], ['\x7f', 'OK'], ['caf\xe9', 'OK'], ['Fine\tby me', 'Fine\tby me'], ['', '']];
    for (const [sent, expected] of phrases) {
      const o = await origin((socket) => socket.write(Buffer.from(`HTTP/1.1 200 ${sent}\r\nContent-Length: 2\r\n\r\nok`, 'latin1')));
      const res = await get(client(), o.target).response;
      expect(res.statusMessage, JSON.stringify(sent)).toBe(expected);
      expect((await bodyOutcome(res)).bytes).toBe(2);
    }
  });

  it('interim 1xx responses are skipped; the final head keeps raw case, order, repeats and the peer address', async () => {
    const o = await origin((socket) =>
      socket.write('HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 201 Made\r\nX-First: 1\r\nset-cookie: a=1\r\nSet-Cookie: b=2\r\nX-Multi: a\r\nX-Multi: b\r\nContent-Type: text/plain\r\nContent-Type: text/html\r\nContent-Length: 2\r\n\r\nok'),
    );
    const res = await get(client(), o.target).response;
    expect(res.statusCode).toBe(201);
    expect(res.statusMessage).toBe('Made');
    expect(res.rawHeaders).toEqual(['X-First', '1', 'set-cookie', 'a=1', 'Set-Cookie', 'b=2', 'X-Multi', 'a', 'X-Multi', 'b', 'Content-Type', 'text/plain', 'Content-Type', 'text/html', 'Content-Length', '2']);
    expect(res.headers).toMatchObject({ 'set-cookie': ['a=1', 'b=2'], 'x-multi': 'a, b', 'content-type': 'text/plain' });
    expect(res.remoteAddress).toBe('127.0.0.1');
    expect((await bodyOutcome(res)).bytes).toBe(2);
  });

  it('sends the request head as given (no Expect, one Host), a streamed body with backpressure, and times out a stalled upload', async () => {
    const heads: string[] = [];
    const o = await origin((socket, head) => {
      heads.push(head);
      // reads nothing of the body: our writes must stall, then the idle timeout names it
      socket.pause();
    });
    const c = client({ idleTimeoutMs: 400 });
    const { request, response } = c.open(o.target, { method: 'POST', path: '/up', headers: ['Host', `127.0.0.1:${o.port}`, 'Expect', '100-continue', 'X-Case', 'Kept'] });
    let pushed = 0;
    const source = new Readable({
      read() {
        pushed += 65536;
        this.push(Buffer.alloc(65536));
      },
    });
    source.pipe(request);
    const error = await failureOf(response);
    expect(error.code).toBe('UPSTREAM_IDLE_TIMEOUT');
    expect(pushed).toBeLessThan(32 * 1024 * 1024);
    expect(heads[0]).toMatch(/^POST \/up HTTP\/1\.1\r\n/);
    expect(heads[0]).toContain('X-Case: Kept');
    expect(heads[0]).not.toMatch(/expect/i);
    source.destroy();
  });

  it('a repeated Host is the client’s bad request, refused before any connection', async () => {
    const o = await origin((socket) => socket.write(ok('no')));
    const error = await failureOf(get(client(), o.target, '/', ['Host', 'other.example']).response);
    expect(error.code).toBe('CLIENT_BAD_REQUEST');
    expect(o.connections).toBe(0);
  });

  it('a TLS origin whose handshake never completes: UPSTREAM_CONNECT_TIMEOUT', async () => {
    const o = await origin(() => undefined); // accepts TCP, never speaks TLS
    const error = await failureOf(get(client({ connectTimeoutMs: 300, headersTimeoutMs: 5_000 }), { ...o.target, scheme: 'https' }).response);
    expect(error.code).toBe('UPSTREAM_CONNECT_TIMEOUT');
  });

  it('a TLS origin with an untrusted certificate: UPSTREAM_TLS_FAILED (verification as before)', async () => {
    const { makeTestPki } = await import('../support/pki.js');
    const pki = makeTestPki();
    const fs = await import('node:fs');
    const https = await import('node:https');
    const server = https.createServer({ cert: fs.readFileSync(pki.serverCert), key: fs.readFileSync(pki.serverKey) }, (_req, res) => res.end('secret'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const target: OriginTarget = { scheme: 'https', host: 'localhost', port: (server.address() as net.AddressInfo).port };
      expect((await failureOf(get(client(), target).response)).code).toBe('UPSTREAM_TLS_FAILED');
      const trusting = await get(client({ extraCaFiles: [pki.caCert] }), target).response;
      expect(trusting.statusCode).toBe(200);
      expect((await bodyOutcome(trusting)).bytes).toBe(6);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      pki.cleanup();
    }
  });

  it('a body held whole goes out with the head in one write, with nothing piped or ended by the caller', async () => {
    const body = Buffer.from('card 4111 1111 1111 1111\n'.repeat(600));
    const reads: Buffer[] = [];
    const server = net.createServer((socket) => {
      socket.on('error', () => undefined);
      socket.on('data', (chunk: Buffer) => {
        reads.push(chunk);
        if (Buffer.concat(reads).length >= body.length) socket.end(ok('done'));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as net.AddressInfo).port;
      const target: OriginTarget = { scheme: 'http', host: '127.0.0.1', port };
      const exchange = client().open(target, { method: 'POST', path: '/up', headers: ['Host', `127.0.0.1:${port}`, 'Content-Length', String(body.length)] }, body);
      const res = await exchange.response;
      expect((await bodyOutcome(res)).bytes).toBe(4);
      const raw = Buffer.concat(reads);
      expect(raw.toString('latin1').startsWith('POST /up HTTP/1.1\r\n')).toBe(true);
      expect(raw.subarray(raw.indexOf('\r\n\r\n') + 4).equals(body)).toBe(true);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('a body held whole to an origin that answers and closes before reading it: the answer comes through, the pool still serves', async () => {
    const o = await origin((socket, _head, self) => {
      self.written++;
      socket.end('HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    });
    const c = client();
    const body = Buffer.alloc(2 * 1024 * 1024, 0x61);
    const exchange = c.open(o.target, { method: 'POST', path: '/', headers: ['Host', 'x', 'Content-Length', String(body.length)] }, body);
    const outcome = await exchange.response.then(
      (res) => res.statusCode,
      (err: ProxyError) => err.code,
    );
    expect([413, 'UPSTREAM_WRITE_FAILED', 'UPSTREAM_READ_FAILED']).toContain(outcome);
    const after = await get(c, (await origin((socket) => socket.end(ok('fine')))).target).response;
    expect(after.statusCode).toBe(200);
    expect((await bodyOutcome(after)).bytes).toBe(4);
  });

  it('a body held whole whose exchange is abandoned before the head: the response fails, nothing hangs', async () => {
    const o = await origin(() => undefined); // reads, never answers
    const c = client();
    const exchange = c.open(o.target, { method: 'POST', path: '/', headers: ['Host', 'x', 'Content-Length', '5'] }, Buffer.from('hello'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    exchange.abandon();
    const error = await failureOf(exchange.response);
    expect(error.code).toBe('UPSTREAM_WRITE_FAILED');
  });

  it('a GET without a body: sent at once with no Content-Length or chunked framing; abandoned mid-body, the origin connection is dropped and the pool still serves', async () => {
    const heads: string[] = [];
    let cut = 0;
    const o = await origin((socket, head) => {
      heads.push(head);
      if (head.startsWith('GET /slow')) {
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\npartial');
        socket.once('close', () => cut++);
      } else socket.write(ok('quick'));
    });
    const c = client();
    const slow = get(c, o.target, '/slow');
    const res = await slow.response;
    await new Promise<void>((resolve) => res.body().once('data', () => resolve()));
    slow.abandon();
    await expect.poll(() => cut).toBe(1);
    expect(heads[0]).not.toMatch(/content-length|transfer-encoding/i);
    const after = await get(c, o.target, '/quick').response;
    expect((await bodyOutcome(after)).bytes).toBe(5);
  });

  it('a request the caller ends without writing (a streamed body that turned out empty) goes out without a body', async () => {
    const o = await origin((socket, head) => socket.write(ok(head.split('\r\n')[0]!)));
    const exchange = client().open(o.target, { method: 'GET', path: '/ended', headers: ['Host', 'x'] });
    exchange.request.end();
    const res = await exchange.response;
    expect(res.statusCode).toBe(200);
    expect((await bodyOutcome(res)).bytes).toBe('GET /ended HTTP/1.1'.length);
  });

  it('a node:http origin round trip: POST body byte for byte, content-length kept', async () => {
    const seen: { headers: http.IncomingHttpHeaders; bytes: number }[] = [];
    const server = http.createServer((req, res) => {
      let bytes = 0;
      req.on('data', (c: Buffer) => (bytes += c.length));
      req.on('end', () => {
        seen.push({ headers: req.headers, bytes });
        res.end(String(bytes));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const target: OriginTarget = { scheme: 'http', host: '127.0.0.1', port: (server.address() as net.AddressInfo).port };
      const body = Buffer.alloc(100_000, 9);
      const { request, response } = client().open(target, { method: 'POST', path: '/', headers: ['Host', 'x', 'Content-Length', String(body.length)] });
      Readable.from([body.subarray(0, 50_000), body.subarray(50_000)]).pipe(request);
      const res = await response;
      expect((await bodyOutcome(res)).bytes).toBe(6);
      expect(seen[0]).toMatchObject({ bytes: 100_000, headers: { 'content-length': '100000' } });
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('OriginClient.open(): a kept-alive connection the origin closed just as it was reused', () => {
  interface Seen {
    connection: number;
    /** requests on that connection so far, this one included */
    nth: number;
    method: string;
    body: string;
  }

  /** An origin that reads whole requests (Content-Length bodies) and resets, answers or ignores each as `act` says. */
  async function resettingOrigin(act: (seen: Seen, all: Seen[]) => 'reset' | 'answer' | 'hang'): Promise<{ target: OriginTarget; seen: Seen[]; close(): Promise<void> }> {
    const seen: Seen[] = [];
    let connections = 0;
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      const connection = ++connections;
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
      let nth = 0;
      let buffered = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        for (;;) {
          const end = buffered.indexOf('\r\n\r\n');
          if (end < 0) return;
          const head = buffered.subarray(0, end).toString('latin1');
          const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
          if (buffered.length < end + 4 + length) return;
          const request: Seen = { connection, nth: ++nth, method: head.slice(0, head.indexOf(' ')), body: buffered.subarray(end + 4, end + 4 + length).toString('latin1') };
          buffered = buffered.subarray(end + 4 + length);
          seen.push(request);
          const action = act(request, seen);
          if (action === 'hang') continue;
          if (action === 'reset') return void socket.resetAndDestroy();
          const answer = ok(`answer ${seen.length}`);
          // a HEAD answer has the head alone (RFC 9110 §9.3.2)
          socket.write(request.method === 'HEAD' ? answer.slice(0, answer.indexOf('\r\n\r\n') + 4) : answer);
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    return {
      target: { scheme: 'http', host: '127.0.0.1', port },
      seen,
      close: async () => {
        for (const s of sockets) s.destroy();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      },
    };
  }

  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
  });
  async function staleOrigin(act: Parameters<typeof resettingOrigin>[0]) {
    const o = await resettingOrigin(act);
    closers.push(o.close);
    return o;
  }
  /** every second request on a connection meets a reset, as an origin whose idle timeout just fired */
  const secondOnAConnection = (s: Seen) => (s.nth === 2 ? 'reset' : 'answer');
  const send = (c: OriginClient, target: OriginTarget, method: string, body: Buffer | null) =>
    c.open(target, { method, path: '/x', headers: ['Host', 'origin.test', ...(body ? ['Content-Length', String(body.length)] : [])] }, body);

  // one connection per origin: the second request takes the pooled one (more would let undici
  // dial a new one while the first is still being returned)
  const pooled = () => client({ maxSocketsPerHost: 1 });

  it.each(['GET', 'HEAD', 'OPTIONS', 'DELETE', 'PUT'])('a %s on a reused connection goes once more, on a new one, and is answered; the origin saw it on both', async (method) => {
    const o = await staleOrigin(secondOnAConnection);
    const c = pooled();
    // a PUT's body is held whole (the pipeline gives it as a Buffer): it goes again byte for byte
    const body = method === 'PUT' ? Buffer.from('quarterly figures\n'.repeat(200)) : null;
    // a GET first leaves a kept-alive connection (undici keeps none after a HEAD)
    expect((await get(c, o.target).response).statusCode).toBe(200);
    const again = await send(c, o.target, method, body).response;
    expect(again.statusCode).toBe(200);
    await bodyOutcome(again);
    expect(o.seen.map((s) => [s.connection, s.nth, s.method])).toEqual([[1, 1, 'GET'], [1, 2, method], [2, 1, method]]);
    expect(o.seen.slice(1).every((s) => s.body === (body?.toString('latin1') ?? ''))).toBe(true);
  });

  it('a POST is never sent twice (RFC 9110 §9.2.2): the reset fails it as a read failure, and the pool still serves', async () => {
    const o = await staleOrigin(secondOnAConnection);
    const c = pooled();
    const body = Buffer.from('order 77, pay now');
    expect((await send(c, o.target, 'POST', body).response).statusCode).toBe(200);
    const error = await failureOf(send(c, o.target, 'POST', body).response);
    expect(error.code).toBe('UPSTREAM_READ_FAILED');
    expect(o.seen.map((s) => [s.connection, s.nth])).toEqual([[1, 1], [1, 2]]);
    expect((await send(c, o.target, 'POST', body).response).statusCode).toBe(200);
  });

  it('a client that leaves while the retry waits for its answer: the exchange fails at once and nothing is sent a third time', async () => {
    // connection 1 answers, then resets; the retry's connection never answers
    const o = await staleOrigin((s) => (s.connection === 1 ? (s.nth === 1 ? 'answer' : 'reset') : 'hang'));
    const c = pooled();
    expect((await get(c, o.target).response).statusCode).toBe(200);
    const exchange = get(c, o.target, '/slow');
    await expect.poll(() => o.seen.map((s) => [s.connection, s.nth])).toEqual([[1, 1], [1, 2], [2, 1]]);
    exchange.abandon();
    expect((await failureOf(exchange.response)).code).toBe('UPSTREAM_WRITE_FAILED');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(o.seen).toHaveLength(3);
    // and the pool still serves (a new connection: the hanging one went with the abandoned exchange)
    const after = staleOrigin(() => 'answer');
    expect((await get(c, (await after).target).response).statusCode).toBe(200);
  });

  it('a GET that fails on a fresh connection is not sent again: a broken origin gets no second load', async () => {
    const o = await staleOrigin(() => 'reset');
    const error = await failureOf(get(client(), o.target).response);
    expect(error.code).toBe('UPSTREAM_READ_FAILED');
    expect(o.seen).toHaveLength(1);
  });

  it('a retry is not retried: an origin that resets everything after its first answer fails the GET after two tries', async () => {
    const o = await staleOrigin((_s, all) => (all.length === 1 ? 'answer' : 'reset'));
    const c = pooled();
    expect((await get(c, o.target).response).statusCode).toBe(200);
    const error = await failureOf(get(c, o.target).response);
    expect(error.code).toBe('UPSTREAM_READ_FAILED');
    expect(o.seen).toHaveLength(3);
  });

  it('a PUT whose body streams (not held) cannot be sent again: it fails, the origin saw it once more only', async () => {
    const o = await staleOrigin(secondOnAConnection);
    const c = pooled();
    expect((await get(c, o.target).response).statusCode).toBe(200);
    const exchange = c.open(o.target, { method: 'PUT', path: '/x', headers: ['Host', 'origin.test', 'Content-Length', '6'] });
    Readable.from([Buffer.from('stream')]).pipe(exchange.request);
    const error = await failureOf(exchange.response);
    expect(error.code).toBe('UPSTREAM_READ_FAILED');
    expect(o.seen.map((s) => [s.connection, s.nth, s.method])).toEqual([[1, 1, 'GET'], [1, 2, 'PUT']]);
  });
});
