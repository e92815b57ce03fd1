// No reaching inside (issue 11 item 7): through the proxy port a client does not reach the admin
// listener, the built-in ICAP service, the proxy itself (under any name or address form) or the
// link-local metadata address; denyDestinations refuses a reachable origin; a loopback origin
// still works by default. Then OriginClient directly: requests, upgrades and CONNECT tunnels
// refused before any connection is made. Real sockets on 127.0.0.1, port 0.
import diagnostics from 'node:diagnostics_channel';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ProxyError } from '../../src/core/errors.js';
import { OriginClient, type UpstreamOptions } from '../../src/upstream/index.js';
import { startOrigin, type Origin } from '../support/origin.js';
import { proxyRequest, type Reply } from '../support/proxy-client.js';
import { proxyErrorOf } from '../support/proxy-error.js';
import { startTestProxy, tempCaDir, type TestProxy } from '../support/proxy-harness.js';

/** Remote ports of every client socket this process connects (http agents, net.connect). */
const connectedPorts: number[] = [];
const onClientSocket = (message: unknown) => {
  const { socket } = message as { socket: net.Socket };
  socket.once('connect', () => connectedPorts.push(socket.remotePort ?? 0));
};
const connectsTo = (port: number) => connectedPorts.filter((p) => p === port).length;

const firstExternalIpv4 = Object.values(os.networkInterfaces())
  .flatMap((infos) => infos ?? [])
  .find((info) => info.family === 'IPv4' && !info.internal)?.address;

function expectForbidden(reply: Reply): void {
  expect(reply.status).toBe(403);
  expect(reply.headers['content-type']).toMatch(/^application\/json/);
  expect(JSON.parse(reply.body.toString('utf8'))).toMatchObject({ error: 'UPSTREAM_DESTINATION_FORBIDDEN', status: 403 });
}

const json = { accept: 'application/json' };

describe('destination guard through the proxy port', () => {
  const caDir = tempCaDir();
  let proxy: TestProxy;
  let origin: Origin;
  let adminPort: number;
  let icapPort: number;

  beforeAll(async () => {
    diagnostics.subscribe('net.client.socket', onClientSocket);
    origin = await startOrigin();
    // no incident store (its thread costs each start a second on a loaded machine): nothing here reads it
    proxy = await startTestProxy({ admin: { enabled: true, port: 0 }, icapServer: { enabled: true, port: 0 }, incidents: { enabled: false } }, { caDir });
    adminPort = proxy.app.adminPort!;
    icapPort = proxy.app.icapServerPort!;
  });
  afterAll(async () => {
    diagnostics.unsubscribe('net.client.socket', onClientSocket);
    await proxy?.close();
    await origin?.close();
    fs.rmSync(caDir, { recursive: true, force: true });
  });

  it('refuses the admin listener (/metrics) with our 403 page, and never connects to it', async () => {
    const before = connectsTo(adminPort);
    for (const host of ['127.0.0.1', 'localhost', '[::ffff:127.0.0.1]', '0.0.0.0']) {
      expectForbidden(await proxyRequest(proxy.port, `http://${host}:${adminPort}/metrics`, { headers: json }));
    }
    const html = await proxyRequest(proxy.port, `http://127.0.0.1:${adminPort}/metrics`);
    expect(html.status).toBe(403);
    expect(html.headers['content-type']).toMatch(/^text\/html/);
    expect(html.body.toString()).not.toMatch(/dlp_proxy_/);
    expect(connectsTo(adminPort)).toBe(before);
  });

  it('refuses the built-in ICAP service', async () => {
    const before = connectsTo(icapPort);
    for (const host of ['127.0.0.1', 'localhost', '127.9.9.9']) {
      expectForbidden(await proxyRequest(proxy.port, `http://${host}:${icapPort}/dlp`, { method: 'POST', body: 'x', headers: json }));
    }
    expect(connectsTo(icapPort)).toBe(before);
  });

  it.each([
    ['127.0.0.1'],
    ['localhost'],
    ['0.0.0.0'],
    ['[::ffff:127.0.0.1]'],
    ['[::ffff:7f00:1]'],
    ['[::1]'],
    ['[::]'],
    // not an IPv4 literal to the front (a name), but the resolver reads it as 127.0.0.1 (inet_aton)
    ['0x7f.0.0.1'],
    ...(firstExternalIpv4 ? [[firstExternalIpv4]] : []),
  ])('refuses the proxy\'s own port as %s: the only connection to it is the client\'s', async (host) => {
    const before = connectsTo(proxy.port);
    expectForbidden(await proxyRequest(proxy.port, `http://${host}:${proxy.port}/loop`, { headers: json }));
    expect(connectsTo(proxy.port)).toBe(before + 1);
  });

  it('refuses the shorthand 127.1 (not a valid host for the front) without connecting', async () => {
    const before = connectsTo(proxy.port);
    const reply = await proxyRequest(proxy.port, `http://127.1:${proxy.port}/`, { headers: json });
    expect(reply.status).toBeGreaterThanOrEqual(400);
    expect(reply.status).toBeLessThan(500);
    expect(connectsTo(proxy.port)).toBe(before + 1);
  });

  it('refuses an upgrade (WebSocket) to the admin listener', async () => {
    const before = connectsTo(adminPort);
    const socket = net.connect(proxy.port, '127.0.0.1');
    socket.write(
      `GET http://127.0.0.1:${adminPort}/ws HTTP/1.1\r\nHost: 127.0.0.1:${adminPort}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
        `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
    );
    const answer = await new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (d) => (text += d.toString()));
      socket.on('close', () => resolve(text));
    });
    expect(answer).toMatch(/^HTTP\/1\.1 403 /);
    expect(connectsTo(adminPort)).toBe(before);
  });

  it('refuses the cloud metadata address at once, not after a connect timeout', async () => {
    const started = performance.now();
    expectForbidden(await proxyRequest(proxy.port, 'http://169.254.169.254/latest/meta-data/iam/security-credentials/', { headers: json }));
    expectForbidden(await proxyRequest(proxy.port, 'http://[fe80::1]/', { headers: json }));
    expectForbidden(await proxyRequest(proxy.port, 'http://[::ffff:169.254.169.254]/', { headers: json }));
    // a connect attempt would wait for upstream.connectTimeoutMs (10 s): loose for a loaded CI machine
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(connectsTo(80)).toBe(0);
  });

  it('logs each refusal with its code', async () => {
    await proxyRequest(proxy.port, `http://127.0.0.1:${adminPort}/metrics`);
    await vi.waitFor(() => {
      const line = proxy.logs.find((l) => l.code === 'UPSTREAM_DESTINATION_FORBIDDEN' && String(l.err).includes(`127.0.0.1:${adminPort} is this proxy's admin listener`));
      if (!line) throw new Error('no log line yet');
    }, { timeout: 10_000 });
  });

  it('still reaches a loopback origin by default (the proxy listens on loopback)', async () => {
    const reply = await proxyRequest(proxy.port, `${origin.url}/bytes/10`);
    expect(reply.status).toBe(200);
    expect(reply.body.length).toBe(10);
    const named = await proxyRequest(proxy.port, `http://localhost:${origin.port}/`);
    expect(named.status).toBe(200);
  });
});

describe('upstream.denyDestinations through the proxy port', () => {
  const caDir = tempCaDir();
  let denied: Origin;
  let other: Origin;
  let proxy: TestProxy;

  beforeAll(async () => {
    denied = await startOrigin();
    other = await startOrigin();
    proxy = await startTestProxy({ upstream: { denyDestinations: [`127.0.0.1/32:${denied.port}`] }, incidents: { enabled: false } }, { caDir });
  });
  afterAll(async () => {
    await proxy?.close();
    await denied?.close();
    await other?.close();
    fs.rmSync(caDir, { recursive: true, force: true });
  });

  it('refuses an otherwise reachable loopback origin, by literal and by name; the origin sees nothing', async () => {
    expectForbidden(await proxyRequest(proxy.port, `${denied.url}/bytes/10`, { headers: json }));
    expectForbidden(await proxyRequest(proxy.port, `http://localhost:${denied.port}/echo`, { method: 'POST', body: 'secret', headers: json }));
    expect(denied.seen).toHaveLength(0);
    expect(denied.connections).toBe(0);
  });

  it('leaves the other ports of the same address alone', async () => {
    expect((await proxyRequest(proxy.port, `${other.url}/bytes/3`)).status).toBe(200);
  });

  it('a bad entry stops the start, naming its path', async () => {
    const dir = tempCaDir();
    try {
      const error = await proxyErrorOf(startTestProxy({ upstream: { denyDestinations: ['10.0.0.0/8', '10.0.0.0/33'] } }, { caDir: dir }));
      expect(error.code).toBe('CONFIG_INVALID');
      expect(error.message).toMatch(/^upstream\.denyDestinations\[1\]: "10\.0\.0\.0\/33" prefix length/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** A listener standing in for one of ours, counting the connections that reach it. */
async function countingServer(): Promise<{ port: number; connections: () => number; close(): Promise<void> }> {
  let count = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    count++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    connections: () => count,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const upstreamOptions = (over: Partial<UpstreamOptions> = {}): UpstreamOptions => ({
  extraCaFiles: [],
  rejectUnauthorized: true,
  connectTimeoutMs: 10_000,
  headersTimeoutMs: 10_000,
  idleTimeoutMs: 10_000,
  keepAliveMs: 1_000,
  maxSocketsPerHost: 8,
  allowDestinations: [],
  denyDestinations: [],
  ...over,
});

describe('OriginClient: every origin socket is guarded', () => {
  const clients: OriginClient[] = [];
  const sockets: net.Socket[] = [];
  let own: Awaited<ReturnType<typeof countingServer>>;
  let echo: Awaited<ReturnType<typeof countingServer>>;

  const client = (over: Partial<UpstreamOptions> = {}, listensOffLoopback = false) => {
    const c = new OriginClient(upstreamOptions(over), { listensOffLoopback });
    c.addOwnListener('admin', '127.0.0.1', own.port);
    clients.push(c);
    return c;
  };
  const tunnel = (c: OriginClient, host: string, port: number) => {
    const socket = c.connectTunnel({ host, port });
    sockets.push(socket);
    return socket;
  };
  /** Listeners attached after connectTunnel returned: a refusal emitted synchronously would be an uncaught 'error'. */
  const tunnelOutcome = (socket: net.Socket) =>
    new Promise<'connected' | ProxyError | Error>((resolve) => {
      socket.once('connect', () => resolve('connected'));
      socket.once('error', (err) => resolve(err));
    });

  beforeAll(async () => {
    own = await countingServer();
    echo = await countingServer();
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.destroy();
    for (const c of clients.splice(0)) c.close();
  });
  afterAll(async () => {
    await own?.close();
    await echo?.close();
  });

  it('open() refuses an own listener over http and https, by literal and by name, before connecting', async () => {
    const c = client();
    for (const scheme of ['http', 'https'] as const) {
      for (const host of ['127.0.0.1', 'localhost', '::ffff:127.0.0.1', '0.0.0.0']) {
        const { request, response } = c.open({ scheme, host, port: own.port }, { method: 'GET', path: '/', headers: [] });
        request.end();
        const error = await proxyErrorOf(response);
        expect(error.code).toBe('UPSTREAM_DESTINATION_FORBIDDEN');
        expect(error.message).toMatch(new RegExp(`${own.port}.* is this proxy's admin listener`));
      }
    }
    expect(own.connections()).toBe(0);
  });

  it('open() keeps the request error path for a refusal (the code reaches request "error" too)', async () => {
    const { request, response } = client().open({ scheme: 'http', host: '169.254.169.254', port: 80 }, { method: 'POST', path: '/', headers: [] });
    const requestError = new Promise<unknown>((resolve) => request.once('error', resolve));
    request.end('body');
    expect((await proxyErrorOf(response)).code).toBe('UPSTREAM_DESTINATION_FORBIDDEN');
    expect((await requestError) as ProxyError).toMatchObject({ code: 'UPSTREAM_DESTINATION_FORBIDDEN' });
  });

  it('openUpgrade() refuses an own listener by literal and by name', async () => {
    const c = client();
    for (const host of ['127.0.0.1', 'localhost']) {
      const headers = ['Host', `${host}:${own.port}`, 'Connection', 'Upgrade', 'Upgrade', 'websocket'];
      const error = await proxyErrorOf(c.openUpgrade({ scheme: 'http', host, port: own.port }, { method: 'GET', path: '/', headers }));
      expect(error.code).toBe('UPSTREAM_DESTINATION_FORBIDDEN');
    }
    expect(own.connections()).toBe(0);
  });

  it('open() and openUpgrade() still reach an allowed loopback origin through the guarded agents', async () => {
    const origin = await startOrigin();
    try {
      const c = client();
      for (const host of ['127.0.0.1', 'localhost']) {
        const { request, response } = c.open({ scheme: 'http', host, port: origin.port }, { method: 'GET', path: '/bytes/4', headers: ['Host', `${host}:${origin.port}`] });
        request.end();
        const res = await response;
        expect(res.statusCode).toBe(200);
        const body = res.body().resume();
        await new Promise((resolve) => body.once('end', resolve));
      }
      const upgrade = await c.openUpgrade(
        { scheme: 'http', host: 'localhost', port: origin.port },
        { method: 'GET', path: '/', headers: ['Host', `localhost:${origin.port}`, 'Connection', 'Upgrade', 'Upgrade', 'websocket', 'Sec-WebSocket-Version', '13', 'Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='] },
      );
      expect(upgrade.response.statusCode).toBe(101);
      upgrade.socket.destroy();
      expect(origin.seen.map((s) => s.url)).toEqual(['/bytes/4', '/bytes/4']);
    } finally {
      await origin.close();
    }
  });

  it.each([['127.0.0.1'], ['localhost'], ['::ffff:127.0.0.1'], ['::1'], ['0.0.0.0']])('connectTunnel() refuses an own listener as %s, asynchronously', async (host) => {
    const outcome = await tunnelOutcome(tunnel(client(), host, own.port));
    expect(outcome).toBeInstanceOf(ProxyError);
    expect((outcome as ProxyError).code).toBe('UPSTREAM_DESTINATION_FORBIDDEN');
    expect(own.connections()).toBe(0);
  });

  it('connectTunnel() refuses link-local at once, with no timer of its own', async () => {
    const started = performance.now();
    const outcome = await tunnelOutcome(tunnel(client({ connectTimeoutMs: 60_000 }), '169.254.169.254', 443));
    expect((outcome as ProxyError).code).toBe('UPSTREAM_DESTINATION_FORBIDDEN');
    expect((outcome as ProxyError).message).toMatch(/^169\.254\.169\.254:443 is link-local/);
    // the connect timeout is a minute: loose for a loaded CI machine
    expect(performance.now() - started).toBeLessThan(3_000);
  });

  it('connectTunnel() connects an allowed destination, no delay set, bytes flowing', async () => {
    const socket = tunnel(client(), 'localhost', echo.port);
    expect(socket.connecting).toBe(true);
    expect(await tunnelOutcome(socket)).toBe('connected');
    socket.write('ping');
    const [data] = (await new Promise<Buffer[]>((resolve) => socket.once('data', (d: Buffer) => resolve([d])))) as [Buffer];
    expect(data.toString()).toBe('ping');
  });

  it('connectTunnel() off loopback refuses loopback, unless allowDestinations lists it', async () => {
    const refused = await tunnelOutcome(tunnel(client({}, true), '127.0.0.1', echo.port));
    expect((refused as ProxyError).details?.rule).toBe('loopback');
    const byName = await tunnelOutcome(tunnel(client({}, true), 'localhost', echo.port));
    expect((byName as ProxyError).code).toBe('UPSTREAM_DESTINATION_FORBIDDEN');
    const before = echo.connections();
    expect(await tunnelOutcome(tunnel(client({ allowDestinations: [`127.0.0.1/32:${echo.port}`] }, true), 'localhost', echo.port))).toBe('connected');
    await vi.waitFor(() => expect(echo.connections()).toBe(before + 1), { timeout: 10_000 });
    // allowDestinations never opens an own listener
    const own2 = await tunnelOutcome(tunnel(client({ allowDestinations: ['0.0.0.0/0'] }, true), '127.0.0.1', own.port));
    expect((own2 as ProxyError).details?.rule).toBe('own-listener');
  });
});
