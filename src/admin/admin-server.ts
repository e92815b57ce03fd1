// The admin listener (default 127.0.0.1:9090, never the proxy port): /metrics, /healthz, /readyz,
// /ca.pem, /ca.der, /proxy.pac and the onboarding page at /. Off loopback only proxy.allowedClients
// may connect (the same ClientAllowList as the proxy); the others are cut before a byte is read.
// GET and HEAD only, except the sign-in forms; every answer is no-store and nosniff, pages load
// nothing. The incident reports (/incidents, /api/incidents, /login, /logout) are behind sign-in
// (incidents/incident-reports.ts); over TLS when admin.tls names a certificate and key.
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { isLoopback } from '../config/index.js';
import { formatAuthority, parseHostPort } from '../core/host.js';
import { ClientAllowList } from '../proxy/index.js';
import type { AdminAnswer } from './incidents/admin-answer.js';
import { IncidentReports, isReportPath, type IncidentReportsOptions } from './incidents/incident-reports.js';
import { renderOnboardingPage } from './onboarding-page.js';
import { pacProxyAddress, renderProxyPac } from './proxy-pac.js';
import type { Readiness } from './readiness.js';

export interface AdminServerOptions {
  host: string;
  port: number;
  /** enforced when `host` is not a loopback address */
  allowedClients: readonly string[];
  metrics: { text(): Promise<string>; contentType: string };
  ca: { certPem: string; certDer: Buffer };
  proxy: { host: string; port: number; bypass: readonly string[]; tunnel: readonly string[]; pacProxy?: string | undefined };
  /** whom to contact, as on the block page */
  contact: string;
  readiness(): Promise<Readiness>;
  /** incident reports and their sign-in; without them /incidents, /api/incidents and /login answer 404 */
  incidents?: IncidentReportsOptions | undefined;
  /** admin.tls: PEM files of the listener's certificate (chain) and key; read at listen() */
  tls?: { cert: string; key: string } | undefined;
}

type Answer = AdminAnswer;

const PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";

export class AdminServer {
  readonly #options: AdminServerOptions;
  readonly #allow: ClientAllowList;
  #server: http.Server | undefined;
  readonly #reports: IncidentReports | undefined;
  readonly #fingerprint256: string;
  readonly #caName: string;
  readonly #started = Date.now();

  constructor(options: AdminServerOptions) {
    this.#options = options;
    this.#allow = new ClientAllowList(isLoopback(options.host) ? [] : options.allowedClients);
    const cert = new crypto.X509Certificate(options.ca.certPem);
    this.#fingerprint256 = cert.fingerprint256;
    this.#caName = /(?:^|\n)CN=([^\n]+)/.exec(cert.subject)?.[1] ?? cert.subject;
    this.#reports = options.incidents ? new IncidentReports(options.incidents, options.tls !== undefined) : undefined;
  }

  /** Listen; resolves with the bound port. */
  async listen(): Promise<number> {
    const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
      this.#handle(req)
        .then((answer) => send(req, res, answer))
        .catch(() => (res.headersSent ? res.destroy() : send(req, res, text(500, 'internal error\n'))));
    };
    const tls = this.#options.tls;
    const server = tls ? https.createServer({ cert: await fs.readFile(tls.cert), key: await fs.readFile(tls.key) }, onRequest) : http.createServer(onRequest);
    server.headersTimeout = 10_000;
    server.requestTimeout = 30_000;
    server.keepAliveTimeout = 5_000;
    server.on('connection', (socket: net.Socket) => {
      if (!this.#allow.allows(socket.remoteAddress)) socket.destroy();
    });
    this.#server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#options.port, this.#options.host, () => {
        server.off('error', reject);
        resolve((server.address() as net.AddressInfo).port);
      });
    });
  }

  async close(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  async #handle(req: http.IncomingMessage): Promise<Answer> {
    const url = req.url ?? '/';
    const mark = url.indexOf('?');
    const path = mark < 0 ? url : url.slice(0, mark);
    const query = mark < 0 ? '' : url.slice(mark + 1);
    if (isReportPath(path)) {
      if (this.#reports) return this.#reports.handle(req, path, new URLSearchParams(query));
      req.resume();
      return text(404, 'incident reports are not served by this admin listener: they need the incident store (incidents.enabled) and admin.users\n');
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return { ...text(405, 'method not allowed\n'), headers: { allow: 'GET, HEAD' } };
    const o = this.#options;
    switch (path) {
      case '/metrics':
        return { status: 200, type: o.metrics.contentType, body: await o.metrics.text() };
      case '/healthz':
        return json(200, { status: 'ok', uptimeSeconds: Math.round((Date.now() - this.#started) / 1000) });
      case '/readyz': {
        const readiness = await o.readiness();
        return json(readiness.ready ? 200 : 503, readiness);
      }
      case '/ca.pem':
        return { status: 200, type: 'application/x-pem-file', body: o.ca.certPem, headers: { 'content-disposition': 'attachment; filename="dlp-proxy-ca.pem"' } };
      case '/ca.der':
        return { status: 200, type: 'application/pkix-cert', body: o.ca.certDer, headers: { 'content-disposition': 'attachment; filename="dlp-proxy-ca.crt"' } };
      case '/proxy.pac':
        return {
          status: 200,
          type: 'application/x-ns-proxy-autoconfig',
          body: renderProxyPac({ proxy: this.#proxyAddress(req), bypass: o.proxy.bypass, tunnel: o.proxy.tunnel }),
        };
      case '/':
        return {
          status: 200,
          type: 'text/html; charset=utf-8',
          headers: { 'content-security-policy': PAGE_CSP },
          body: renderOnboardingPage({ fingerprint256: this.#fingerprint256, caName: this.#caName, adminOrigin: `http://${this.#adminAuthority(req)}`, proxyAddress: this.#proxyAddress(req), contact: o.contact }),
        };
      default:
        return text(404, 'not found: try /, /metrics, /healthz, /readyz, /ca.pem, /ca.der or /proxy.pac\n');
    }
  }

  #proxyAddress(req: http.IncomingMessage): string {
    const o = this.#options;
    return pacProxyAddress({ pacProxy: o.proxy.pacProxy, proxyHost: o.proxy.host, proxyPort: o.proxy.port, requestHost: req.headers.host });
  }

  /** The admin listener as the client reached it (a Host that does not parse is not echoed). */
  #adminAuthority(req: http.IncomingMessage): string {
    const port = (this.#server?.address() as net.AddressInfo | null | undefined)?.port ?? this.#options.port;
    const asked = req.headers.host ? parseHostPort(req.headers.host, 80) : undefined;
    return asked ? formatAuthority(asked.host, asked.port, 80) : formatAuthority(this.#options.host === '0.0.0.0' || this.#options.host === '::' ? '127.0.0.1' : this.#options.host, port, 80);
  }
}

function text(status: number, body: string): Answer {
  return { status, type: 'text/plain; charset=utf-8', body };
}

function json(status: number, value: unknown): Answer {
  return { status, type: 'application/json; charset=utf-8', body: `${JSON.stringify(value, null, 2)}\n` };
}

function send(req: http.IncomingMessage, res: http.ServerResponse, answer: Answer): void {
  const headers = { 'content-type': answer.type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', ...answer.headers };
  if (typeof answer.body === 'string' || Buffer.isBuffer(answer.body)) {
    const body = typeof answer.body === 'string' ? Buffer.from(answer.body, 'utf8') : answer.body;
    res.writeHead(answer.status, { ...headers, 'content-length': String(body.length) });
    res.end(body);
    return;
  }
  // a streamed export: chunked (RFC 9112 §7.1), written as the store pages come, with backpressure
  res.writeHead(answer.status, headers);
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  pipeline(Readable.from(answer.body), res).catch(() => res.destroy());
}
