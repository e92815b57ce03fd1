// A whole HTTP/1.1 response as bytes, for sockets that have no ServerResponse (a refused CONNECT,
// a failed protocol upgrade). The connection closes after it.
import http from 'node:http';

export interface RawPage {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export function rawResponse(page: RawPage, extra: Record<string, string> = {}): Buffer {
  const lines = [`HTTP/1.1 ${page.status} ${http.STATUS_CODES[page.status] ?? 'Error'}`];
  for (const [name, value] of Object.entries({ ...page.headers, ...extra })) lines.push(`${name}: ${value}`);
  lines.push(`content-length: ${page.body.length}`, 'connection: close', '', '');
  return Buffer.concat([Buffer.from(lines.join('\r\n'), 'latin1'), page.body]);
}
