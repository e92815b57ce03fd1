// The origin every scenario of a run talks to, in its own process so that its CPU is neither the
// proxy's nor the load generator's: node:http on one port and node:https on another, both on
// 127.0.0.1, keep-alive on. Routes:
//   /bytes/N    N fixed bytes with content-length (N ≤ 16 MiB; the buffer is made once)
//   /unique/N   N bytes whose first 16 differ on every response (cold verdict cache)
//   /stream/N   N bytes written in 64 KiB chunks, waiting for 'drain' (backpressure, N ≤ 16 GiB);
//               ?rate=B paces them at B bytes per second (a slow origin: the slow-download rows)
//   /eicar      the EICAR anti-virus test file (a probe that scanning is on)
//   POST *      reads the body, answers 200 "ok" (uploads)
// IPC: `stats` answers the connections accepted and requests served so far (keep-alive upstream
// shows as few connections for many requests).
// usage (forked by bench/lib/origin.ts): origin-child.ts CERT.pem KEY.pem
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import { performance } from 'node:perf_hooks';

const [certFile, keyFile] = process.argv.slice(2);
if (!certFile || !keyFile || !process.send) {
  process.stderr.write('usage: origin-child.ts CERT.pem KEY.pem (forked with IPC)\n');
  process.exit(2);
}

const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
const MAX_BYTES = 16 * 1024 * 1024;
const MAX_STREAM = 16 * 1024 ** 3;
const CHUNK = crypto.randomBytes(64 * 1024);
const fixed = new Map<number, Buffer>();
let uniqueCounter = 0;

function fixedBody(size: number): Buffer {
  let body = fixed.get(size);
  if (!body) {
    body = Buffer.alloc(size);
    for (let at = 0; at < size; at += CHUNK.length) CHUNK.copy(body, at, 0, Math.min(CHUNK.length, size - at));
    if (fixed.size < 64) fixed.set(size, body);
  }
  return body;
}

function send(res: http.ServerResponse, status: number, body: Buffer | string, type = 'application/octet-stream'): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * `size` bytes in 64 KiB chunks as fast as the client reads them, or paced at `rateBytesPerSec`:
 * by the clock since the head was sent, so a late timer is made up at the next one (the average
 * rate holds) and never more than one chunk runs ahead of it.
 */
function stream(res: http.ServerResponse, size: number, rateBytesPerSec?: number): void {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
  const started = performance.now();
  let sent = 0;
  let timer: NodeJS.Timeout | undefined;
  const pump = (): void => {
    timer = undefined;
    const allowed = rateBytesPerSec ? Math.min(size, Math.floor((rateBytesPerSec * (performance.now() - started)) / 1000) + CHUNK.length) : size;
    while (sent < allowed) {
      const n = Math.min(CHUNK.length, allowed - sent);
      sent += n;
      if (!res.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) {
        res.once('drain', pump);
        return;
      }
    }
    if (sent < size) {
      // the next whole chunk is due when the clock has paid for what was sent
      timer = setTimeout(pump, Math.max(1, (sent / rateBytesPerSec!) * 1000 - (performance.now() - started)));
      return;
    }
    res.end();
  };
  res.once('close', () => {
    sent = size;
    clearTimeout(timer);
  });
  pump();
}

let connections = 0;
let requests = 0;

function handle(req: http.IncomingMessage, res: http.ServerResponse): void {
  requests += 1;
  const [url = '/', query = ''] = (req.url ?? '/').split('?', 2);
  if (req.method === 'POST' || req.method === 'PUT') {
    req.resume();
    req.once('end', () => send(res, 200, 'ok', 'text/plain'));
    return;
  }
  let m: RegExpExecArray | null;
  if ((m = /^\/bytes\/(\d+)$/.exec(url)) && Number(m[1]) <= MAX_BYTES) {
    send(res, 200, fixedBody(Number(m[1])));
  } else if ((m = /^\/unique\/(\d+)$/.exec(url)) && Number(m[1]) >= 16 && Number(m[1]) <= MAX_BYTES) {
    const body = Buffer.from(fixedBody(Number(m[1])));
    body.write(String(++uniqueCounter).padStart(16, '0'), 0, 'latin1');
    send(res, 200, body);
  } else if ((m = /^\/stream\/(\d+)$/.exec(url)) && Number(m[1]) <= MAX_STREAM) {
    const rate = Number(new URLSearchParams(query).get('rate') ?? 0);
    stream(res, Number(m[1]), rate > 0 ? rate : undefined);
  } else if (url === '/eicar') {
    send(res, 200, EICAR, 'application/octet-stream');
  } else {
    send(res, 404, 'not found', 'text/plain');
  }
}

const sockets = new Set<net.Socket>();
function tune(server: http.Server): http.Server {
  // keep connections for the whole scenario: the proxies' pools decide, not our idle timer
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.on(server instanceof https.Server ? 'secureConnection' : 'connection', (socket: net.Socket) => {
    connections += 1;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return server;
}

const plain = tune(http.createServer(handle));
const secure = tune(https.createServer({ cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile) }, handle));

const listen = (server: http.Server): Promise<number> =>
  new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));

const [httpPort, httpsPort] = await Promise.all([listen(plain), listen(secure)]);
process.send({ type: 'ready', httpPort, httpsPort });
process.on('message', (msg: { id: number; type: string }) => {
  if (msg.type === 'memory') process.send?.({ id: msg.id, ...process.memoryUsage() });
  if (msg.type === 'stats') process.send?.({ id: msg.id, connections, requests });
});
process.once('SIGTERM', () => {
  for (const socket of sockets) socket.destroy();
  plain.close();
  secure.close();
  process.exit(0);
});
process.once('disconnect', () => process.exit(0));
