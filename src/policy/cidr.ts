// Client address matching for `match.clients`. Every address is held as 128 bits: an IPv4
// address is its IPv4-mapped IPv6 form (RFC 4291 §2.5.5.2, ::ffff:a.b.c.d), so `10.0.0.0/8`
// matches both 10.1.2.3 and ::ffff:10.1.2.3 (what a dual-stack listener reports for IPv4 peers).
// A consequence worth knowing: `::/0` matches every client, IPv4 included.
import net from 'node:net';

/** 128-bit address as four 32-bit words, most significant first. */
export type IpWords = Uint32Array;

/** Parse an IPv4 or IPv6 literal (zone index and brackets ignored); undefined when it is not one. */
export function parseIp(input: string): IpWords | undefined {
  let text = input.startsWith('[') && input.endsWith(']') ? input.slice(1, -1) : input;
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  const family = net.isIP(text);
  if (family === 4) {
    const words = new Uint32Array(4);
    words[2] = 0xffff;
    words[3] = ipv4Word(text);
    return words;
  }
  if (family === 6) return parseIpv6(text);
  return undefined;
}

function ipv4Word(text: string): number {
  const p = text.split('.');
  return ((Number(p[0]) << 24) | (Number(p[1]) << 16) | (Number(p[2]) << 8) | Number(p[3])) >>> 0;
}

// Called only on text net.isIP() accepted, so the shape is known to be valid.
function parseIpv6(text: string): IpWords {
  const groups: number[] = [];
  const toGroups = (part: string): number[] => {
    if (part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (g.includes('.')) {
        const w = ipv4Word(g);
        out.push(w >>> 16, w & 0xffff);
      } else out.push(parseInt(g, 16));
    }
    return out;
  };
  const gap = text.indexOf('::');
  if (gap < 0) groups.push(...toGroups(text));
  else {
    const head = toGroups(text.slice(0, gap));
    const tail = toGroups(text.slice(gap + 2));
    groups.push(...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail);
  }
  const words = new Uint32Array(4);
  for (let i = 0; i < 4; i++) words[i] = (((groups[2 * i] ?? 0) << 16) | (groups[2 * i + 1] ?? 0)) >>> 0;
  return words;
}

export interface Cidr {
  /** the block as written in the config */
  text: string;
  contains(address: IpWords): boolean;
}

/** Compile `10.0.0.0/8`, `2001:db8::/32`, `::ffff:10.0.0.0/104` or a bare address (a /32 or /128). */
export function compileCidr(text: string): Cidr {
  const [addr = '', prefixText] = text.split('/');
  const words = parseIp(addr);
  if (!words) throw new TypeError(`not an IP address or CIDR block: ${text}`);
  const isV4 = net.isIPv4(addr);
  const written = prefixText === undefined ? (isV4 ? 32 : 128) : Number(prefixText);
  const prefix = isV4 ? 96 + written : written;
  if (!Number.isInteger(written) || prefix > 128 || written < 0) throw new TypeError(`bad prefix length in ${text}`);
  const masks = new Uint32Array(4);
  for (let i = 0; i < 4; i++) {
    const bits = Math.min(32, Math.max(0, prefix - 32 * i));
    masks[i] = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    words[i] = (words[i]! & masks[i]!) >>> 0;
  }
  return {
    text,
    contains(address) {
      for (let i = 0; i < 4; i++) if (((address[i]! & masks[i]!) >>> 0) !== words[i]) return false;
      return true;
    },
  };
}
