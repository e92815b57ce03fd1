// Failed sign-ins (login form and HTTP Basic alike) per client: after `maxFailures` within
// `windowMs`, the client's attempts are refused (429) without running scrypt until the window
// since its first failure has passed; a success clears the count. IPv6 clients count per /64, the
// block one host usually holds (RFC 4291 §2.5.4 interface identifiers), so rotating addresses
// within it does not reset the count. Per client rather than per user name: a per-name lock would
// let anyone lock the real administrator out. Bounded to `maxClients` entries (LRU).
import net from 'node:net';
import { LRUCache } from 'lru-cache';
import { normaliseIp } from '../../proxy/index.js';

interface Failures {
  count: number;
  since: number;
}

export interface LoginLimiterOptions {
  maxFailures: number;
  windowMs: number;
  maxClients?: number;
}

export function clientKey(ip: string | undefined): string {
  if (!ip) return 'unknown';
  const addr = normaliseIp(ip);
  if (!net.isIPv6(addr)) return addr;
  return `${expandIpv6(addr).slice(0, 4).join(':')}::/64`;
}

/** The groups of an IPv6 address with `::` filled in, lower case, without leading zeros. */
function expandIpv6(addr: string): string[] {
  const [head = '', tail = ''] = addr.split('::') as [string, string?];
  const h = head === '' ? [] : head.split(':');
  const t = addr.includes('::') ? (tail === '' ? [] : tail.split(':')) : [];
  const fill = addr.includes('::') ? Array<string>(8 - h.length - t.length).fill('0') : [];
  return [...h, ...fill, ...t].map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''));
}

export class LoginLimiter {
  readonly #options: LoginLimiterOptions;
  readonly #failures: LRUCache<string, Failures>;

  constructor(options: LoginLimiterOptions) {
    this.#options = options;
    this.#failures = new LRUCache({ max: options.maxClients ?? 10_000 });
  }

  /** How long this client must wait before its next attempt is heard; 0 when it may try now. */
  retryAfterMs(ip: string | undefined, now = Date.now()): number {
    const f = this.#failures.get(clientKey(ip));
    if (!f) return 0;
    const left = f.since + this.#options.windowMs - now;
    if (left <= 0) {
      this.#failures.delete(clientKey(ip));
      return 0;
    }
    return f.count >= this.#options.maxFailures ? left : 0;
  }

  fail(ip: string | undefined, now = Date.now()): void {
    const key = clientKey(ip);
    const f = this.#failures.get(key);
    if (!f || f.since + this.#options.windowMs <= now) this.#failures.set(key, { count: 1, since: now });
    else f.count++;
  }

  succeed(ip: string | undefined): void {
    this.#failures.delete(clientKey(ip));
  }
}
