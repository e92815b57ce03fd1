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
  /** CONNECT: proxy.tunnel globs, then rules whose action is tunnel (hosts, clients and users only). */
  connectAction(host: string, who?: ConnectContext): 'tunnel' | 'intercept';
}

interface CompiledRule {
  name: string;
  matchers: Matcher[];
  size: SizeRange | undefined;
  action: 'pass' | 'block' | 'scan';
  service: string | undefined;
  onViolation: 'block' | 'monitor';
  scanEmptyBodies: boolean;
}

const DEFAULT_DECISION: Decision = Object.freeze({ action: 'pass', rule: 'default', explain: 'no rule matched: pass' });
const CONNECT_KEYS = new Set(['hosts', 'clients', 'users']);

export function compilePolicy(rules: PolicyRule[], services: Record<string, ServiceConfig>, tunnel: string[]): Policy {
  const ordered: CompiledRule[] = [];
  const tunnelRules: Matcher[][] = [];
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
      tunnelRules.push(compiled.matchers);
      continue;
    }
    ordered.push({
      name: rule.name,
      matchers: compiled.matchers,
      size: compiled.size,
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
        const parts = rule.matchers.map((m) => m.explain(input));
        if (rule.size) parts.push(sizeExplain(rule.size, bytes!));
        const explain = parts.length === 0 ? 'matches everything' : parts.join(', ');
        if (rule.action !== 'scan') return { action: rule.action, rule: rule.name, explain };
        if (!input.hasBody && !rule.scanEmptyBodies) {
          return { action: 'pass', rule: rule.name, explain: `${explain}; no body, not scanned (scanEmptyBodies off)` };
        }
        return { action: 'scan', rule: rule.name, explain, service: rule.service!, onViolation: rule.onViolation };
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
    connectAction(host, who = {}) {
      const input: PolicyInput = { direction: 'upload', method: 'CONNECT', host, path: '', hasBody: false, clientIp: who.clientIp ?? '', user: who.user };
      if (tunnelGlobs.test(input)) return 'tunnel';
      for (const matchers of tunnelRules) if (matchers.every((m) => m.test(input))) return 'tunnel';
      return 'intercept';
    },
  };
}

/**
 * Rules plus, per service, what changes a verdict for the same bytes: the server URLs (sorted:
 * reordering them only changes balancing) and the vendor profile. Timeouts, fail modes and
 * connection limits do not: failures are never cached.
 */
export function policyVersion(rules: PolicyRule[], services: Record<string, ServiceConfig>): string {
  const serviceParts: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(services)) {
    serviceParts[name] = { urls: s.urls.map((u) => (typeof u === 'string' ? u : u.url)).sort(), vendor: s.vendor };
  }
  return createHash('sha256').update(canonicalJson({ rules, services: serviceParts })).digest('hex');
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
