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
  const tokens = connectionTokens(b.headers, connectionTokens(a.headers, undefined));
  const ignored = tokens ? new Set([...IGNORED, ...tokens]) : IGNORED;
  // An echo keeps the fields in their order: walked side by side without a copy. Only when they
  // differ are both sorted, since the order of fields with different names carries no meaning.
  return sameInOrder(a.headers, b.headers, ignored) || sameSorted(a.headers, b.headers, ignored);
}

/** The end-to-end fields of both, in the order given, are equal. */
function sameInOrder(a: HeaderList, b: HeaderList, ignored: ReadonlySet<string>): boolean {
  let i = 0;
  let j = 0;
  for (;;) {
    while (i < a.length && ignored.has(a[i]![0].toLowerCase())) i++;
    while (j < b.length && ignored.has(b[j]![0].toLowerCase())) j++;
    if (i === a.length || j === b.length) return i === a.length && j === b.length;
    const [p, x] = a[i++]!;
    const [q, y] = b[j++]!;
    if ((p !== q && p.toLowerCase() !== q.toLowerCase()) || (x !== y && x.trim() !== y.trim())) return false;
  }
}

function sameSorted(a: HeaderList, b: HeaderList, ignored: ReadonlySet<string>): boolean {
  const x = endToEnd(a, ignored);
  const y = endToEnd(b, ignored);
  return x.length === y.length && x.every((field, i) => field === y[i]);
}

/** Fields as `name:value`, sorted by name only: RFC 9110 §5.3, the order of fields with different
 * names is not significant, the order of same-name fields is (the sort is stable). */
function endToEnd(headers: HeaderList, ignored: ReadonlySet<string>): string[] {
  return headers
    .map(([name, value]) => [name.toLowerCase(), value.trim()] as const)
    .filter(([name]) => !ignored.has(name))
    .sort(([p], [q]) => (p < q ? -1 : p > q ? 1 : 0))
    .map(([name, value]) => `${name}:${value}`);
}

/** The tokens of Connection fields added to `out` (created on the first one); undefined when none. */
function connectionTokens(headers: HeaderList, out: string[] | undefined): string[] | undefined {
  for (const [name, value] of headers) {
    if (name.length === 10 && name.toLowerCase() === 'connection') for (const t of value.split(',')) (out ??= []).push(t.trim().toLowerCase());
  }
  return out;
}
