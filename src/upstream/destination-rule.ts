// IP blocks for the destination guard: the entries of `upstream.allowDestinations` and
// `upstream.denyDestinations` (`CIDR[:ports]`, IPv6 in brackets when ports follow: `10.0.0.0/8`,
// `10.1.2.3/32:443`, `192.168.0.0/16:8000-8999`, `[fd00::/8]:443`) and the built-in blocks.
// Addresses compare as integers. An IPv4-mapped IPv6 address (RFC 4291 §2.5.5.2, ::ffff:a.b.c.d)
// reaches the IPv4 host it carries, so it is compared as that IPv4 address.
import net from 'node:net';
import { ProxyError } from '../core/errors.js';

export interface IpAddress {
  family: 4 | 6;
  value: bigint;
}

export interface IpBlock {
  family: 4 | 6;
  network: bigint;
  prefix: number;
}

export interface DestinationRule extends IpBlock {
  /** the config path and the entry, for messages: `upstream.denyDestinations[1] (10.0.0.0/8)` */
  name: string;
  /** inclusive port range; undefined = every port */
  ports: { from: number; to: number } | undefined;
}

const BITS = { 4: 32, 6: 128 } as const;

function ipv4Value(text: string): bigint {
  return text.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
}

/** `text` is valid IPv6 (net.isIPv6) without a zone. */
function ipv6Value(text: string): bigint {
  let s = text;
  if (s.includes('.')) {
    // an embedded IPv4 tail (::ffff:127.0.0.1) becomes its two 16-bit groups
    const tail = s.lastIndexOf(':');
    const v4 = ipv4Value(s.slice(tail + 1));
    s = `${s.slice(0, tail + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const [head = '', tail] = s.split('::');
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const all = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return all.reduce((acc, group) => (acc << 16n) | BigInt(parseInt(group, 16)), 0n);
}

/** An IP literal as an address (brackets and an IPv6 zone ignored, IPv4-mapped as IPv4), or undefined for a name. */
export function parseIp(text: string): IpAddress | undefined {
  let s = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  if (net.isIPv4(s)) return { family: 4, value: ipv4Value(s) };
  if (!net.isIPv6(s)) return undefined;
  const value = ipv6Value(s);
  return value >> 32n === 0xffffn ? { family: 4, value: value & 0xffffffffn } : { family: 6, value };
}

export function inBlock(block: IpBlock, address: IpAddress): boolean {
  if (block.family !== address.family) return false;
  const shift = BigInt(BITS[block.family] - block.prefix);
  return address.value >> shift === block.network >> shift;
}

export function matchesRule(rule: DestinationRule, address: IpAddress, port: number): boolean {
  return inBlock(rule, address) && (rule.ports === undefined || (port >= rule.ports.from && port <= rule.ports.to));
}

/** `address[/prefix]`; the reason it is not a block when it is not one. */
function parseBlock(text: string): IpBlock | string {
  const [address = '', prefixText, ...extra] = text.split('/');
  if (extra.length > 0) return 'has more than one "/"';
  // net.isIP accepts a zone (fe80::1%eth0); a block has none
  const family = address.includes('%') ? 0 : net.isIP(address);
  if (family === 0) return `"${address}" is not an IP address (names are not allowed: they resolve at connect time)`;
  const v6 = family === 6;
  const bits = BITS[v6 ? 6 : 4];
  const prefix = prefixText === undefined ? bits : /^[0-9]{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefix <= bits)) return `prefix length must be a number from 0 to ${bits}`;
  const network = v6 ? ipv6Value(address) : ipv4Value(address);
  if (v6 && network >> 32n === 0xffffn) return 'is an IPv4-mapped IPv6 block: write it as IPv4 (mapped destinations are compared as IPv4)';
  if (network & ((1n << BigInt(bits - prefix)) - 1n)) return `has address bits set past the /${prefix} prefix (write the network address, or /${bits} for one host)`;
  return { family: v6 ? 6 : 4, network, prefix };
}

const PORTS = /^([0-9]{1,5})(?:-([0-9]{1,5}))?$/;

/** One entry; errors name `path` (`upstream.denyDestinations[1]: ...`). */
export function parseDestinationRule(entry: string, path: string): DestinationRule {
  const fail = (why: string) => new ProxyError('CONFIG_INVALID', `${path}: "${entry}" ${why}; expected CIDR[:ports] such as 10.0.0.0/8, 10.1.2.3/32:443, 192.168.0.0/16:8000-8999 or [fd00::/8]:443`);
  let blockText: string;
  let portsText: string | undefined;
  if (entry.startsWith('[')) {
    const end = entry.indexOf(']');
    const rest = end < 0 ? '' : entry.slice(end + 1);
    if (end < 0 || (rest !== '' && !rest.startsWith(':'))) throw fail('is not [IPv6 block]:ports');
    blockText = entry.slice(1, end);
    portsText = rest === '' ? undefined : rest.slice(1);
  } else if (entry.indexOf(':') !== entry.lastIndexOf(':')) {
    // a bare IPv6 block: ports need the brackets
    blockText = entry;
  } else {
    const colon = entry.indexOf(':');
    blockText = colon < 0 ? entry : entry.slice(0, colon);
    portsText = colon < 0 ? undefined : entry.slice(colon + 1);
  }
  const block = parseBlock(blockText);
  if (typeof block === 'string') throw fail(block);
  let ports: DestinationRule['ports'];
  if (portsText !== undefined) {
    const m = PORTS.exec(portsText);
    const from = Number(m?.[1]);
    const to = m?.[2] === undefined ? from : Number(m[2]);
    if (!m || from < 1 || to > 65535 || from > to) throw fail(`ports "${portsText}" must be a port or a range from 1 to 65535 (8000-8999)`);
    ports = { from, to };
  }
  return { ...block, name: `${path} (${entry})`, ports };
}

/** Every entry of a list; the first bad one throws, naming its index. */
export function parseDestinationRules(entries: readonly string[], path: string): DestinationRule[] {
  return entries.map((entry, i) => parseDestinationRule(entry, `${path}[${i}]`));
}

/** A built-in block written as CIDR (constants of the guard). */
export function block(cidr: string): IpBlock {
  const parsed = parseBlock(cidr);
  if (typeof parsed === 'string') throw new Error(`${cidr}: ${parsed}`);
  return parsed;
}
