// OPTIONS on a pooled connection (RFC 3507 §4.10): the answer becomes an IcapOptions value.
import { ProxyError } from '../core/errors.js';
import { encodeIcapRequest } from './codec/index.js';
import type { IcapConnection } from './connection.js';
import { IcapOptions } from './icap-options.js';
import { ResponseReader } from './response-reader.js';

export async function fetchOptions(conn: IcapConnection, readIdleTimeoutMs: number, release: (reuse: boolean) => void): Promise<IcapOptions> {
  let released = false;
  const done = (reuse: boolean) => {
    if (released) return;
    released = true;
    release(reuse);
  };
  const reader = new ResponseReader(conn, () => done(!reader.failed && !reader.closeRequested));
  conn.attach(reader);
  try {
    await conn.write([encodeIcapRequest({ method: 'OPTIONS', uri: conn.target.uri, hasBody: false })]);
    conn.expect(readIdleTimeoutMs, 'ICAP_READ_TIMEOUT', 'OPTIONS answer');
    const answer = await reader.answer();
    const { head } = answer;
    reader.discard();
    const details = { server: conn.target.label, status: head.status, reason: head.reason, method: 'OPTIONS' };
    if (head.status === 503) throw new ProxyError('ICAP_OVERLOADED', `ICAP server ${conn.target.label} is overloaded (503 on OPTIONS)`, { details });
    if (head.status !== 200) throw new ProxyError('ICAP_SERVER_ERROR', `ICAP OPTIONS on ${conn.target.uri} answered ${head.status} ${head.reason}`, { details });
    return new IcapOptions(head.headers, Date.now());
  } catch (err) {
    if (!reader.ended) {
      conn.destroy();
      done(false);
    }
    throw err;
  }
}
