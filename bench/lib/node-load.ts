// The bench's own load generator on node:http: N concurrent keep-alive connections for a fixed
// time, HTTP/1.1 requests one after another on each. For HTTPS, which autocannon cannot send
// through a proxy (it has no CONNECT), each connection is TLS straight to the origin or CONNECT to
// the proxy followed by TLS inside the tunnel (the interception path). For plain HTTP it sends
// absolute-form requests to the proxy; it is used where autocannon itself is the bottleneck
// (large bodies, which autocannon copies). Bounded: no request starts after the deadline, each
// has a timeout, and the connections are destroyed at the end.
import http from 'node:http';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { LatencyHistogram } from './histogram.js';
import type { LoadResult } from './types.js';

export interface NodeLoadOptions {
  protocol: 'http' | 'https';
  originPort: number;
  /** CONNECT through this proxy; without it, TLS straight to the origin. */
  proxyPort?: number;
  path: string;
  connections: number;
  durationMs: number;
  /** HTTPS: the CA certificates the client trusts (the origin's CA direct, the proxy's when intercepted). */
  ca?: string;
  requestTimeoutMs?: number;
  signal?: AbortSignal;
}

const HOST = '127.0.0.1';

/** Open a CONNECT tunnel: resolves with the socket once the proxy answered 2xx. */
export function connectTunnel(proxyPort: number, authority: string, timeoutMs = 10_000): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(proxyPort, HOST);
    socket.setNoDelay(true);
    let head = Buffer.alloc(0);
    const fail = (err: Error) => {
      socket.destroy();
      reject(err);
    };
    socket.setTimeout(timeoutMs, () => fail(new Error(`CONNECT ${authority}: no answer in ${timeoutMs} ms`)));
    socket.once('error', fail);
    socket.on('data', function onData(chunk: Buffer) {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > 16 * 1024) fail(new Error(`CONNECT ${authority}: answer head over 16 KiB`));
        return;
      }
      socket.removeListener('data', onData);
      socket.removeListener('error', fail);
      socket.setTimeout(0);
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(head.subarray(0, end).toString('latin1'))?.[1];
      if (!status?.startsWith('2')) return fail(new Error(`CONNECT ${authority}: ${head.subarray(0, Math.min(end, 80)).toString('latin1')}`));
      if (head.length > end + 4) socket.unshift(head.subarray(end + 4));
      resolve(socket);
    });
    socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
  });
}

function openTls(options: NodeLoadOptions): Promise<tls.TLSSocket> {
  const authority = `${HOST}:${options.originPort}`;
  const tunnel = options.proxyPort === undefined ? Promise.resolve(undefined) : connectTunnel(options.proxyPort, authority);
  return tunnel.then(
    (socket) =>
      new Promise<tls.TLSSocket>((resolve, reject) => {
        // an IP target: no SNI (RFC 6066 §3), the certificate's IP SAN is checked
        const secure = tls.connect({ socket, host: HOST, port: options.originPort, ca: options.ca });
        secure.setNoDelay?.(true);
        secure.once('secureConnect', () => {
          secure.removeListener('error', reject);
          resolve(secure);
        });
        secure.once('error', reject);
      }),
  );
}

/** One keep-alive connection (maxSockets 1): TCP to the proxy or origin, or a socket from `openTls`. */
class OneConnectionAgent extends http.Agent {
  opened = 0;
  constructor(private readonly load: NodeLoadOptions) {
    super({ keepAlive: true, maxSockets: 1 });
  }

  // node:http's Agent accepts an asynchronous createConnection that answers through the callback
  override createConnection(_options: net.NetConnectOpts, callback: (err: Error | null, socket?: Duplex) => void): Duplex {
    this.opened += 1;
    if (this.load.protocol === 'http') {
      const socket = net.connect({ host: HOST, port: this.load.proxyPort ?? this.load.originPort });
      socket.setNoDelay(true);
      return socket;
    }
    openTls(this.load).then(
      (socket) => callback(null, socket),
      (err: Error) => callback(err),
    );
    return undefined as unknown as Duplex;
  }
}

function request(agent: http.Agent, options: NodeLoadOptions): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const authority = `${HOST}:${options.originPort}`;
    // plain HTTP through a proxy: the absolute-form target (RFC 9112 §3.2.2)
    const path = options.protocol === 'http' && options.proxyPort !== undefined ? `http://${authority}${options.path}` : options.path;
    const req = http.get({ agent, host: HOST, port: options.originPort, path, headers: { host: authority }, timeout: options.requestTimeoutMs ?? 10_000 }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      });
      res.once('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
      res.once('error', reject);
    });
    req.once('timeout', () => req.destroy(new Error('request timeout')));
    req.once('error', reject);
  });
}

export async function runNodeLoad(options: NodeLoadOptions): Promise<LoadResult & { connectionsOpened: number }> {
  const histogram = new LatencyHistogram();
  const started = performance.now();
  const deadline = started + options.durationMs;
  let requests = 0;
  let errors = 0;
  let non2xx = 0;
  let bytes = 0;
  let opened = 0;
  const agents: OneConnectionAgent[] = [];

  const worker = async (): Promise<void> => {
    const agent = new OneConnectionAgent(options);
    agents.push(agent);
    while (performance.now() < deadline && !options.signal?.aborted) {
      const t0 = performance.now();
      try {
        const res = await request(agent, options);
        histogram.record(performance.now() - t0);
        requests += 1;
        bytes += res.bytes;
        if (res.status < 200 || res.status > 299) non2xx += 1;
      } catch {
        errors += 1;
        // a refused or broken connection: back off a little instead of spinning
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: options.connections }, worker));
  } finally {
    for (const agent of agents) {
      opened += agent.opened;
      agent.destroy();
    }
  }
  const durationS = (performance.now() - started) / 1000;
  return {
    requests,
    errors,
    non2xx,
    durationS,
    reqPerSec: requests / durationS,
    bytesPerSec: bytes / durationS,
    p50Ms: histogram.percentile(0.5),
    p99Ms: histogram.percentile(0.99),
    maxMs: histogram.max,
    connectionsOpened: opened,
  };
}
