// One matcher per `match:` key of a rule, compiled once. Each can say why it matched, in the
// words an operator reads in the log: `host *.example.com matched files.example.com`.
import type { RuleMatch } from '../config/schema.js';
import { compileCidr, parseIp, type Cidr, type IpWords } from './cidr.js';
import { compileHostGlob, type HostGlob } from './host-glob.js';
import type { PolicyInput } from './policy-input.js';

/**
 * When a matcher can answer: `connect` from the CONNECT alone (host, client, user), `request` from
 * the request head, `response` only once the response head is known.
 */
export type MatchScope = 'connect' | 'request' | 'response';

export interface Matcher {
  scope: MatchScope;
  test(input: PolicyInput): boolean;
  explain(input: PolicyInput): string;
}

/** The size range lives apart: it is the one matcher whose answer can be "not known yet". */
export interface SizeRange {
  minBytes: number;
  maxBytes: number;
}

export interface CompiledMatch {
  matchers: Matcher[];
  size: SizeRange | undefined;
}

export function compileMatch(match: RuleMatch): CompiledMatch {
  const matchers: Matcher[] = [];
  if (match.direction !== undefined) {
    const direction = match.direction;
    matchers.push({ scope: 'request', test: (i) => i.direction === direction, explain: () => `direction=${direction}` });
  }
  if (match.methods !== undefined) {
    const methods = new Set(match.methods.map((m) => m.toUpperCase()));
    matchers.push({ scope: 'request', test: (i) => methods.has(i.method.toUpperCase()), explain: (i) => `method ${i.method.toUpperCase()}` });
  }
  if (match.protocols !== undefined) {
    const protocols = new Set(match.protocols);
    matchers.push({ scope: 'request', test: (i) => protocols.has(i.protocol ?? 'http'), explain: (i) => `protocol ${i.protocol ?? 'http'}` });
  }
  if (match.hosts !== undefined) matchers.push(hostMatcher(match.hosts.map(compileHostGlob)));
  if (match.paths !== undefined) {
    const paths = match.paths.map((p) => new RegExp(p));
    matchers.push({
      scope: 'request',
      test: (i) => paths.some((re) => re.test(i.path)),
      explain: (i) => `path /${paths.find((re) => re.test(i.path))?.source}/ matched ${i.path}`,
    });
  }
  if (match.requestContentTypes !== undefined) {
    matchers.push(contentTypeMatcher('request', 'request', match.requestContentTypes, (i) => i.requestContentType));
  }
  if (match.responseContentTypes !== undefined) {
    matchers.push(contentTypeMatcher('response', 'response', match.responseContentTypes, (i) => i.responseContentType));
  }
  if (match.clients !== undefined) matchers.push(clientMatcher(match.clients.map(compileCidr)));
  if (match.users !== undefined) {
    const users = new Set(match.users);
    matchers.push({ scope: 'connect', test: (i) => i.user !== undefined && users.has(i.user), explain: (i) => `user ${i.user}` });
  }
  const size =
    match.minBytes === undefined && match.maxBytes === undefined
      ? undefined
      : { minBytes: match.minBytes ?? 0, maxBytes: match.maxBytes ?? Number.MAX_SAFE_INTEGER };
  return { matchers, size };
}

export function hostMatcher(globs: HostGlob[]): Matcher {
  return {
    scope: 'connect',
    test: (i) => globs.some((g) => g.matches(i.host)),
    explain: (i) => `host ${globs.find((g) => g.matches(i.host))?.text} matched ${i.host}`,
  };
}

export function clientMatcher(blocks: Cidr[]): Matcher {
  return {
    scope: 'connect',
    test: (i) => {
      const address = clientAddress(i.clientIp);
      return address !== undefined && blocks.some((b) => b.contains(address));
    },
    explain: (i) => {
      const address = clientAddress(i.clientIp);
      return `client ${address && blocks.find((b) => b.contains(address))?.text} matched ${i.clientIp}`;
    },
  };
}

// Several rules may test the same client in one decide(): parse its address once.
let lastIp = '';
let lastAddress: IpWords | undefined;
function clientAddress(ip: string): IpWords | undefined {
  if (ip !== lastIp) {
    lastIp = ip;
    lastAddress = parseIp(ip);
  }
  return lastAddress;
}

/** `image/*`, `*\/*` or an exact type; parameters (`; charset=`) and case are ignored (RFC 9110 §8.3.1). */
function contentTypeMatcher(side: 'request' | 'response', scope: MatchScope, patterns: string[], pick: (i: PolicyInput) => string | undefined): Matcher {
  const compiled = patterns.map((p) => {
    const type = mediaType(p);
    return { text: p, any: type === '*/*', prefix: type.endsWith('/*') ? type.slice(0, -1) : undefined, type };
  });
  const find = (i: PolicyInput) => {
    const value = pick(i);
    if (value === undefined) return undefined;
    const type = mediaType(value);
    return compiled.find((c) => c.any || (c.prefix !== undefined ? type.startsWith(c.prefix) : type === c.type));
  };
  return {
    scope,
    test: (i) => find(i) !== undefined,
    explain: (i) => `${side} content-type ${find(i)?.text} matched ${mediaType(pick(i) ?? '')}`,
  };
}

export function mediaType(value: string): string {
  const semi = value.indexOf(';');
  return (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase();
}

export function sizeExplain(size: SizeRange, bytes: number): string {
  const max = size.maxBytes === Number.MAX_SAFE_INTEGER ? '∞' : String(size.maxBytes);
  return `size ${bytes} in [${size.minBytes}, ${max}]`;
}
