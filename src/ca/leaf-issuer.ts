// Leaf certificates for intercepted hosts, issued in memory. One RSA 2048 key, generated once per
// process, is shared by every leaf, so a new host costs one RSA signature (~2 ms with the 3072-bit
// CA key, in the libuv pool) instead of a key generation (http-mitm-proxy 1.1.0: 200-600 ms of
// synchronous keygen per host in bench/ca-leaf.ts, stalling the event loop). Extensions follow RFC 5280 §4.2 and the CA/B Baseline Requirements §7.1.2.7.
import crypto from 'node:crypto';
import net from 'node:net';
import { promisify } from 'node:util';
import type forge from 'node-forge';
import { ProxyError } from '../core/errors.js';
import { parseHost, type ParsedHost } from '../core/host.js';
import {
  assembleCertificate,
  authorityKeyIdentifierExtension,
  buildTbsDer,
  certificateParts,
  derToPem,
  forgePublicKey,
  keyIdentifier,
  randomSerialHex,
  signSha256,
  subjectKeyIdentifierExtension,
  type Extension,
} from './certificate-builder.js';

/** Apple and the CA/B Forum cap TLS server certificates at 398 days; 397 leaves a day of margin. */
export const MAX_LEAF_VALIDITY_DAYS = 397;
const LEAF_KEY_BITS = 2048;
const DAY_MS = 86_400_000;
const CLOCK_SKEW_MS = 3_600_000;
/** ub-common-name (RFC 5280 Appendix A.1); the full name is always in the SAN. */
const MAX_COMMON_NAME = 64;

const generateKeyPair = promisify(crypto.generateKeyPair);

/** The key every leaf shares; generated once per process, off the event loop. */
export function generateLeafKey(): Promise<{ publicKey: crypto.KeyObject; privateKey: crypto.KeyObject }> {
  return generateKeyPair('rsa', { modulusLength: LEAF_KEY_BITS });
}

export interface IssuedLeaf {
  certPem: string;
  notAfter: Date;
}

interface Prepared {
  tbs: Buffer;
  notAfter: Date;
}

export class LeafIssuer {
  /** The shared leaf private key (PKCS#8 PEM), paired with every certificate issued here. */
  readonly keyPem: string;
  private readonly caKey: crypto.KeyObject;
  private readonly caNotAfterMs: number;
  private readonly issuerName: forge.asn1.Asn1;
  private readonly leafPublicKey: forge.pki.rsa.PublicKey;
  /** Filled in by forge on first use and shared by all leaves; only the SAN differs per host. */
  private readonly fixedExtensions: Extension[];

  constructor(
    caCert: crypto.X509Certificate,
    caKey: crypto.KeyObject,
    leafKey: { publicKey: crypto.KeyObject; privateKey: crypto.KeyObject },
    private readonly validityDays: number,
  ) {
    const parts = certificateParts(caCert.raw);
    // AKI must equal the issuer's SKI; a CA without one gets the RFC 5280 method (1) value.
    const caSki = parts.subjectKeyId ?? keyIdentifier(caCert.publicKey);
    this.caKey = caKey;
    this.caNotAfterMs = Date.parse(caCert.validTo);
    this.issuerName = parts.subjectName;
    this.leafPublicKey = forgePublicKey(leafKey.publicKey);
    this.keyPem = leafKey.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    this.fixedExtensions = [
      { name: 'basicConstraints', critical: true, cA: false },
      { name: 'keyUsage', critical: true, digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      subjectKeyIdentifierExtension(keyIdentifier(leafKey.publicKey)),
      authorityKeyIdentifierExtension(caSki),
    ];
  }


  /** Synchronous signature: for the CLI and tests, not for the per-connection path. */
  issueSync(host: ParsedHost): IssuedLeaf {
    const { tbs, notAfter } = this.prepare(host);
    return { certPem: derToPem(assembleCertificate(tbs, crypto.sign('sha256', tbs, this.caKey))), notAfter };
  }

  async issue(host: ParsedHost): Promise<IssuedLeaf> {
    const { tbs, notAfter } = this.prepare(host);
    return { certPem: derToPem(assembleCertificate(tbs, await signSha256(tbs, this.caKey))), notAfter };
  }

  private prepare(input: ParsedHost): Prepared {
    const host = checkedHost(input);
    const notBefore = Date.now() - CLOCK_SKEW_MS;
    // A leaf never outlives its CA (RFC 5280 §6.1.3 checks each certificate's own validity).
    const notAfter = new Date(Math.min(notBefore + this.validityDays * DAY_MS, this.caNotAfterMs));
    const tbs = buildTbsDer({
      serialHex: randomSerialHex(),
      notBefore: new Date(notBefore),
      notAfter,
      subject: [['CN', host.host.slice(0, MAX_COMMON_NAME)]],
      issuerName: this.issuerName,
      publicKey: this.leafPublicKey,
      extensions: [...this.fixedExtensions, subjectAltName(host)],
    });
    return { tbs, notAfter };
  }
}

/**
 * Only what parseHost produced is accepted: the same host, normalised the same way, of the same
 * kind. Anything else (a raw CONNECT string, a path, a control character) is refused here too.
 */
export function checkedHost(input: ParsedHost): ParsedHost {
  const host = typeof input?.host === 'string' ? parseHost(input.host) : undefined;
  if (!host || host.host !== input.host || host.kind !== input.kind) {
    throw new ProxyError('CLIENT_HOST_INVALID', 'refusing to issue a certificate for an unvalidated host name', {
      details: { host: typeof input?.host === 'string' ? JSON.stringify(input.host.slice(0, 80)) : typeof input },
    });
  }
  return host;
}

/** RFC 5280 §4.2.1.6: dNSName for names, iPAddress (4 or 16 octets) for IP literals. */
function subjectAltName(host: ParsedHost): Extension {
  if (host.kind === 'dns') return { name: 'subjectAltName', altNames: [{ type: 2, value: host.host }] };
  const bytes = host.kind === 'ipv4' ? Buffer.from(host.host.split('.').map(Number)) : ipv6Bytes(host.host);
  if (!bytes) throw new ProxyError('CLIENT_HOST_INVALID', 'IPv6 literal with a zone or an unusual form', { details: { host: host.host } });
  return { name: 'subjectAltName', altNames: [{ type: 7, value: bytes.toString('binary') }] };
}

/** The 16 octets of an IPv6 literal (RFC 4291 §2.2 text forms, including an IPv4 tail). */
export function ipv6Bytes(text: string): Buffer | undefined {
  let literal = text;
  const lastColon = literal.lastIndexOf(':');
  const tail = literal.slice(lastColon + 1);
  if (tail.includes('.')) {
    if (!net.isIPv4(tail)) return undefined;
    const [a, b, c, d] = tail.split('.').map(Number) as [number, number, number, number];
    literal = `${literal.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = literal.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const rest = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - rest.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...rest];
  const out = Buffer.alloc(16);
  for (const [i, group] of groups.entries()) {
    if (!/^[0-9a-f]{1,4}$/i.test(group)) return undefined;
    out.writeUInt16BE(parseInt(group, 16), i * 2);
  }
  return out;
}
