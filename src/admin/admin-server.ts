// The admin listener (default 127.0.0.1:9090, never the proxy port): /metrics, /healthz, /readyz,
// /ca.pem, /ca.der, /proxy.pac and the onboarding page at /. Off loopback only proxy.allowedClients
// may connect (the same ClientAllowList as the proxy); the others are cut before a byte is read.
// GET and HEAD only; every answer is no-store and nosniff, pages load nothing.
import crypto from 'node:crypto';
import http from 'node:http';
import type net from 'node:net';
import { isLoopback } from '../config/index.js';
import { formatAuthority, parseHostPort } from '../core/host.js';
import { ClientAllowList } from '../proxy/index.js';
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
}

interface Answer {
  status: number;
  type: string;
  body: string | Buffer;
  headers?: Record<string, string>;
}

const PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";

export class AdminServer {
  readonly #options: AdminServerOptions;
  readonly #allow: ClientAllowList;
  readonly #server: http.Server;
  readonly #fingerprint256: string;
  readonly #caName: string;
  readonly #started = Date.now();

  constructor(options: AdminServerOptions) {
    this.#options = options;
    this.#allow = new ClientAllowList(isLoopback(options.host) ? [] : options.allowedClients);
    const cert = new crypto.X509Certificate(options.ca.certPem);
    this.#fingerprint256 = cert.fingerprint256;
    this.#caName = /(?:^|\n)CN=([^\n]+)/.exec(cert.subject)?.[1] ?? cert.subject;
    this.#server = http.createServer((req, res) => {
      this.#handle(req)
        .then((answer) => send(res, answer))
        .catch(() => send(res, text(500, 'internal error\n')));
    });
    this.#server.headersTimeout = 10_000;
    this.#server.requestTimeout = 30_000;
    this.#server.keepAliveTimeout = 5_000;
    this.#server.on('connection', (socket: net.Socket) => {
      if (!this.#allow.allows(socket.remoteAddress)) socket.destroy();
    });
  }

  /** Listen; resolves with the bound port. */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#options.port, this.#options.host, () => {
        this.#server.off('error', reject);
        resolve((this.#server.address() as net.AddressInfo).port);
      });
    });
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeAllConnections();
    await closed;
  }

  async #handle(req: http.IncomingMessage): Promise<Answer> {
    if (req.method !== 'GET' && req.method !== 'HEAD') return { ...text(405, 'method not allowed\n'), headers: { allow: 'GET, HEAD' } };
    const path = (req.url ?? '/').split('?')[0];
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
    const port = (this.#server.address() as net.AddressInfo | null)?.port ?? this.#options.port;
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

function send(res: http.ServerResponse, answer: Answer): void {
  const body = typeof answer.body === 'string' ? Buffer.from(answer.body, 'utf8') : answer.body;
  res.writeHead(answer.status, {
    'content-type': answer.type,
    'content-length': String(body.length),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...answer.headers,
  });
  res.end(body);
}
