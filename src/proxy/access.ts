// Who may use the proxy: a client address allow-list (net.BlockList, IPv4-mapped IPv6 folded to
// IPv4) and optional Basic proxy authentication (RFC 9110 §11.7.1) against scrypt hashes. A
// verified credential is remembered (by its SHA-256) for a few minutes so scrypt, which is slow
// on purpose, runs once per user and not once per request.
import crypto from 'node:crypto';
import net from 'node:net';
import { promisify } from 'node:util';
import { LRUCache } from 'lru-cache';

const scrypt = promisify(crypto.scrypt) as (password: crypto.BinaryLike, salt: crypto.BinaryLike, keylen: number, options: crypto.ScryptOptions) => Promise<Buffer>;

export function normaliseIp(ip: string): string {
  return ip.startsWith('::ffff:') && net.isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
}

export class ClientAllowList {
  readonly #list: net.BlockList | undefined;

  /** An empty list allows every client (only valid on loopback; the config check enforces it). */
  constructor(cidrs: readonly string[]) {
    if (cidrs.length === 0) return;
    const list = new net.BlockList();
    for (const entry of cidrs) {
      const [addr, prefix] = entry.split('/') as [string, string | undefined];
      const type = net.isIPv6(addr) ? 'ipv6' : 'ipv4';
      if (prefix === undefined) list.addAddress(addr, type);
      else list.addSubnet(addr, Number(prefix), type);
    }
    this.#list = list;
  }

  allows(ip: string | undefined): boolean {
    if (!this.#list) return true;
    if (!ip) return false;
    const addr = normaliseIp(ip);
    return this.#list.check(addr, net.isIPv6(addr) ? 'ipv6' : 'ipv4');
  }
}

export interface ProxyUser {
  name: string;
  passwordHash: string;
}

/** `scrypt$N$r$p$salt$hash`, salt and hash base64. */
export async function hashPassword(password: string, cost = { N: 16384, r: 8, p: 1 }): Promise<string> {
  const salt = crypto.randomBytes(16);
  const hash = await scrypt(password, salt, 32, { N: cost.N, r: cost.r, p: cost.p, maxmem: 64 * 1024 * 1024 });
  return `scrypt$${cost.N}$${cost.r}$${cost.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = encoded.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = await scrypt(password, Buffer.from(salt, 'base64'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: 256 * 1024 * 1024,
  });
  return crypto.timingSafeEqual(actual, expected);
}

export class ProxyAuthenticator {
  readonly realm: string;
  readonly #users: Map<string, string>;
  readonly #verified = new LRUCache<string, string>({ max: 10_000, ttl: 5 * 60_000 });

  constructor(realm: string, users: readonly ProxyUser[]) {
    this.realm = realm;
    this.#users = new Map(users.map((u) => [u.name, u.passwordHash]));
  }

  get challenge(): string {
    return `Basic realm="${this.realm.replace(/["\\]/g, '')}", charset="UTF-8"`;
  }

  /** The user name when the Proxy-Authorization value is valid, else undefined. */
  async authenticate(header: string | undefined): Promise<string | undefined> {
    if (!header) return undefined;
    const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
    if (!match) return undefined;
    const key = crypto.createHash('sha256').update(header).digest('base64');
    const cached = this.#verified.get(key);
    if (cached !== undefined) return cached;
    const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return undefined;
    const name = decoded.slice(0, colon);
    const encoded = this.#users.get(name);
    if (encoded === undefined || !(await verifyPassword(decoded.slice(colon + 1), encoded))) return undefined;
    this.#verified.set(key, name);
    return name;
  }
}
