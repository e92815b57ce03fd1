// WebSocket messages are inspected like uploads (issue 11, item 2): through the whole proxy, with
// a real `ws` client and server, against the built-in DLP service. A message with a card number
// is never delivered: the client sees 1008, the origin never receives it, and the violation is
// logged with the exchange's incident id. Over an absolute-form handshake, a plain CONNECT
// tunnel (what Chromium does for ws://) and an intercepted TLS tunnel (wss://).
import { createHash } from 'node:crypto';
import https from 'node:https';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { CertificateAuthority } from '../../src/ca/index.js';
import { CARD, transactionCounter } from '../support/enforcement-suite.js';
import { startBuiltinIcap, startTestProxy, type TestProxy } from '../support/proxy-harness.js';
import { rawOrigin } from '../support/raw-client.js';
import { tempDir } from '../support/temp-dir.js';
import { closed, openThroughProxy, type Route } from '../support/ws-through-proxy.js';

interface WsOrigin {
  url: string;
  received: string[];
  close(): Promise<void>;
}

async function startWsOrigin(tlsFiles?: { cert: string; key: string }): Promise<WsOrigin> {
  const server = tlsFiles ? https.createServer(tlsFiles) : http.createServer();
  const received: string[] = [];
  const wss = new WebSocketServer({ server, perMessageDeflate: true });
  wss.on('connection', (ws) =>
    ws.on('message', (data, isBinary) => {
      received.push(Buffer.isBuffer(data) ? data.toString('latin1') : Buffer.concat(data as Buffer[]).toString('latin1'));
      ws.send(data, { binary: isBinary });
    }),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `${tlsFiles ? 'wss' : 'ws'}://127.0.0.1:${port}/socket`,
    received,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

let icap: { port: number; close(): Promise<void> };
let plain: WsOrigin;
let secure: WsOrigin;
let originCa: string;
let proxy: TestProxy;

beforeAll(async () => {
  icap = await startBuiltinIcap();
  const dir = tempDir('dlp-proxy-ws-origin-ca-');
  const { ca } = await CertificateAuthority.loadOrCreate({ dir, leafValidityDays: 30, certCacheSize: 4 });
  const leaf = ca.issueLeaf({ host: '127.0.0.1', kind: 'ipv4' });
  originCa = path.join(dir, 'ca.pem');
  plain = await startWsOrigin();
  secure = await startWsOrigin({ cert: leaf.certPem, key: leaf.keyPem });
  proxy = await startTestProxy({
    services: { dlp: { urls: [`icap://127.0.0.1:${icap.port}/dlp`] }, av: { urls: [`icap://127.0.0.1:${icap.port}/av`] } },
    upstream: { extraCaFiles: [originCa] },
    scan: { maxWebSocketMessageBytes: 256 * 1024 },
    policy: [
      { name: 'no-ws-to-admin-paths', match: { protocols: ['websocket'], paths: ['^/admin'] }, action: 'block' },
      { name: 'websocket-from-server', match: { protocols: ['websocket'], direction: 'download' }, action: 'pass' },
      { name: 'uploads', match: { direction: 'upload' }, scan: 'dlp' },
      { name: 'downloads', match: { direction: 'download' }, scan: 'av' },
    ],
  });
});

afterAll(async () => {
  await proxy?.close();
  await plain?.close();
  await secure?.close();
  await icap?.close();
});

const routes: Array<[Route, () => WsOrigin]> = [
  ['absolute-form', () => plain],
  ['connect', () => plain],
  ['connect-tls', () => secure],
];

describe.each(routes)('over %s', (route, origin) => {
  const open = (deflate = true) => openThroughProxy(proxy.port, origin().url, route, { ca: proxy.caPem, perMessageDeflate: deflate });

  it.each([true, false])('clean messages pass both ways (permessage-deflate %s)', async (deflate) => {
    const client = await open(deflate);
    const echoes: string[] = [];
    client.on('message', (data) => echoes.push(data.toString()));
    client.send('hello, nothing to see');
    client.send(Buffer.alloc(70 * 1024, 'x'), { binary: true });
    await expect.poll(() => echoes.length).toBe(2);
    expect(echoes[0]).toBe('hello, nothing to see');
    expect(echoes[1]).toBe('x'.repeat(70 * 1024));
    client.close();
  });

  it('a message with a card number is never delivered: 1008 and a logged incident', async () => {
    const client = await open();
    const before = origin().received.length;
    const end = closed(client);
    client.send(`invoice paid with ${CARD}, thanks`);
    expect((await end).code).toBe(1008);
    expect(origin().received.slice(before).some((m) => m.includes('4111'))).toBe(false);
    await expect.poll(() => proxy.logs.find((l) => l.log === 'violation' && l.rule === 'uploads' && typeof l.incident === 'string' && JSON.stringify(l.violations).includes('payment-card'))).toBeDefined();
  });

  it('a card split across fragments of one message is seen whole', async () => {
    const client = await open();
    const before = origin().received.length;
    const end = closed(client);
    client.send('card 4111 1111 ', { fin: false });
    client.send('1111 1111 end', { fin: true });
    expect((await end).code).toBe(1008);
    expect(origin().received.length).toBe(before);
  });
});

describe('policy and limits', () => {
  it('a WebSocket rule blocks the handshake with our page; the origin never sees it', async () => {
    const before = plain.received.length;
    const refused = openThroughProxy(proxy.port, plain.url.replace('/socket', '/admin/feed'), 'absolute-form');
    await expect(refused).rejects.toMatchObject({ status: 403, headers: expect.objectContaining({ 'x-dlp-incident': expect.any(String) }) });
    expect(plain.received.length).toBe(before);
  });

  it('the same clean message twice is scanned once (the verdict cache answers the second)', async () => {
    const counter = transactionCounter();
    try {
      const client = await openThroughProxy(proxy.port, plain.url, 'absolute-form');
      const echoes: string[] = [];
      client.on('message', (d) => echoes.push(d.toString()));
      const message = `status report ${Date.now()}`;
      client.send(message);
      client.send(message);
      await expect.poll(() => echoes.length).toBe(2);
      expect(counter.count('REQMOD')).toBe(1);
      client.close();
    } finally {
      counter.stop();
    }
  });

  it('a message over scan.maxWebSocketMessageBytes closes with 1009 and is not delivered', async () => {
    const client = await openThroughProxy(proxy.port, plain.url, 'absolute-form');
    const before = plain.received.length;
    const end = closed(client);
    client.send(Buffer.alloc(300 * 1024, 'y'));
    expect((await end).code).toBe(1009);
    expect(plain.received.length).toBe(before);
  });

  it("an origin's 101 with a reason phrase no client may be sent (DEL, a control) reaches the client as `101 Switching Protocols`", async () => {
    for (const phrase of ['Switching\x7fProtocols', 'Go\x01ahead']) {
      // a raw origin that accepts the handshake under that phrase, then says hello in a text frame
      const origin = await rawOrigin((socket) =>
        socket.once('data', (request: Buffer) => {
          const key = /sec-websocket-key: *(\S+)/i.exec(request.toString('latin1'))?.[1] ?? '';
          const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
          socket.write(Buffer.from(`HTTP/1.1 101 ${phrase}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`, 'latin1'));
          socket.write(Buffer.from([0x81, 0x05, ...Buffer.from('hello')]));
        }),
      );
      const { port } = origin;
      const client = net.connect(proxy.port, '127.0.0.1');
      try {
        let got = Buffer.alloc(0);
        client.on('data', (d: Buffer) => (got = Buffer.concat([got, d])));
        client.write(`GET http://127.0.0.1:${port}/socket HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`);
        await expect.poll(() => got.includes('hello')).toBe(true);
        const head = got.subarray(0, got.indexOf('\r\n\r\n')).toString('latin1');
        expect(head.split('\r\n')[0]).toBe('HTTP/1.1 101 Switching Protocols');
        expect(head).toMatch(/^sec-websocket-accept: /im);
      } finally {
        client.destroy();
        await origin.close();
      }
    }
  });

  it('after all of it the proxy still relays a new connection', async () => {
    const client = await openThroughProxy(proxy.port, plain.url, 'connect');
    const echo = new Promise<string>((r) => client.once('message', (d) => r(d.toString())));
    client.send('still here');
    expect(await echo).toBe('still here');
    client.close();
  });
});


