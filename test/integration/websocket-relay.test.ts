// The inspecting WebSocket relay between real peers: a `ws` server on port 0, a ws client, and
// between them a tiny man-in-the-middle in this file that passes the HTTP handshake through until
// the 101 and then hands both sockets to relayWebSocket(). Without compression and with
// permessage-deflate (context takeover on and off): clean messages arrive intact both ways, a
// message with a card number never reaches the other side and both see 1008, oversize messages
// take their action, malformed frames get 1002, a client that vanishes mid-frame leaves nothing
// open, and the same relay code serves the next connection.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { encodeFrame, Opcode, parseClosePayload, relayWebSocket, type MessageEvent, type RelayResult, type WebSocketMessage, type WebSocketRelayOptions } from '../../src/pipeline/websocket/index.js';

const CARD = '4111 1111 1111 1111';
type Deflate = false | { noContextTakeover: boolean };
type RelayOptions = Omit<WebSocketRelayOptions, 'client' | 'clientHead' | 'origin' | 'originHead' | 'extensions' | 'scan'> & Partial<Pick<WebSocketRelayOptions, 'scan' | 'extensions'>>;

interface Harness {
  url: string;
  /** messages the origin received, and the close codes/reasons and ping bodies it saw */
  received: string[];
  serverCloses: { code: number; reason: string }[];
  serverPings: string[];
  scanned: WebSocketMessage[];
  events: MessageEvent[];
  results: Promise<RelayResult>[];
  /** sockets the man-in-the-middle handed to the relay */
  relayed: net.Socket[];
  client(): WebSocket;
  close(): Promise<void>;
}

const open: Harness[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()));
});

const text = (data: WebSocket.RawData) => (Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer)).toString('latin1');

async function start(deflate: Deflate, relay: Partial<RelayOptions> = {}): Promise<Harness> {
  const perMessageDeflate = deflate && { threshold: 0, serverNoContextTakeover: deflate.noContextTakeover, clientNoContextTakeover: deflate.noContextTakeover };
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate, maxPayload: 64 << 20 });
  await new Promise((resolve) => server.once('listening', resolve));
  const serverPort = (server.address() as net.AddressInfo).port;
  const clients: WebSocket[] = [];
  const sockets = new Set<net.Socket>();
  const h: Harness = { url: '', received: [], serverCloses: [], serverPings: [], scanned: [], events: [], results: [], relayed: [], client: () => undefined as never, close: async () => undefined };
  server.on('connection', (ws) => {
    ws.on('error', () => undefined);
    ws.on('ping', (data) => h.serverPings.push(data.toString('latin1')));
    ws.on('close', (code, reason) => h.serverCloses.push({ code, reason: reason.toString() }));
    ws.on('message', (data, isBinary) => {
      const body = text(data);
      h.received.push(body);
      ws.send(body === 'send me a card' ? `here: ${CARD}` : Buffer.from(body, 'latin1'), { binary: isBinary });
    });
  });
  const mitm = net.createServer((client) => {
    sockets.add(client);
    const fail = () => client.destroy();
    client.on('error', fail);
    let buffered = Buffer.alloc(0);
    const onRequest = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      client.pause();
      client.off('data', onRequest);
      const origin = net.connect(serverPort, '127.0.0.1');
      sockets.add(origin);
      origin.on('error', fail);
      origin.write(buffered.subarray(0, end + 4));
      const clientHead = buffered.subarray(end + 4);
      let answer = Buffer.alloc(0);
      const onResponse = (data: Buffer) => {
        answer = Buffer.concat([answer, data]);
        const stop = answer.indexOf('\r\n\r\n');
        if (stop < 0) return;
        origin.pause();
        origin.off('data', onResponse);
        const head = answer.subarray(0, stop).toString('latin1');
        client.write(answer.subarray(0, stop + 4));
        expect(head.startsWith('HTTP/1.1 101')).toBe(true);
        const extensions = /\r\nsec-websocket-extensions: *([^\r]*)/i.exec(head)?.[1];
        // from here on the relay alone handles both sockets, their errors included
        client.off('error', fail);
        origin.off('error', fail);
        h.relayed.push(client, origin);
        h.results.push(
          relayWebSocket({
            client,
            clientHead,
            origin,
            originHead: answer.subarray(stop + 4),
            extensions,
            inspect: { clientToServer: true, serverToClient: true },
            maxMessageBytes: 2 << 20,
            oversizeAction: 'block',
            scan: async (message) => {
              h.scanned.push(message);
              return message.payload.includes(CARD) ? { action: 'block', reason: 'card number' } : { action: 'pass' };
            },
            onMessage: (e) => h.events.push(e),
            ...relay,
          }),
        );
      };
      origin.on('data', onResponse);
    };
    client.on('data', onRequest);
  });
  await new Promise<void>((resolve) => mitm.listen(0, '127.0.0.1', resolve));
  h.url = `ws://127.0.0.1:${(mitm.address() as net.AddressInfo).port}/chat`;
  h.client = () => {
    const ws = new WebSocket(h.url, { perMessageDeflate: perMessageDeflate && { ...perMessageDeflate }, maxPayload: 64 << 20 });
    ws.on('error', () => undefined);
    clients.push(ws);
    return ws;
  };
  h.close = async () => {
    for (const ws of clients) ws.terminate();
    for (const s of sockets) s.destroy();
    await Promise.all([new Promise((r) => server.close(r)), new Promise((r) => mitm.close(r))]);
    await Promise.all(h.results);
  };
  open.push(h);
  return h;
}

const opened = (ws: WebSocket) => new Promise<void>((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
const closed = (ws: WebSocket) => new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
const nextMessage = (ws: WebSocket) => new Promise<string>((resolve) => ws.once('message', (data) => resolve(text(data))));
/** Printable ASCII (valid UTF-8 for text messages), not too compressible. */
const pattern = (size: number, seed: number) => Buffer.from(Array.from({ length: size }, (_, i) => 33 + ((i * 31 + seed * 7 + (i >> 9) * 13) % 94))).toString('latin1');

const variants: [string, Deflate][] = [
  ['no compression', false],
  ['permessage-deflate, context takeover', { noContextTakeover: false }],
  ['permessage-deflate, no context takeover', { noContextTakeover: true }],
];

describe.each(variants)('WebSocket relay, %s', (_name, deflate) => {
  it('clean text and binary messages (1 KiB, 64 KiB, 1 MiB, fragmented) arrive intact both ways, each scanned first', async () => {
    const h = await start(deflate);
    const ws = h.client();
    await opened(ws);
    const sent = [pattern(1024, 1), pattern(65_536, 2), pattern(1 << 20, 3), 'short text'];
    for (const [i, body] of sent.entries()) {
      const echo = nextMessage(ws);
      ws.send(Buffer.from(body, 'latin1'), { binary: i % 2 === 1 });
      expect(await echo).toBe(body);
    }
    // fragmented by the sender, a ping between the fragments
    const fragmented = pattern(300_000, 4);
    const echo = nextMessage(ws);
    ws.send(Buffer.from(fragmented.slice(0, 100_000), 'latin1'), { fin: false });
    ws.ping();
    ws.send(Buffer.from(fragmented.slice(100_000, 200_000), 'latin1'), { fin: false });
    ws.send(Buffer.from(fragmented.slice(200_000), 'latin1'), { fin: true });
    expect(await echo).toBe(fragmented);
    expect(h.received).toEqual([...sent, fragmented]);
    ws.close(1000);
    const result = await h.results[0]!;
    expect(result.close).toEqual({ code: 1000, reason: '', by: 'client' });
    expect(result.clientToServer).toMatchObject({ messages: 5, scanned: 5, blocked: 0, unscanned: 0 });
    expect(result.serverToClient).toMatchObject({ messages: 5, scanned: 5 });
    expect(h.scanned.map((m) => `${m.direction} ${m.kind} ${m.compressed} ${m.payload.length}`).slice(0, 2)).toEqual([`client-to-server text ${deflate !== false} 1024`, `server-to-client text ${deflate !== false} 1024`]);
    expect(h.scanned.filter((m) => m.direction === 'client-to-server').map((m) => m.payload.toString('latin1'))).toEqual([...sent, fragmented]);
    expect(result.bytes.clientToServer).toBe(result.clientToServer.bytesReceived);
    expect(h.relayed.every((s) => s.destroyed)).toBe(true);
  });

  it(`a message holding "${CARD}" never reaches the origin; the client sees 1008, so does the origin`, async () => {
    const h = await start(deflate);
    const ws = h.client();
    await opened(ws);
    const first = nextMessage(ws);
    ws.send('hello');
    expect(await first).toBe('hello');
    const done = closed(ws);
    ws.send(`pay with ${CARD} please`);
    ws.send('sent after it');
    expect(await done).toEqual({ code: 1008, reason: 'policy violation' });
    const result = await h.results[0]!;
    expect(h.received).toEqual(['hello']);
    await expect.poll(() => h.serverCloses.map((c) => c.code)).toEqual([1008]);
    expect(result.close).toEqual({ code: 1008, reason: 'policy violation', by: 'proxy' });
    expect(result.clientToServer).toMatchObject({ messages: 2, scanned: 2, blocked: 1 });
    expect(h.events.at(-1)).toMatchObject({ outcome: 'blocked', reason: 'card number', message: { direction: 'client-to-server', index: 1 } });
  });

  it('a card number from the origin never reaches the client (server→client inspected)', async () => {
    const h = await start(deflate);
    const ws = h.client();
    const got: string[] = [];
    ws.on('message', (d) => got.push(text(d)));
    await opened(ws);
    const done = closed(ws);
    ws.send('send me a card');
    expect(await done).toMatchObject({ code: 1008 });
    expect(got).toEqual([]);
    expect((await h.results[0]!).serverToClient.blocked).toBe(1);
  });

  it("oversize 'block' closes with 1009 both ways; 'pass' delivers it unscanned and the next message is still scanned", async () => {
    const blocking = await start(deflate, { maxMessageBytes: 64 * 1024 });
    const ws = blocking.client();
    await opened(ws);
    const done = closed(ws);
    ws.send(pattern(100 * 1024, 5));
    expect((await done).code).toBe(1009);
    await blocking.results[0];
    expect(blocking.received).toEqual([]);
    await expect.poll(() => blocking.serverCloses.map((c) => c.code)).toEqual([1009]);
    expect(blocking.events).toMatchObject([{ outcome: 'too-large' }]);

    const passing = await start(deflate, { maxMessageBytes: 64 * 1024, oversizeAction: 'pass', inspect: { clientToServer: true, serverToClient: false } });
    const ws2 = passing.client();
    await opened(ws2);
    const big = pattern(3 << 20, 6);
    const echo = nextMessage(ws2);
    ws2.send(big);
    expect(await echo).toBe(big);
    // with context takeover this one refers back into the window of the unscanned one
    const done2 = closed(ws2);
    ws2.send(`${big.slice(0, 2000)} ${CARD}`);
    expect((await done2).code).toBe(1008);
    const result = await passing.results[0]!;
    expect(passing.received).toEqual([big]);
    expect(result.clientToServer).toMatchObject({ messages: 2, unscanned: 1, scanned: 1, blocked: 1 });
    expect(passing.events[0]).toMatchObject({ outcome: 'unscanned', message: { sizeBytes: 3 << 20 } });
    expect(passing.scanned.map((m) => m.payload.length)).toEqual([2001 + CARD.length]);
  });
});

/** A client without a WebSocket library: the handshake by hand, then whatever bytes a test writes. */
async function rawClient(h: Harness): Promise<{ socket: net.Socket; data: () => Buffer }> {
  const { port } = new URL(h.url);
  const socket = net.connect(Number(port), '127.0.0.1');
  socket.on('error', () => undefined);
  let received = Buffer.alloc(0);
  socket.on('data', (d) => (received = Buffer.concat([received, d])));
  socket.write(['GET /chat HTTP/1.1', `Host: 127.0.0.1:${port}`, 'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13', '', ''].join('\r\n'));
  await expect.poll(() => received.indexOf('\r\n\r\n'), { timeout: 5000 }).toBeGreaterThan(0);
  const head = received.indexOf('\r\n\r\n') + 4;
  return { socket, data: () => received.subarray(head) };
}

describe('WebSocket relay against hostile clients, then a clean one', () => {
  it('a malformed frame (reserved opcode) gets Close 1002 both ways, its bytes never forwarded', async () => {
    const h = await start(false);
    const { socket, data } = await rawClient(h);
    socket.write(Buffer.concat([encodeFrame({ opcode: Opcode.text, payload: Buffer.from('fine'), mask: true }), encodeFrame({ opcode: 0x3, payload: Buffer.from(CARD), mask: true })]));
    const result = await h.results[0]!;
    expect(result.close).toMatchObject({ code: 1002, by: 'proxy' });
    expect(result.error?.code).toBe('CLIENT_BAD_REQUEST');
    // the relay is done when its sockets are; what it wrote may reach the client (and the origin) after that
    await expect.poll(() => data().indexOf(0x88)).toBeGreaterThanOrEqual(0);
    const frames = data();
    // the echo of "fine", then our Close 1002
    const close = frames.subarray(frames.indexOf(0x88));
    expect(parseClosePayload(close.subarray(2, 2 + close[1]!))?.code).toBe(1002);
    await expect.poll(() => h.received).toEqual(['fine']);
    await expect.poll(() => h.serverCloses.map((c) => c.code)).toEqual([1002]);
  });

  it('a frame declaring 2^40 bytes is refused at its header (1009); empty fragments without end are 1009 even with oversizeAction pass', async () => {
    const h = await start(false);
    const { socket } = await rawClient(h);
    socket.write(Buffer.concat([Buffer.from([0x82, 0xff, 0, 0, 1, 0, 0, 0, 0, 0]), Buffer.alloc(4), Buffer.alloc(1000)]));
    expect((await h.results[0]!).close).toMatchObject({ code: 1009, by: 'proxy' });
    expect(h.events).toMatchObject([{ outcome: 'too-large', message: { sizeBytes: 2 ** 40 } }]);

    // the payload stays at 0 bytes while the frames held for it grow: never passed as oversize
    const passing = await start(false, { oversizeAction: 'pass', maxMessageBytes: 1024 });
    const raw = await rawClient(passing);
    const empty = encodeFrame({ opcode: Opcode.continuation, fin: false, mask: true });
    raw.socket.write(Buffer.concat([encodeFrame({ opcode: Opcode.text, fin: false, mask: true }), ...Array.from({ length: 20_000 }, () => empty)]));
    const result = await passing.results[0]!;
    expect(result.close).toMatchObject({ code: 1009, reason: 'message too fragmented' });
    expect(result.clientToServer.bytesForwarded).toBe(0);
  });

  it('a client that vanishes mid-frame leaves no open socket and no unhandled error', async () => {
    const h = await start({ noContextTakeover: false });
    const { socket } = await rawClient(h);
    const frame = encodeFrame({ opcode: Opcode.binary, payload: Buffer.alloc(1000, 1), mask: true });
    socket.write(frame.subarray(0, 20));
    await new Promise((r) => setTimeout(r, 50));
    socket.resetAndDestroy();
    const result = await h.results[0]!;
    expect(result.close).toMatchObject({ code: 1006, by: 'client' });
    expect(h.relayed.every((s) => s.destroyed)).toBe(true);
    expect(h.received).toEqual([]);
    await expect.poll(() => h.serverCloses.length).toBe(1);
  });

  it('ping bodies and Close reasons, which no scan sees, are forwarded empty', async () => {
    const h = await start(false);
    const ws = h.client();
    await opened(ws);
    ws.ping(Buffer.from(CARD));
    ws.ping();
    const echo = nextMessage(ws);
    ws.send('flush');
    await echo;
    ws.close(4000, CARD);
    await h.results[0];
    expect(h.serverPings).toEqual(['', '']);
    await expect.poll(() => h.serverCloses).toEqual([{ code: 4000, reason: '' }]);
  });

  it('keeps order: a message waiting for its verdict holds back the ones after it', async () => {
    const h = await start(false, {
      scan: async (m) => {
        if (m.payload.toString() === 'slow') await new Promise((r) => setTimeout(r, 300));
        return { action: 'pass' };
      },
    });
    const ws = h.client();
    await opened(ws);
    ws.send('slow');
    ws.send('fast');
    await expect.poll(() => h.received.length, { timeout: 5000 }).toBe(2);
    expect(h.received).toEqual(['slow', 'fast']);
  });

  it('refuses to relay what it cannot read: an unknown extension closes with 1008', async () => {
    const h = await start(false, { extensions: 'x-unknown-extension' });
    const ws = h.client();
    expect((await closed(ws)).code).toBe(1008);
    expect((await h.results[0]!).close).toMatchObject({ code: 1008, reason: 'unsupported extension' });
  });

  it('a failing scan closes with 1011; an idle connection with 1001', async () => {
    const failing = await start(false, { scan: () => Promise.reject(new Error('scanner down')) });
    const ws = failing.client();
    await opened(ws);
    const done = closed(ws);
    ws.send('anything');
    expect((await done).code).toBe(1011);
    expect(failing.received).toEqual([]);
    expect((await failing.results[0]!).error?.code).toBe('INTERNAL');

    const idle = await start(false, { idleTimeoutMs: 200 });
    const ws2 = idle.client();
    await opened(ws2);
    const started = performance.now();
    expect((await closed(ws2)).code).toBe(1001);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('after all of it, the same relay code serves a new connection', async () => {
    const h = await start({ noContextTakeover: false });
    for (const hostile of [encodeFrame({ opcode: 0xb, mask: true }), encodeFrame({ opcode: Opcode.text, payload: Buffer.from('x') })]) {
      const { socket } = await rawClient(h);
      socket.write(hostile);
    }
    await expect.poll(() => h.results.length).toBe(2);
    await Promise.all(h.results);
    const ws = h.client();
    await opened(ws);
    const echo = nextMessage(ws);
    ws.send('still serving');
    expect(await echo).toBe('still serving');
  });
});
