// An origin server for tests (HTTP or HTTPS on 127.0.0.1, port 0) that records what reached it:
// method, target, raw headers, body size and SHA-256. Routes:
//   /echo            answers the request body back
//   /bytes/N         answers N deterministic bytes (content-length)
//   /chunked/N       the same with chunked transfer coding
//   /hang            never answers (timeouts)
//   /headers         answers the received raw headers as JSON
//   /eicar.com       answers the EICAR anti-virus test file
//   anything else    200 "ok"
// WebSocket upgrades are echoed (ws).
import crypto from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import { WebSocketServer } from 'ws';

export const EICAR = ['X5O!P%@AP[4\\PZX54(P^)7CC)7}$', 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'].join('');

export interface SeenRequest {
  method: string;
  url: string;
  rawHeaders: string[];
  headers: http.IncomingHttpHeaders;
  bodyBytes: number;
  sha256: string;
  remotePort: number;
}

export interface Origin {
  port: number;
  url: string;
  seen: SeenRequest[];
  connections: number;
  close(): Promise<void>;
}

export function deterministicBytes(size: number, seed = 1): Buffer {
  const out = Buffer.alloc(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export async function startOrigin(options: { tls?: { cert: string; key: string } } = {}): Promise<Origin> {
  const seen: SeenRequest[] = [];
  const sockets = new Set<net.Socket>();
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const hash = crypto.createHash('sha256');
    const chunks: Buffer[] = [];
    let bodyBytes = 0;
    req.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      bodyBytes += chunk.length;
      if (req.url === '/echo') chunks.push(chunk);
    });
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', rawHeaders: req.rawHeaders, headers: req.headers, bodyBytes, sha256: hash.digest('hex'), remotePort: req.socket.remotePort ?? 0 });
      const url = req.url ?? '/';
      let m: RegExpExecArray | null;
      if (url === '/echo') {
        const body = Buffer.concat(chunks);
        res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/octet-stream', 'content-length': body.length });
        res.end(body);
      } else if ((m = /^\/bytes\/(\d+)/.exec(url))) {
        const body = deterministicBytes(Number(m[1]));
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length, connection: 'keep-alive', 'keep-alive': 'timeout=5', 'x-hop': 'dropped', 'x-kept': 'yes' });
        res.end(body);
      } else if ((m = /^\/chunked\/(\d+)/.exec(url))) {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.end(deterministicBytes(Number(m[1])));
      } else if (url === '/eicar.com') {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': EICAR.length });
        res.end(EICAR);
      } else if (url === '/hang') {
        // never answer
      } else if (url === '/headers') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(req.rawHeaders));
      } else {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 });
        res.end('ok');
      }
    });
  };
  const server = options.tls ? https.createServer({ cert: options.tls.cert, key: options.tls.key }, handler) : http.createServer(handler);
  let connections = 0;
  server.on(options.tls ? 'secureConnection' : 'connection', () => connections++);
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    seen,
    get connections() {
      return connections;
    },
    async close() {
      wss.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
