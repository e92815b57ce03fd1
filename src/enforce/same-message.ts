// "Unchanged" for an ICAP 200: c-icap's srv_content_filtering never answers 204, it echoes the
// message with a Via header added. The heads are equal when start line and end-to-end fields
// agree, ignoring Via, hop-by-hop fields (RFC 9110 §7.6.1, including those named in Connection)
// and framing (Content-Length, Transfer-Encoding); the body is compared by hash by the caller.
import type { HeaderList, HttpHead } from '../core/types.js';

const IGNORED = new Set([
  'via',
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-authenticate',
  'proxy-authorization',
  'content-length',
]);

export function sameHead(a: HttpHead, b: HttpHead): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'request' && (a.method !== b.method || a.target !== b.target)) return false;
  if (a.kind === 'response' && a.status !== b.status) return false;
  const ignored = new Set([...IGNORED, ...connectionTokens(a.headers), ...connectionTokens(b.headers)]);
  const x = endToEnd(a.headers, ignored);
  const y = endToEnd(b.headers, ignored);
  return x.length === y.length && x.every((field, i) => field === y[i]);
}

/** Fields as `name:value`, sorted by name only: RFC 9110 §5.3, the order of fields with different
 * names is not significant, the order of same-name fields is (the sort is stable). */
function endToEnd(headers: HeaderList, ignored: Set<string>): string[] {
  return headers
    .map(([name, value]) => [name.toLowerCase(), value.trim()] as const)
    .filter(([name]) => !ignored.has(name))
    .sort(([p], [q]) => (p < q ? -1 : p > q ? 1 : 0))
    .map(([name, value]) => `${name}:${value}`);
}

function connectionTokens(headers: HeaderList): string[] {
  const out: string[] = [];
  for (const [name, value] of headers) {
    if (name.toLowerCase() === 'connection') for (const t of value.split(',')) out.push(t.trim().toLowerCase());
  }
  return out;
}
