// Identity headers for REQMOD/RESPMOD, as Squid and the RFC 3507 §4.10 extensions name them. A
// value that is not printable ASCII is left out rather than sent broken; the user name also goes
// base64-encoded as X-Authenticated-User (a URI, Local:// when it has no scheme).
import type { HeaderList } from '../core/types.js';

const PRINTABLE = /^[\x21-\x7e][\x20-\x7e]*$/;

export function identityHeaders(request: { clientIp?: string | undefined; serverIp?: string | undefined; user?: string | undefined }): HeaderList {
  const h: HeaderList = [];
  if (request.clientIp && PRINTABLE.test(request.clientIp)) h.push(['X-Client-IP', request.clientIp]);
  if (request.serverIp && PRINTABLE.test(request.serverIp)) h.push(['X-Server-IP', request.serverIp]);
  if (request.user) {
    const uri = request.user.includes('://') ? request.user : `Local://${request.user}`;
    h.push(['X-Authenticated-User', Buffer.from(uri, 'utf8').toString('base64')]);
    if (PRINTABLE.test(request.user)) h.push(['X-Client-Username', request.user]);
  }
  return h;
}
