// The relay's fail-closed paths without sockets (in-memory duplexes): whatever goes wrong on our
// side — a verdict that is not an explicit pass, a scan() that throws, an onMessage() that throws —
// the message is not delivered and the connection closes (DESIGN invariants 2 and 7); sockets
// already gone when it starts end it at once.
import { Duplex, PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { encodeFrame, FrameDecoder, Opcode, parseClosePayload, relayWebSocket, type WebSocketRelayOptions } from '../../../src/pipeline/websocket/index.js';

interface Peer {
  /** the relay's end */
  socket: Duplex;
  /** what the peer sends */
  send: PassThrough;
  /** what the relay wrote to the peer */
  received(): Buffer;
}

function peer(): Peer {
  const send = new PassThrough();
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  return { socket: Duplex.from({ readable: send, writable: out }), send, received: () => Buffer.concat(chunks) };
}

function relay(over: Partial<WebSocketRelayOptions>) {
  const client = peer();
  const origin = peer();
  const result = relayWebSocket({
    client: client.socket,
    clientHead: Buffer.alloc(0),
    origin: origin.socket,
    originHead: Buffer.alloc(0),
    extensions: undefined,
    inspect: { clientToServer: true, serverToClient: false },
    maxMessageBytes: 1024,
    oversizeAction: 'block',
    closeGraceMs: 50,
    scan: async () => ({ action: 'pass' }),
    ...over,
  });
  return { client, origin, result };
}

const closeCodeOf = (bytes: Buffer, from: 'client' | 'server') => {
  const frames = new FrameDecoder({ from, rsv1Allowed: false, maxFramePayloadBytes: 1 << 20 }).push(bytes).frames;
  const close = frames.find((f) => f.opcode === Opcode.close);
  return close && parseClosePayload(close.payload)?.code;
};

const message = encodeFrame({ opcode: Opcode.text, payload: Buffer.from('secret'), mask: true });

describe('relayWebSocket fails closed', () => {
  it('forwards a message on an explicit pass, byte for byte', async () => {
    const { client, origin, result } = relay({});
    client.send.write(message);
    await expect.poll(() => origin.received().length).toBe(message.length);
    expect(origin.received().equals(message)).toBe(true);
    client.send.end();
    origin.send.end();
    expect((await result).clientToServer).toMatchObject({ messages: 1, scanned: 1 });
  });

  it('a verdict that is neither pass nor block blocks (1008)', async () => {
    const { client, origin, result } = relay({ scan: async () => ({ action: 'maybe' }) as never });
    client.send.write(message);
    const done = await result;
    expect(done.close).toMatchObject({ code: 1008, by: 'proxy' });
    expect(closeCodeOf(origin.received(), 'client')).toBe(1008);
    expect(closeCodeOf(client.received(), 'server')).toBe(1008);
    expect(origin.received().includes(Buffer.from('secret'))).toBe(false);
  });

  it('a scan() that throws synchronously is 1011, INTERNAL, nothing delivered', async () => {
    const { client, origin, result } = relay({
      scan: () => {
        throw new TypeError('a bug of ours');
      },
    });
    client.send.write(message);
    const done = await result;
    expect(done.close.code).toBe(1011);
    expect(done.error?.code).toBe('INTERNAL');
    expect(closeCodeOf(origin.received(), 'client')).toBe(1011);
  });

  it('an onMessage() that throws is a defect of ours: 1011', async () => {
    const { client, result } = relay({
      onMessage: () => {
        throw new Error('logging broke');
      },
    });
    client.send.write(message);
    expect((await result).close.code).toBe(1011);
  });

  it('sockets already closed when the relay starts: it resolves at once', async () => {
    const client = peer();
    const origin = peer();
    // destroying a Duplex.from() pair emits AbortError: ours to handle, the relay is not there yet
    for (const p of [client, origin]) p.socket.on('error', () => undefined).destroy();
    await new Promise((r) => setImmediate(r));
    const done = await relayWebSocket({ client: client.socket, clientHead: message, origin: origin.socket, originHead: Buffer.alloc(0), extensions: undefined, inspect: { clientToServer: true, serverToClient: true }, maxMessageBytes: 1024, oversizeAction: 'block', scan: async () => ({ action: 'pass' }) });
    expect(done.close.code).toBe(1006);
    expect(done.clientToServer.messages).toBe(0);
  });
});
