// A client that writes exactly the bytes a test gives it (odd headers, broken framing, an upgrade
// token, a body that stops half way) and reads whatever comes back until the proxy closes or a
// deadline passes. What hostile clients do, without a library's politeness in between.
import net from 'node:net';

export interface RawReply {
  /** everything received, latin1 */
  text: string;
  /** the status code of the first response, 0 when none arrived */
  status: number;
  /** the proxy closed the connection (not our deadline) */
  closed: boolean;
}

export function rawRequest(port: number, chunks: Array<Buffer | string>, options: { deadlineMs?: number; destroyAfterWrite?: boolean; gapMs?: number } = {}): Promise<RawReply> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    let closed = false;
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(received).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ text, status: m ? Number(m[1]) : 0, closed });
    };
    const timer = setTimeout(finish, options.deadlineMs ?? 5000);
    socket.on('data', (d: Buffer) => received.push(d));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed = true;
      finish();
    });
    socket.on('connect', async () => {
      for (const chunk of chunks) {
        if (socket.destroyed) return;
        socket.write(chunk);
        if (options.gapMs) await new Promise((r) => setTimeout(r, options.gapMs));
      }
      if (options.destroyAfterWrite) setTimeout(() => socket.destroy(), 20);
    });
  });
}

/** Chunked transfer coding of the given pieces, with or without the last chunk. */
export function chunked(pieces: Array<Buffer | string>, last = true): Buffer {
  const parts: Buffer[] = [];
  for (const piece of pieces) {
    const b = Buffer.isBuffer(piece) ? piece : Buffer.from(piece);
    parts.push(Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from('\r\n'));
  }
  if (last) parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}

export interface RawOrigin {
  port: number;
  close(): Promise<void>;
}

/**
 * An origin that answers with exactly the bytes a test writes (an odd reason phrase, framing no
 * server may send, a body that stops), on a free port of 127.0.0.1; socket errors are expected.
 */
export async function rawOrigin(onSocket: (socket: net.Socket) => void): Promise<RawOrigin> {
  const server = net.createServer((socket) => {
    socket.on('error', () => undefined);
    onSocket(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
