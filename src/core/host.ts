// Host names arrive from clients (CONNECT targets, Host headers, absolute URIs) and reach
// certificate issuance, policy globs, logs and upstream connections. They are validated once,
// here, and normalised (lower case, no trailing dot, IPv6 without brackets).
import net from 'node:net';

export type HostKind = 'dns' | 'ipv4' | 'ipv6';

export interface ParsedHost {
  host: string;
  kind: HostKind;
}

export interface HostPort extends ParsedHost {
  port: number;
}

/** dot-separated labels of 1-63 letters, digits, `_` and `-`, none starting or ending with `-` */
const DNS_NAME = /^(?:(?!-)[a-z0-9_-]{1,63}(?<!-)\.)*(?!-)[a-z0-9_-]{1,63}(?<!-)$/;

/** Validate and normalise a host name or IP literal; returns undefined when it is not one. */
export function parseHost(input: string): ParsedHost | undefined {
  if (typeof input !== 'string' || input.length === 0 || input.length > 255) return undefined;
  let host = input.toLowerCase();
  if (host.startsWith('[') && host.endsWith(']')) {
    const inner = host.slice(1, -1);
    return net.isIPv6(inner) ? { host: inner, kind: 'ipv6' } : undefined;
  }
  // Only a name with a colon can be IPv6, and only one starting with a digit IPv4: the common name
  // skips net.isIPv6's long regular expression (a measurable share of a passed request).
  if (host.includes(':')) return net.isIPv6(host) ? { host, kind: 'ipv6' } : undefined;
  const first = host.charCodeAt(0);
  if (first >= 48 && first <= 57 && net.isIPv4(host)) return { host, kind: 'ipv4' };
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (host.length === 0 || host.length > 253) return undefined;
  if (!DNS_NAME.test(host)) return undefined;
  // A name made only of digits and dots that is not a valid IPv4 literal (e.g. 1.2.3.999) is refused.
  if (/^[0-9.]+$/.test(host)) return undefined;
  return { host, kind: 'dns' };
}

/** Parse `host:port` (CONNECT authority, Host header); `defaultPort` applies when none is given. */
export function parseHostPort(authority: string, defaultPort?: number): HostPort | undefined {
  if (typeof authority !== 'string') return undefined;
  let hostPart: string;
  let portPart: string | undefined;
  if (authority.startsWith('[')) {
    const end = authority.indexOf(']');
    if (end < 0) return undefined;
    hostPart = authority.slice(0, end + 1);
    const rest = authority.slice(end + 1);
    if (rest !== '' && !rest.startsWith(':')) return undefined;
    portPart = rest === '' ? undefined : rest.slice(1);
  } else {
    const colon = authority.lastIndexOf(':');
    if (colon >= 0 && authority.indexOf(':') !== colon) return undefined; // bare IPv6 needs brackets
    hostPart = colon >= 0 ? authority.slice(0, colon) : authority;
    portPart = colon >= 0 ? authority.slice(colon + 1) : undefined;
  }
  const parsed = parseHost(hostPart);
  if (!parsed) return undefined;
  let port: number;
  if (portPart === undefined) {
    if (defaultPort === undefined) return undefined;
    port = defaultPort;
  } else {
    if (!/^[0-9]{1,5}$/.test(portPart)) return undefined;
    port = Number(portPart);
  }
  if (port < 1 || port > 65535) return undefined;
  return { host: parsed.host, kind: parsed.kind, port };
}

/** The authority as it is written in a URL or Host header. */
export function formatAuthority(host: string, port: number, defaultPort?: number): string {
  const h = host.includes(':') ? `[${host}]` : host;
  return port === defaultPort ? h : `${h}:${port}`;
}
