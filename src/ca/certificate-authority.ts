// The CA as the proxy sees it: load or create the root once at start, then hand out TLS server
// contexts per intercepted host from a bounded single-flight cache. Each issuance is published on
// diagnostics_channel (metrics/ subscribes); this module makes no metric or log calls itself.
import crypto from 'node:crypto';
import diagnosticsChannel from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import { ProxyError } from '../core/errors.js';
import type { HostKind, ParsedHost } from '../core/host.js';
import { ContextCache } from './context-cache.js';
import { checkedHost, generateLeafKey, LeafIssuer, MAX_LEAF_VALIDITY_DAYS } from './leaf-issuer.js';
import { loadOrCreateRootCa } from './root-ca-store.js';

export interface CaOptions {
  /** Directory of `ca.pem` and `ca-key.pem`; created 0700 when missing. */
  dir: string;
  /** Leaf certificate lifetime, 1..397 days. */
  leafValidityDays: number;
  /** Maximum number of cached TLS contexts (one per host). */
  certCacheSize: number;
}

export interface CaStats {
  hits: number;
  misses: number;
  issued: number;
  size: number;
  lastIssueMs: number;
  avgIssueMs: number;
}

export const CA_ISSUE_CHANNEL = 'dlp-proxy:ca:issue';

/** Published on CA_ISSUE_CHANNEL once per certificate issued. */
export interface CaIssueEvent {
  kind: HostKind;
  durationMs: number;
}

const issueChannel = diagnosticsChannel.channel(CA_ISSUE_CHANNEL);

/**
 * Issuances in progress at once. Measured with bench/ca-leaf.ts on 2 loaded cores, 20 new hosts
 * at once: unbounded 80-130 ms worst stall, 2 at a time 8-25 ms, for the same wall time.
 */
const MAX_CONCURRENT_ISSUES = 2;

function checkOptions(options: CaOptions): void {
  const problems: string[] = [];
  if (typeof options.dir !== 'string' || options.dir === '') problems.push('ca.dir: must be a non-empty path');
  const days = options.leafValidityDays;
  if (!Number.isInteger(days) || days < 1 || days > MAX_LEAF_VALIDITY_DAYS) {
    problems.push(`ca.leafValidityDays: must be an integer from 1 to ${MAX_LEAF_VALIDITY_DAYS}`);
  }
  if (!Number.isInteger(options.certCacheSize) || options.certCacheSize < 1) problems.push('ca.certCacheSize: must be an integer ≥ 1');
  if (problems.length > 0) throw new ProxyError('CONFIG_INVALID', problems.join('; '));
}

export class CertificateAuthority {
  readonly certPem: string;
  readonly certDer: Buffer;
  /** SHA-256 of the DER certificate, colon-separated upper-case hex (as browsers show it). */
  readonly fingerprint256: string;
  private readonly issuer: LeafIssuer;
  private readonly contexts: ContextCache;
  private issuedCount = 0;
  private lastIssueMs = 0;
  private totalIssueMs = 0;

  private constructor(cert: crypto.X509Certificate, issuer: LeafIssuer, certCacheSize: number) {
    this.certPem = cert.toString();
    this.certDer = cert.raw;
    this.fingerprint256 = cert.fingerprint256;
    this.issuer = issuer;
    this.contexts = new ContextCache(certCacheSize, MAX_CONCURRENT_ISSUES);
  }

  /**
   * Load the root CA from `options.dir`, creating it on first run, and generate the shared leaf
   * key (both asynchronous). `warnings` are for the caller's logger (e.g. a key mode narrowed).
   */
  static async loadOrCreate(options: CaOptions): Promise<{ ca: CertificateAuthority; created: boolean; warnings: string[] }> {
    checkOptions(options);
    const [root, leafKey] = await Promise.all([loadOrCreateRootCa(options.dir), generateLeafKey()]);
    const issuer = new LeafIssuer(root.cert, root.key, leafKey, options.leafValidityDays);
    const ca = new CertificateAuthority(root.cert, issuer, options.certCacheSize);
    return { ca, created: root.created, warnings: root.warnings };
  }

  /** A leaf for `host` (as returned by parseHost), signed synchronously; nothing is cached. */
  issueLeaf(host: ParsedHost): { certPem: string; keyPem: string } {
    const started = performance.now();
    const leaf = this.issuer.issueSync(host);
    this.recordIssue(host.kind, started);
    return { certPem: leaf.certPem, keyPem: this.issuer.keyPem };
  }

  /** The TLS server context for `host`: cached, and issued at most once at a time per host. */
  async getSecureContext(host: ParsedHost): Promise<tls.SecureContext> {
    // Validated before the cache too: an unvalidated name must not even match a cached one.
    checkedHost(host);
    return this.contexts.get(host.host, async () => {
      const started = performance.now();
      const leaf = await this.issuer.issue(host);
      const context = tls.createSecureContext({ cert: leaf.certPem, key: this.issuer.keyPem });
      this.recordIssue(host.kind, started);
      // Half the remaining validity: a long-running proxy re-issues well before a leaf expires.
      return { context, ttlMs: Math.max(60_000, (leaf.notAfter.getTime() - Date.now()) / 2) };
    });
  }

  stats(): CaStats {
    return {
      hits: this.contexts.hits,
      misses: this.contexts.misses,
      issued: this.issuedCount,
      size: this.contexts.size,
      lastIssueMs: this.lastIssueMs,
      avgIssueMs: this.issuedCount === 0 ? 0 : this.totalIssueMs / this.issuedCount,
    };
  }

  private recordIssue(kind: HostKind, started: number): void {
    const durationMs = performance.now() - started;
    this.issuedCount++;
    this.lastIssueMs = durationMs;
    this.totalIssueMs += durationMs;
    if (issueChannel.hasSubscribers) issueChannel.publish({ kind, durationMs } satisfies CaIssueEvent);
  }
}
