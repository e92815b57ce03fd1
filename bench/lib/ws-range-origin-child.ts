// The origin of bench/websocket-ranges.ts, in its own process so that its CPU is neither the
// proxy's nor the load generator's; node:http on 127.0.0.1 with:
//   a `ws` echo server on every path (each message sent back as it came, text or binary;
//     permessage-deflate offered to clients that ask for it, threshold 0)
//   GET /…/file/N   N bytes of the bench pattern (bench/lib/byte-ranges.ts), made once per size
//     (the sizes given as arguments before `ready`, so no measured request waits for one), with
//     ETag and Accept-Ranges; Range answered as 206 or multipart/byteranges (RFC 9110 §14)
// IPC: `stats` answers the file requests served, the Range headers they carried and the file
// bytes sent, so the bench sees whether the proxy asked for the whole or for the range.
// usage (forked by bench/websocket-ranges.ts): ws-range-origin-child.ts [FILE_BYTES...]
import crypto from 'node:crypto';
import http from 'node:http';
import type net from 'node:net';
import { WebSocketServer } from 'ws';
import { multipartBody, parseRangeHeader, patternBytes, type ByteSpan } from './byte-ranges.js';

if (!process.send) {
  process.stderr.write('usage: ws-range-origin-child.ts (forked with IPC)\n');
  process.exit(2);
}

const MAX_FILE_BYTES = 1024 ** 3;
const CONTENT_TYPE = 'application/octet-stream';
const files = new Map<number, Buffer>();
const stats = { fileRequests: 0, rangeHeaders: [] as string[], fileBytesSent: 0 };

/** A few sizes at a time: the oldest made goes when a fifth is asked for. */
function fileOf(size: number): Buffer {
  let file = files.get(size);
  if (!file) {
    if (files.size >= 4) files.delete(files.keys().next().value!);
    file = patternBytes(0, size);
    files.set(size, file);
  }
  return file;
}

for (const arg of process.argv.slice(2)) if (Number(arg) <= MAX_FILE_BYTES) fileOf(Number(arg));

/** Write `parts` in order, waiting for 'drain' (a slow reader slows us, as a real origin). */
function writeParts(res: http.ServerResponse, parts: Buffer[]): void {
  const CHUNK = 256 * 1024;
  let part = 0;
  let offset = 0;
  const pump = (): void => {
    while (part < parts.length) {
      const buf = parts[part]!;
      const piece = buf.subarray(offset, offset + CHUNK);
      offset += piece.length;
      if (offset >= buf.length) {
        part += 1;
        offset = 0;
      }
      stats.fileBytesSent += piece.length;
      if (!res.write(piece)) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  res.once('close', () => {
    part = parts.length;
  });
  pump();
}

function serveFile(req: http.IncomingMessage, res: http.ServerResponse, size: number): void {
  stats.fileRequests += 1;
  const file = fileOf(size);
  const etag = `"pattern-${size}"`;
  const headers = { 'content-type': CONTENT_TYPE, 'accept-ranges': 'bytes', etag };
  const range = req.headers.range;
  if (range !== undefined) stats.rangeHeaders.push(range);
  const spans = range === undefined ? undefined : parseRangeHeader(range, size);
  if (spans === undefined) {
    res.writeHead(200, { ...headers, 'content-length': size });
    return writeParts(res, [file]);
  }
  if (spans.length === 0) {
    res.writeHead(416, { ...headers, 'content-range': `bytes */${size}`, 'content-length': 0 });
    return void res.end();
  }
  const slice = (s: ByteSpan) => file.subarray(s.start, s.end + 1);
  if (spans.length === 1) {
    const s = spans[0]!;
    res.writeHead(206, { ...headers, 'content-range': `bytes ${s.start}-${s.end}/${size}`, 'content-length': s.end - s.start + 1 });
    return writeParts(res, [slice(s)]);
  }
  const boundary = crypto.randomBytes(12).toString('hex');
  const parts = multipartBody(spans, size, CONTENT_TYPE, boundary, slice);
  res.writeHead(206, { ...headers, 'content-type': `multipart/byteranges; boundary=${boundary}`, 'content-length': parts.reduce((n, p) => n + p.length, 0) });
  writeParts(res, parts);
}

const server = http.createServer((req, res) => {
  const m = /\/file\/(\d+)$/.exec(req.url ?? '');
  if (req.method === 'GET' && m && Number(m[1]) <= MAX_FILE_BYTES) return serveFile(req, res, Number(m[1]));
  res.writeHead(404, { 'content-type': 'text/plain', 'content-length': 9 });
  res.end('not found');
});
server.keepAliveTimeout = 65_000;
const sockets = new Set<net.Socket>();
server.on('connection', (socket: net.Socket) => {
  sockets.add(socket);
  socket.once('close', () => sockets.delete(socket));
});

const wss = new WebSocketServer({ server, perMessageDeflate: { threshold: 0 }, maxPayload: 64 * 1024 * 1024 });
wss.on('connection', (ws) => {
  ws.on('error', () => ws.terminate());
  ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
});

await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
process.send({ type: 'ready', port: (server.address() as net.AddressInfo).port });
process.on('message', (msg: { id: number; type: string }) => {
  if (msg.type === 'stats') process.send?.({ id: msg.id, ...stats, rangeHeaders: [...stats.rangeHeaders] });
});
const stop = (): void => {
  for (const ws of wss.clients) ws.terminate();
  for (const socket of sockets) socket.destroy();
  wss.close();
  server.close();
  process.exit(0);
};
process.once('SIGTERM', stop);
process.once('disconnect', stop);
