// Header handling at the proxy boundary, on raw (flat, order- and case-preserving) header lists.
// RFC 9110 §7.6.1: a proxy removes the hop-by-hop fields, and every field named in Connection.
// RFC 9110 §7.6.3: it appends itself to Via.

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

const NONE: ReadonlySet<string> = new Set();

/** Names listed in every Connection (and the legacy Proxy-Connection) field, lower-cased. */
function connectionTokens(raw: readonly string[], lower: readonly string[]): ReadonlySet<string> {
  let tokens: Set<string> | undefined;
  for (let i = 0; i < lower.length; i++) {
    const name = lower[i]!;
    if (name === 'connection' || name === 'proxy-connection') {
      const value = raw[2 * i + 1]!;
      if (value.length === 10 && value.toLowerCase() === 'keep-alive') continue; // the common one: nothing to add
      for (const token of value.split(',')) {
        const t = token.trim().toLowerCase();
        // `keep-alive` (the common one) names a field that is dropped as hop-by-hop anyway
        if (t && !HOP_BY_HOP.has(t)) (tokens ??= new Set()).add(t);
      }
    }
  }
  return tokens ?? NONE;
}

export interface ForwardOptions {
  /** Header names (lower case) dropped besides the hop-by-hop ones. */
  drop?: ReadonlySet<string>;
  /** Keep Upgrade and `Connection: upgrade` (WebSocket and other protocol switches). */
  keepUpgrade?: boolean;
  /** Value appended to Via: `1.1 dlp-proxy`. */
  via: string;
}

/** Copy a raw header list for the next hop: hop-by-hop fields out, Via appended. */
export function forwardHeaders(raw: readonly string[], options: ForwardOptions): string[] {
  const names: string[] = new Array<string>(raw.length >> 1);
  for (let i = 0; i < names.length; i++) names[i] = raw[2 * i]!.toLowerCase();
  const named = connectionTokens(raw, names);
  const out: string[] = [];
  let via: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = names[i >> 1]!;
    if (lower === 'via') {
      via = via === undefined ? raw[i + 1]! : `${via}, ${raw[i + 1]!}`;
      continue;
    }
    if (options.drop?.has(lower)) continue;
    if (options.keepUpgrade && lower === 'upgrade') {
      out.push(name, raw[i + 1]!);
      continue;
    }
    if (HOP_BY_HOP.has(lower) || named.has(lower)) continue;
    out.push(name, raw[i + 1]!);
  }
  if (options.keepUpgrade) out.push('Connection', 'upgrade');
  out.push('Via', via === undefined ? options.via : `${via}, ${options.via}`);
  return out;
}

/** First value of a header in a raw list (case-insensitive), or undefined. */
export function rawHeader(raw: readonly string[], name: string): string | undefined {
  const lower = name.toLowerCase();
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === lower) return raw[i + 1];
  return undefined;
}

/** Replace (or add) one header in a raw list. */
export function setRawHeader(raw: string[], name: string, value: string): string[] {
  const lower = name.toLowerCase();
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() !== lower) out.push(raw[i]!, raw[i + 1]!);
  out.push(name, value);
  return out;
}
