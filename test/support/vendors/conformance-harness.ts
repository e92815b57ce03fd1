// One vendor simulator behind a whole proxy (startTestProxy), with an origin that serves and
// records exactly the bytes a case chooses. Services per configuration of the simulator (see
// simulator.ts), every one `vendor: auto`, chosen by the first path segment of the request:
//   /p/…    dlp | av            Preview, fail closed
//   /np/…   dlp-np | av-np      no Preview; failModes serverError and unscannable open, so the same
//                               vendor answer that is a 503 under /p/ passes unscanned (and logged):
//                               the fail class decides, not the vendor
//   /pm/…   dlp | av            the policy's onViolation: monitor
//   /mon/…  dlp-mon | av-mon    the server's own monitor / trial mode
//   /mc1/…  dlp-mc1 | av-mc1    Max-Connections: 1, queueTimeoutMs 100
//   /redact/… dlp-redact        a redaction rule (uploads)
import http from 'node:http';
import type net from 'node:net';
import { randomUUID } from 'node:crypto';
import { proxyRequest, type Reply } from '../proxy-client.js';
import { startTestProxy, type TestProxy } from '../proxy-harness.js';
import { startVendorSimulator, type VendorScript, type VendorSimulator } from './simulator.js';

export type Direction = 'upload' | 'download';
export type Variant = 'p' | 'np' | 'pm' | 'mon' | 'mc1' | 'redact';

export interface ContentOrigin {
  url: string;
  /** what uploads delivered, by path */
  received: Map<string, Buffer>;
  serve(path: string, body: Buffer): void;
  close(): Promise<void>;
}

export async function startContentOrigin(): Promise<ContentOrigin> {
  const served = new Map<string, Buffer>();
  const received = new Map<string, Buffer>();
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      if (req.method === 'POST') received.set(path, Buffer.concat(chunks));
      const body = req.method === 'GET' ? (served.get(path) ?? Buffer.from('not found')) : Buffer.from('ok');
      res.writeHead(req.method === 'GET' && !served.has(path) ? 404 : 200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
      res.end(body);
    });
  });
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    serve: (path, body) => void served.set(path, body),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface VendorHarness {
  sim: VendorSimulator;
  proxy: TestProxy;
  origin: ContentOrigin;
  /** one exchange through the proxy; the body carries a nonce so no two cases share a verdict */
  send(direction: Direction, variant: Variant, content: Buffer | string): Promise<Exchange>;
  close(): Promise<void>;
}

export interface Exchange {
  path: string;
  sent: Buffer;
  reply: Reply;
  /** the JSON page of a block or a 503 */
  page: { reason?: string; violations?: string[]; incidentId?: string; code?: string } | undefined;
}

const SERVICE_SUFFIX: Record<Variant, string> = { p: '', np: '-np', pm: '', mon: '-mon', mc1: '-mc1', redact: '-redact' };

export async function startVendorHarness(script: VendorScript, caDir: string, scan: Record<string, unknown>): Promise<VendorHarness> {
  const sim = await startVendorSimulator(script);
  const origin = await startContentOrigin();
  const services: Record<string, unknown> = {};
  const policy: unknown[] = [];
  for (const variant of ['p', 'np', 'pm', 'mon', 'mc1', 'redact'] as const) {
    for (const [direction, name, path] of [['upload', 'dlp', 'req'], ['download', 'av', 'resp']] as const) {
      const suffix = SERVICE_SUFFIX[variant];
      services[`${name}${suffix}`] = {
        urls: [sim.url(`${path}${suffix}`)],
        health: { failureLimit: 0, probeIntervalMs: 0 },
        // every body previewed where the simulator offers it (the bodies are small and held whole,
        // which skipPreviewUpToBytes would otherwise send without), so each vendor's answers to a
        // preview and to 100 Continue are exercised; /np/ is the same vendor without preview
        ...(variant === 'np' ? { failModes: { serverError: 'open', unscannable: 'open' } } : { skipPreviewUpToBytes: 0 }),
        ...(variant === 'mc1' ? { queueTimeoutMs: 100 } : {}),
      };
      policy.push({ name: `${direction}-${variant}`, match: { direction, paths: [`^/${variant}/`] }, scan: `${name}${suffix}`, ...(variant === 'pm' ? { onViolation: 'monitor' } : {}) });
    }
  }
  const proxy = await startTestProxy({ services, policy, scan }, { caDir });
  return {
    sim,
    proxy,
    origin,
    async send(direction, variant, content) {
      const path = `/${variant}/${randomUUID()}`;
      const sent = Buffer.concat([Buffer.from(content), Buffer.from(`\n${path}\n`)]);
      const headers = { accept: 'application/json', 'content-type': 'application/octet-stream' };
      let reply: Reply;
      if (direction === 'upload') reply = await proxyRequest(proxy.port, `${origin.url}${path}`, { method: 'POST', body: sent, headers });
      else {
        origin.serve(path, sent);
        reply = await proxyRequest(proxy.port, `${origin.url}${path}`, { headers });
      }
      const json = reply.status === 403 || reply.status === 503 ? (JSON.parse(reply.body.toString()) as Exchange['page']) : undefined;
      return { path, sent, reply, page: json };
    },
    async close() {
      await proxy.close();
      await origin.close();
      await sim.close();
    },
  };
}

/** The violation log line of an exchange, by incident id (blocks) or path (monitored passes). */
export function violationLine(proxy: TestProxy, by: { incident?: string; path?: string }): Record<string, unknown> | undefined {
  return proxy.logs.find((l) => l.log === 'violation' && (by.incident === undefined || l.incident === by.incident) && (by.path === undefined || l.path === by.path));
}
