// The compiled policy: ordered rules, first match wins, each decision carrying the rule name and
// one line of explanation. Everything (globs, regexes, CIDR blocks) is compiled here, once; decide()
// only tests and, for the winning rule, builds its explanation.
import { createHash } from 'node:crypto';
import type { PolicyRule, ServiceConfig } from '../config/schema.js';
import { ProxyError } from '../core/errors.js';
import type { Decision } from '../core/types.js';
import { compileHostGlob } from './host-glob.js';
import { compileMatch, hostMatcher, sizeExplain, type Matcher, type SizeRange } from './matchers.js';
import type { PolicyInput } from './policy-input.js';

export interface ConnectContext {
  clientIp?: string;
  user?: string;
}

export interface Policy {
  /** sha256 (hex) of the rules and the service settings that change verdicts: part of the verdict cache key */
  readonly version: string;
  /**
   * First matching rule wins; none → pass (rule 'default'). A rule with a size range does not match
   * while the body length is unknown: ask needsSize() first and decide again once it is known.
   * A message without a body is never scanned unless the matching rule sets scanEmptyBodies.
   */
  decide(input: PolicyInput): Decision;
  /** True when the length is unknown and the decision could change once it is known. */
  needsSize(input: PolicyInput): boolean;
  /**
   * CONNECT: proxy.tunnel globs, then rules whose action is tunnel (hosts, clients and users
   * only), then the ordinary rules as far as a CONNECT can tell: the first rule that would decide
   * every request of the tunnel (it matches on hosts, clients and users only) decides it — a block
   * refuses the CONNECT —; a rule that may match some of its requests leaves the decision to each
   * request (action 'pass' = intercept and decide per request).
   */
  decideConnect(host: string, who?: ConnectContext): Decision;
  /**
   * Could the download of this request be scanned, whatever its response turns out to be? True
   * when a scan rule may match once the response head is known. The pipeline asks before
   * forwarding, to fetch the whole representation instead of a byte range.
   */
  mayScanDownload(input: PolicyInput): boolean;
}

interface CompiledRule {
  name: string;
  matchers: Matcher[];
  size: SizeRange | undefined;
  action: 'pass' | 'block' | 'scan';
  /** every matcher answers from the CONNECT alone (hosts, clients, users) */
  connectOnly: boolean;
  /** some matcher (or the size) needs the response head */
  needsResponse: boolean;
  service: string | undefined;
  onViolation: 'block' | 'monitor';
  scanEmptyBodies: boolean;
}

const DEFAULT_DECISION: Decision = Object.freeze({ action: 'pass', rule: 'default', explain: 'no rule matched: pass' });
const CONNECT_KEYS = new Set(['hosts', 'clients', 'users']);

export function compilePolicy(rules: PolicyRule[], services: Record<string, ServiceConfig>, tunnel: string[]): Policy {
  const ordered: CompiledRule[] = [];
  const tunnelRules: Array<{ name: string; matchers: Matcher[] }> = [];
  for (const [index, rule] of rules.entries()) {
    if (rule.scan !== undefined && !(rule.scan in services)) {
      throw new ProxyError('CONFIG_INVALID', `policy[${index}] (${rule.name}): unknown service "${rule.scan}"`);
    }
    const compiled = compileMatch(rule.match);
    if (rule.action === 'tunnel') {
      const extra = Object.keys(rule.match).filter((k) => !CONNECT_KEYS.has(k) && rule.match[k as keyof typeof rule.match] !== undefined);
      if (extra.length > 0) {
        throw new ProxyError('CONFIG_INVALID', `policy[${index}] (${rule.name}): a tunnel rule is decided at CONNECT and can only match hosts, clients and users (not ${extra.join(', ')})`);
      }
      tunnelRules.push({ name: rule.name, matchers: compiled.matchers });
      continue;
    }
    ordered.push({
      name: rule.name,
      matchers: compiled.matchers,
      size: compiled.size,
      connectOnly: compiled.size === undefined && compiled.matchers.every((m) => m.scope === 'connect'),
      needsResponse: compiled.size !== undefined || compiled.matchers.some((m) => m.scope === 'response'),
      action: rule.scan !== undefined ? 'scan' : (rule.action as 'pass' | 'block'),
      service: rule.scan,
      onViolation: rule.onViolation,
      scanEmptyBodies: rule.scanEmptyBodies,
    });
  }
  const tunnelGlobs = hostMatcher(tunnel.map(compileHostGlob));
  const version = policyVersion(rules, services);

  const others = (rule: CompiledRule, input: PolicyInput) => {
    for (const m of rule.matchers) if (!m.test(input)) return false;
    return true;
  };
  const bytesOf = (input: PolicyInput) => (input.hasBody ? input.bodyBytes : 0);

  return {
    version,
    decide(input) {
      const bytes = bytesOf(input);
      for (const rule of ordered) {
        if (!others(rule, input)) continue;
        if (rule.size && (bytes === undefined || bytes < rule.size.minBytes || bytes > rule.size.maxBytes)) continue;
        // The explanation is built only when someone reads it (a test, a tool): the exchange
        // needs the action alone, twice per request.
        const explain = () => {
          const parts = rule.matchers.map((m) => m.explain(input));
          if (rule.size) parts.push(sizeExplain(rule.size, bytes!));
          return parts.length === 0 ? 'matches everything' : parts.join(', ');
        };
        if (rule.action !== 'scan') return new RuleDecision(rule.action, rule.name, explain);
        if (!input.hasBody && !rule.scanEmptyBodies) return new RuleDecision('pass', rule.name, () => `${explain()}; no body, not scanned (scanEmptyBodies off)`);
        return new RuleDecision('scan', rule.name, explain, rule.service!, rule.onViolation);
      }
      return DEFAULT_DECISION;
    },
    needsSize(input) {
      if (bytesOf(input) !== undefined) return false;
      for (const rule of ordered) {
        if (!others(rule, input)) continue;
        if (rule.size) return true;
        return false;
      }
      return false;
    },
    decideConnect(host, who = {}) {
      const input: PolicyInput = { direction: 'upload', method: 'CONNECT', host, path: '', hasBody: false, clientIp: who.clientIp ?? '', ...(who.user === undefined ? {} : { user: who.user }) };
      if (tunnelGlobs.test(input)) return { action: 'tunnel', rule: 'proxy.tunnel', explain: tunnelGlobs.explain(input) };
      for (const rule of tunnelRules) {
        if (rule.matchers.every((m) => m.test(input))) return { action: 'tunnel', rule: rule.name, explain: rule.matchers.map((m) => m.explain(input)).join(', ') };
      }
      for (const rule of ordered) {
        const connect = rule.matchers.filter((m) => m.scope === 'connect');
        if (!connect.every((m) => m.test(input))) continue; // no request of this tunnel can match it
        if (!rule.connectOnly) break; // it may match some requests: each request decides
        const explain = connect.length === 0 ? 'matches everything' : connect.map((m) => m.explain(input)).join(', ');
        if (rule.action === 'block') return { action: 'block', rule: rule.name, explain };
        return { action: 'pass', rule: rule.name, explain: `${explain}; intercepted, each request decided` };
      }
      return { action: 'pass', rule: 'default', explain: 'intercepted, each request decided' };
    },
    mayScanDownload(input) {
      for (const rule of ordered) {
        if (!rule.matchers.every((m) => m.scope === 'response' || m.test(input))) continue;
        if (rule.action === 'scan') return true;
        if (!rule.needsResponse) return false; // this rule decides every response of the request
      }
      return false;
    },
  };
}

/**
 * A rule's decision whose `explain` is built on first read. A class (its getter on the prototype)
 * costs a plain object's allocation; an object literal with its own getter cost 3 % of a passed
 * request. toJSON keeps the explanation in logs and tools.
 */
class RuleDecision implements Decision {
  #text: string | undefined;
  readonly #explain: () => string;
  constructor(
    readonly action: Decision['action'],
    readonly rule: string,
    explain: () => string,
    readonly service?: string,
    readonly onViolation?: 'block' | 'monitor',
  ) {
    this.#explain = explain;
  }
  get explain(): string {
    return (this.#text ??= this.#explain());
  }
  toJSON(): Decision {
    return { action: this.action, rule: this.rule, explain: this.explain, ...(this.service === undefined ? {} : { service: this.service }), ...(this.onViolation === undefined ? {} : { onViolation: this.onViolation }) };
  }
}

/**
 * Rules (less their delivery) plus, per service, what changes a verdict for the same bytes: the
 * server URLs (sorted: reordering them only changes balancing) and the vendor profile. Timeouts, fail modes and
 * connection limits do not: failures are never cached.
 */
export function policyVersion(rules: PolicyRule[], services: Record<string, ServiceConfig>): string {
  const serviceParts: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(services)) {
    serviceParts[name] = { urls: s.urls.map((u) => (typeof u === 'string' ? u : u.url)).sort(), vendor: s.vendor };
  }
  // how a download reaches the client (delivery) does not change what the scanner says of it
  const judged = rules.map(({ delivery: _delivery, ...rule }) => rule);
  return createHash('sha256').update(canonicalJson({ rules: judged, services: serviceParts })).digest('hex');
}

/** JSON with object keys sorted at every level and undefined members dropped. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
