// What the exchange machine reads and rewrites in message heads, as pure functions: partial
// responses, Via loops, WebSocket extension offers, header lists.
import type { ResponseFacts } from './exchange-protocol.js';

/**
 * A response that is only part of the representation: 206, or a Content-Range that does not
 * cover the whole (`bytes 0-99/100` does). We never asked for a part (Range was stripped).
 */
export function isPartial(response: ResponseFacts, bytes: number | undefined): boolean {
  const contentRange = headerValue(response.headers['content-range']);
  if (response.status !== 206 && contentRange === undefined) return false;
  const m = contentRange === undefined ? null : /^\s*bytes\s+(\d+)-(\d+)\/(\d+)\s*$/i.exec(contentRange);
  if (!m) return true;
  const [start, end, total] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return !(start === 0 && end === total - 1 && (bytes === undefined || bytes === total));
}

/** received-by names in a Via field (RFC 9110 §7.6.3): `1.1 a, 1.0 b (comment)` → [a, b]. */
export function viaNames(via: string): string[] {
  return via.split(',').map((entry) => (entry.trim().split(/\s+/)[1] ?? '').toLowerCase());
}

/**
 * The header fields `raw` with the offers of each `name` field (a comma list of tokens with
 * parameters) kept only when `keep` takes their token; a field left with none goes.
 */
function keepOffers(raw: readonly string[], name: string, keep: (token: string) => boolean): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() !== name) {
      out.push(raw[i]!, raw[i + 1]!);
      continue;
    }
    const offers = raw[i + 1]!.split(',').filter((offer) => keep(offer.split(';')[0]!.trim().toLowerCase()));
    if (offers.length > 0) out.push(raw[i]!, offers.map((o) => o.trim()).join(', '));
  }
  return out;
}

/**
 * The client's WebSocket extension offers, keeping only those the relay can read
 * (permessage-deflate): an extension the relay cannot decode would make its messages unscannable.
 */
export function onlyInspectableExtensions(raw: readonly string[]): string[] {
  return keepOffers(raw, 'sec-websocket-extensions', (token) => token === 'permessage-deflate');
}

/** Content codings a download scan can undo (RFC 9110 §8.4.1); the built-in service reads these three. */
const SCANNABLE_CODINGS = new Set(['gzip', 'x-gzip', 'deflate', 'br', 'identity']);

/**
 * The client's Accept-Encoding for a download that may be scanned, keeping only codings a scan
 * can undo: a browser offers zstd, an origin answers in it, and an AV scanner reading zstd as raw
 * bytes misses EICAR. With no such coding left the field goes, and identity is what comes.
 */
export function onlyScannableCodings(raw: readonly string[]): string[] {
  return keepOffers(raw, 'accept-encoding', (token) => SCANNABLE_CODINGS.has(token));
}

export function dropNamed(raw: readonly string[], ...names: string[]): string[] {
  const drop = new Set(names);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (!drop.has(raw[i]!.toLowerCase())) out.push(raw[i]!, raw[i + 1]!);
  return out;
}

export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The origin-form target (path and query) of a request, as the client sent it. */
export function originForm(url: string): string {
  const match = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(url);
  if (!match) return url === '' ? '/' : url;
  const rest = url.slice(match[0].length);
  return rest === '' ? '/' : rest.startsWith('/') ? rest : `/${rest}`;
}
