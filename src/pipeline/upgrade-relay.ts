// A protocol upgrade (WebSocket): the request goes on with Upgrade kept; once the origin answers
// 101 both sockets are spliced and bytes pass as sent (no re-framing). Any other answer is
// relayed as an ordinary response and the connection closes.
import type { Duplex } from 'node:stream';
import { events } from '../core/events.js';
import type { Exchange } from '../core/exchange.js';
import { forwardHeaders } from '../core/headers.js';
import type { OriginClient, OriginTarget } from '../upstream/index.js';

export async function relayUpgrade(
  upstream: OriginClient,
  viaName: string,
  exchange: Exchange,
  headers: string[],
  path: string,
  socket: Duplex,
  head: Buffer,
  origin: OriginTarget,
): Promise<void> {
  const answer = await upstream.openUpgrade(origin, { method: exchange.method, path, headers });
  const status = answer.response.statusCode ?? 502;
  exchange.status = status;
  const switching = status === 101;
  const lines = [`HTTP/1.1 ${status} ${answer.response.statusMessage ?? ''}`];
  const raw = switching ? answer.response.rawHeaders : forwardHeaders(answer.response.rawHeaders, { via: `1.1 ${viaName}` });
  for (let i = 0; i < raw.length; i += 2) lines.push(`${raw[i]}: ${raw[i + 1]}`);
  if (!switching) lines.push('connection: close');
  socket.write(Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1'));
  const done = () => events.exchangeEnd.publish({ exchange, durationMs: performance.now() - exchange.startedAt });
  if (!switching) {
    answer.response.pipe(socket);
    answer.response.once('end', () => socket.end());
    socket.once('close', done);
    return;
  }
  if (answer.head.length > 0) socket.write(answer.head);
  if (head.length > 0) answer.socket.write(head);
  socket.pipe(answer.socket);
  answer.socket.pipe(socket);
  const closeBoth = () => {
    socket.destroy();
    answer.socket.destroy();
  };
  socket.once('error', closeBoth);
  answer.socket.once('error', closeBoth);
  socket.once('close', closeBoth);
  answer.socket.once('close', () => {
    closeBoth();
    done();
  });
}
