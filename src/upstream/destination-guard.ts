// Where the proxy may connect for a client (issue 11 item 7; Squid's `to_localhost` ACL). Without
// it, a client reaches through the proxy port what only this host should reach: the admin
// listener's /metrics, the built-in ICAP service, loopback services, the cloud metadata address.
//
//   1 this proxy's own listeners (proxy, admin, built-in ICAP) on any local address   refused
//   2 upstream.denyDestinations                                                       refused
//   3 upstream.allowDestinations                                                      allowed
//   4 link-local (169.254.0.0/16 with 169.254.169.254, fe80::/10)                     refused
//     loopback and unspecified, when the proxy listens off loopback                   refused
//   5 anything else                                                                   allowed
//
// The check applies to the address actually connected: IP literals before connecting (net does
// not look them up), names in the `lookup` of each connection, after resolution, so a name that
// resolves (or rebinds) to a refused address is refused.
import dns from 'node:dns';
import type net from 'node:net';
import os from 'node:os';
import { ProxyError } from '../core/errors.js';
import { block, inBlock, matchesRule, parseDestinationRules, parseIp, type DestinationRule, type IpAddress } from './destination-rule.js';

export type ListenerRole = 'proxy' | 'admin' | 'icap-server' | 'patience-relay';

export interface DestinationGuardOptions {
  /** `CIDR[:ports]` entries allowed despite the defaults of rule 4 */
  allowDestinations: readonly string[];
  /** `CIDR[:ports]` entries always refused */
  denyDestinations: readonly string[];
  /** proxy.host is not a loopback address: loopback and unspecified destinations are refused by default */
  listensOffLoopback: boolean;
}

const LISTENER_NAMES: Record<ListenerRole, string> = {
  proxy: "this proxy's own proxy port",
  admin: "this proxy's admin listener",
  'icap-server': "this proxy's built-in ICAP service",
  'patience-relay': "this proxy's patience relay between workers",
};

const LOOPBACK = [block('127.0.0.0/8'), block('::1/128')];
/** RFC 1122 §3.2.1.3 "this host on this network": connect() to 0.0.0.0 or :: reaches local listeners on Linux. */
const UNSPECIFIED = [block('0.0.0.0/8'), block('::/128')];
/** RFC 3927, RFC 4291 §2.5.6: on-link only; 169.254.169.254 is the cloud metadata service. */
const LINK_LOCAL = [block('169.254.0.0/16'), block('fe80::/10')];

function formatDestination(address: string, port: number): string {
  const bare = address.startsWith('[') ? address.slice(1, -1) : address;
  return bare.includes(':') ? `[${bare}]:${port}` : `${bare}:${port}`;
}

function forbidden(destination: string, rule: string, why: string): ProxyError {
  return new ProxyError('UPSTREAM_DESTINATION_FORBIDDEN', `${destination} ${why}`, { details: { destination, rule } });
}

export class DestinationGuard {
  readonly #deny: DestinationRule[];
  readonly #allow: DestinationRule[];
  readonly #listensOffLoopback: boolean;
  readonly #ownPorts = new Map<number, ListenerRole>();
  readonly #ownAddresses: IpAddress[] = [];

  /** Throws CONFIG_INVALID naming the entry (`upstream.denyDestinations[1]: ...`). */
  constructor(options: DestinationGuardOptions) {
    this.#deny = parseDestinationRules(options.denyDestinations, 'upstream.denyDestinations');
    this.#allow = parseDestinationRules(options.allowDestinations, 'upstream.allowDestinations');
    this.#listensOffLoopback = options.listensOffLoopback;
  }

  /** A listener of this process started on host:port (after listen: its real port). */
  addOwnListener(role: ListenerRole, host: string, port: number): void {
    this.#ownPorts.set(port, role);
    this.#addAddress(host);
  }

  /**
   * The listeners of `role` on `host` are now exactly `ports` (cluster workers' patience relays:
   * a worker that exited takes its port out, so the list stays as long as the live workers).
   */
  setOwnListeners(role: ListenerRole, host: string, ports: readonly number[]): void {
    for (const [port, r] of this.#ownPorts) if (r === role) this.#ownPorts.delete(port);
    for (const port of ports) this.#ownPorts.set(port, role);
    this.#addAddress(host);
  }

  #addAddress(host: string): void {
    const address = parseIp(host);
    if (address && !this.#ownAddresses.some((a) => a.family === address.family && a.value === address.value)) this.#ownAddresses.push(address);
  }

  /**
   * The refusal of an IP literal destination, or undefined when it may be connected. A name is
   * not checked here (undefined): `lookupFor` checks the addresses it resolves to.
   */
  check(host: string, port: number): ProxyError | undefined {
    const address = parseIp(host);
    return address && this.#refusal(address, formatDestination(host, port), port);
  }

  /**
   * A net `lookup` for connections to `port`: dns.lookup of every address, refused ones dropped;
   * fails with UPSTREAM_DESTINATION_FORBIDDEN when none is left.
   */
  lookupFor(port: number): net.LookupFunction {
    return (hostname, options, callback) => {
      dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
        if (err) return callback(err, '');
        const allowed: dns.LookupAddress[] = [];
        const refusals: ProxyError[] = [];
        for (const entry of addresses) {
          const refusal = this.check(entry.address, port);
          if (refusal) refusals.push(refusal);
          else allowed.push(entry);
        }
        const first = allowed[0];
        if (first) return options.all ? callback(null, allowed) : callback(null, first.address, first.family);
        const destination = formatDestination(hostname, port);
        const error = new ProxyError('UPSTREAM_DESTINATION_FORBIDDEN', `${destination} resolves only to refused destinations: ${refusals.map((r) => r.message).join('; ')}`, {
          details: { destination, rule: refusals[0]?.details?.rule, refused: refusals.map((r) => r.details?.destination) },
        });
        callback(error, '');
      });
    };
  }

  #refusal(address: IpAddress, destination: string, port: number): ProxyError | undefined {
    const role = this.#ownPorts.get(port);
    if (role !== undefined && this.#isLocal(address)) return forbidden(destination, 'own-listener', `is ${LISTENER_NAMES[role]}`);
    const denied = this.#deny.find((rule) => matchesRule(rule, address, port));
    if (denied) return forbidden(destination, denied.name, `is refused by ${denied.name}`);
    if (this.#allow.some((rule) => matchesRule(rule, address, port))) return undefined;
    const hint = 'list it in upstream.allowDestinations to allow it';
    if (LINK_LOCAL.some((b) => inBlock(b, address))) return forbidden(destination, 'link-local', `is link-local (cloud metadata and on-link services); ${hint}`);
    if (this.#listensOffLoopback) {
      const offLoopback = "and the proxy listens off loopback (Squid's to_localhost)";
      if (LOOPBACK.some((b) => inBlock(b, address))) return forbidden(destination, 'loopback', `is a loopback address ${offLoopback}; ${hint}`);
      if (UNSPECIFIED.some((b) => inBlock(b, address))) return forbidden(destination, 'unspecified', `is an unspecified address that reaches this host ${offLoopback}; ${hint}`);
    }
    return undefined;
  }

  /** Any address that reaches this host: loopback, unspecified, a listen address, an interface's. */
  #isLocal(address: IpAddress): boolean {
    if (LOOPBACK.some((b) => inBlock(b, address)) || UNSPECIFIED.some((b) => inBlock(b, address))) return true;
    const same = (other: IpAddress) => other.family === address.family && other.value === address.value;
    if (this.#ownAddresses.some(same)) return true;
    // Read at each check (only for a port of ours): interfaces come and go (DHCP, VPN).
    for (const infos of Object.values(os.networkInterfaces())) {
      for (const info of infos ?? []) {
        const ip = parseIp(info.address);
        if (ip && same(ip)) return true;
      }
    }
    return false;
  }
}
