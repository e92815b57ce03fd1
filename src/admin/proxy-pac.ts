// /proxy.pac, generated from config: loopback, the proxy's own host (its admin listener is
// never reached through the proxy, which refuses to forward to itself) and proxy.bypass hosts go
// DIRECT, everything else to the proxy. Hosts in proxy.tunnel still go through the proxy: it relays them untouched, so
// the PAC file only names them in a comment. Globs keep policy/host-glob.ts semantics
// (`*.example.com` = any subdomain, not the apex). Every value is embedded as a JSON string with
// `<`, `>`, `&`, U+2028 and U+2029 escaped, so no config value can end a string or a comment.
import { formatAuthority, parseHostPort } from '../core/host.js';

export interface PacOptions {
  /** host:port of the proxy as clients reach it; its host goes DIRECT (the admin listener) */
  proxy: string;
  bypass: readonly string[];
  tunnel: readonly string[];
}

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '']);

/**
 * The address a PAC file names: admin.pacProxy when set; else proxy.host, unless it is a wildcard
 * address, in which case the host the client used to reach the admin listener (validated).
 */
export function pacProxyAddress(options: { pacProxy?: string | undefined; proxyHost: string; proxyPort: number; requestHost?: string | undefined }): string {
  if (options.pacProxy) return options.pacProxy;
  if (!WILDCARD_HOSTS.has(options.proxyHost)) return formatAuthority(options.proxyHost, options.proxyPort);
  const asked = options.requestHost ? parseHostPort(options.requestHost, 80) : undefined;
  return formatAuthority(asked?.host ?? '127.0.0.1', options.proxyPort);
}

/** A JavaScript string literal safe anywhere in a script. */
export function jsString(value: string): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The regular expression (source) a host glob stands for, as compileHostGlob matches it. */
export function globRegexSource(text: string): string {
  let glob = text.toLowerCase();
  if (glob.startsWith('[') && glob.endsWith(']')) glob = glob.slice(1, -1);
  if (glob.endsWith('.')) glob = glob.slice(0, -1);
  if (glob === '*') return '^.*$';
  const label = (part: string) =>
    part
      .split('*')
      .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('[^.]*');
  if (glob.startsWith('*.')) return `^(?:[^.]+\\.)+${label(glob.slice(2))}$`;
  return `^${label(glob)}$`;
}

export function renderProxyPac(options: PacOptions): string {
  const own = parseHostPort(options.proxy)?.host;
  const bypass = [...options.bypass, ...(own ? [own] : [])].map((g) => jsString(globRegexSource(g))).join(', ');
  const tunnel = options.tunnel.length > 0 ? options.tunnel.map((g) => jsString(g)).join(', ') : 'none';
  return `// Proxy auto-configuration for dlp-proxy, generated from its configuration.
// Loopback, the proxy's own host and proxy.bypass hosts go DIRECT; everything else goes to the proxy, including the
// hosts the proxy relays without inspection (proxy.tunnel): ${tunnel}
var PROXY = ${jsString(`PROXY ${options.proxy}`)};
var BYPASS = [${bypass}];

function FindProxyForURL(url, host) {
  host = String(host).toLowerCase();
  if (host.charAt(0) === "[" && host.charAt(host.length - 1) === "]") host = host.substring(1, host.length - 1);
  if (host.charAt(host.length - 1) === ".") host = host.substring(0, host.length - 1);
  if (host === "localhost" || host === "::1" || /^127\\.\\d+\\.\\d+\\.\\d+$/.test(host)) return "DIRECT";
  for (var i = 0; i < BYPASS.length; i++) {
    if (new RegExp(BYPASS[i]).test(host)) return "DIRECT";
  }
  return PROXY;
}
`;
}
