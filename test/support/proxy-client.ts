// Clients that talk through the proxy the way curl and browsers do: absolute-form HTTP requests,
// CONNECT tunnels, and HTTPS (TLS over a CONNECT tunnel, verified against a given CA).
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  agent?: http.Agent | false;
}

function collect(res: http.IncomingMessage): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks) }));
    res.on('error', reject);
  });
}

/** An absolute-form request through the proxy (what `curl -x` sends for http:// URLs). */
export function proxyRequest(proxyPort: number, url: string, options: RequestOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: proxyPort, method: options.method ?? 'GET', path: url, headers: options.headers, agent: options.agent ?? false }, (res) =>
      collect(res).then(resolve, reject),
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

export interface ConnectResult {
  status: number;
  head: string;
  socket: net.Socket;
}

/** Send CONNECT and read the proxy's answer head; the socket is the tunnel when status is 200. */
export function connect(proxyPort: number, authority: string, headers: Record<string, string> = {}): Promise<ConnectResult> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(proxyPort, '127.0.0.1');
    let buffered = Buffer.alloc(0);
    socket.once('connect', () => {
      const lines = [`CONNECT ${authority} HTTP/1.1`, `Host: ${authority}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), '', ''];
      socket.write(lines.join('\r\n'));
    });
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      const head = buffered.subarray(0, end).toString('latin1');
      const rest = buffered.subarray(end + 4);
      if (rest.length > 0) socket.unshift(rest);
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
      resolve({ status, head, socket });
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
}

export interface HttpsOptions extends RequestOptions {
  ca?: string | string[];
  servername?: string;
  /** Host header to send (defaults to the CONNECT authority) */
  host?: string;
  proxyHeaders?: Record<string, string>;
}

/** HTTPS through the proxy: CONNECT, TLS verified against `ca`, then one request. */
export async function httpsViaProxy(proxyPort: number, host: string, port: number, path: string, options: HttpsOptions = {}): Promise<Reply & { peerCertificate: tls.PeerCertificate }> {
  const authority = net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
  const tunnel = await connect(proxyPort, authority, options.proxyHeaders);
  if (tunnel.status !== 200) {
    tunnel.socket.destroy();
    throw new Error(`CONNECT answered ${tunnel.status}: ${tunnel.head}`);
  }
  const secure = tls.connect({ socket: tunnel.socket, servername: options.servername ?? (net.isIP(host) ? undefined : host), ca: options.ca, host });
  await new Promise<void>((resolve, reject) => {
    secure.once('secureConnect', resolve);
    secure.once('error', reject);
  });
  const peerCertificate = secure.getPeerCertificate();
  return new Promise((resolve, reject) => {
    // http.request over the TLS socket: https.request would wrap it in TLS a second time.
    const req = http.request(
      {
        host,
        port,
        path,
        method: options.method ?? 'GET',
        headers: { host: options.host ?? authority, ...options.headers },
        // no `agent`: with one (even `false`), Node ignores createConnection and dials directly
        createConnection: () => secure,
      },
      (res) =>
        collect(res).then((reply) => {
          secure.destroy();
          resolve({ ...reply, peerCertificate });
        }, reject),
    );
    req.on('error', reject);
    req.end(options.body);
  });
}
