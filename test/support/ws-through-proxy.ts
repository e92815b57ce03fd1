// WebSocket clients through the proxy the ways browsers and libraries reach it: an absolute-form
// handshake (`GET http://host/path` with Upgrade), or a CONNECT tunnel first (what Chromium does
// for ws:// and wss:// behind a proxy), plain or with TLS that the proxy intercepts.
import net from 'node:net';
import tls from 'node:tls';
import WebSocket from 'ws';

export type Route = 'absolute-form' | 'connect' | 'connect-tls';

/** Open a ws client to `url` through the proxy; resolves on 'open', rejects on a refused handshake. */
export function openThroughProxy(proxyPort: number, url: string, route: Route, options: { ca?: string; perMessageDeflate?: boolean } = {}): Promise<WebSocket> {
  const target = new URL(url);
  const authority = `${target.hostname}:${target.port}`;
  const createConnection = (): net.Socket => {
    const socket = net.connect(proxyPort, '127.0.0.1');
    if (route === 'absolute-form') {
      // the request line in absolute-form, as a client configured with an HTTP proxy sends it
      const write = socket.write.bind(socket);
      let first = true;
      socket.write = ((chunk: string | Buffer, ...rest: unknown[]) => {
        if (first) {
          first = false;
          chunk = chunk.toString().replace(/^GET (\S+) /, `GET http://${authority}$1 `);
        }
        return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
      }) as typeof socket.write;
      return socket;
    }
    return socket;
  };
  return new Promise((resolve, reject) => {
    const start = (connection?: () => net.Socket) => {
      const client = new WebSocket(url, {
        perMessageDeflate: options.perMessageDeflate ?? true,
        ...(connection ? { createConnection: connection } : {}),
        ...(options.ca ? { ca: options.ca } : {}),
      } as WebSocket.ClientOptions);
      client.once('open', () => resolve(client));
      client.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`handshake refused: ${res.statusCode}`), { status: res.statusCode, headers: res.headers })));
      client.once('error', reject);
    };
    if (route === 'absolute-form') return start(createConnection);
    // CONNECT first, then the handshake inside the tunnel (TLS for wss://, verified against `ca`)
    const socket = net.connect(proxyPort, '127.0.0.1', () => socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`));
    let head = '';
    const onData = (d: Buffer) => {
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      if (!/^HTTP\/1\.1 200/.test(head)) return reject(new Error(`CONNECT refused: ${head.split('\r\n')[0]}`));
      if (route === 'connect') return start(() => socket);
      const secure = tls.connect({ socket, host: target.hostname, servername: net.isIP(target.hostname) ? undefined : target.hostname, ...(options.ca ? { ca: options.ca } : {}) } as tls.ConnectionOptions);
      secure.once('secureConnect', () => start(() => secure as unknown as net.Socket));
      secure.once('error', reject);
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
}

/** The close code and reason the client saw. */
export function closed(client: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => client.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
}
