// Which upgrades stay upgrades. Node hands every request carrying `Connection: upgrade` and an
// `Upgrade` token to the server's 'upgrade' listener as a raw socket with its body unread, so an
// `Upgrade: h2c` on a POST would skip the HTTP path entirely. Only a WebSocket handshake (RFC 6455
// §4.1: GET, no body, `Upgrade: websocket`) goes on as an upgrade. Any other request is written
// back into the socket without its upgrade (RFC 9110 §7.8: a server may ignore Upgrade; the token
// is dropped hop-by-hop) and read again by the HTTP server as an ordinary request, so its body
// and its response pass the same stages as any other.
import type http from 'node:http';

export function isWebSocketHandshake(req: http.IncomingMessage): boolean {
  if (req.method !== 'GET') return false;
  if (req.headers['transfer-encoding'] !== undefined) return false;
  const length = req.headers['content-length'];
  if (length !== undefined && length !== '0') return false;
  return tokens(req.headers.upgrade).includes('websocket') && tokens(req.headers.connection).includes('upgrade');
}

/** The request head as received, minus Upgrade and the `upgrade` Connection token, then `head`. */
export function withoutUpgrade(req: http.IncomingMessage, head: Buffer): Buffer {
  const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (name === 'upgrade') continue;
    if (name === 'connection') {
      const rest = raw[i + 1]!.split(',').map((t) => t.trim()).filter((t) => t !== '' && t.toLowerCase() !== 'upgrade');
      if (rest.length > 0) lines.push(`${raw[i]}: ${rest.join(', ')}`);
      continue;
    }
    lines.push(`${raw[i]}: ${raw[i + 1]}`);
  }
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), head]);
}

function tokens(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value.join(',') : value).split(',').map((t) => t.trim().toLowerCase());
}
