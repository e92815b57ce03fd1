// Leaves issued in memory: one shared key (http-mitm-proxy 1.1.0 generated one per host, ~180 ms
// of synchronous keygen), at most 397 days, AKI equal to the CA's SKI, critical CA:FALSE, SAN
// iPAddress for IP literals; hostile names refused with nothing written anywhere.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import forge from 'node-forge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateAuthority } from '../../../src/ca/index.js';
import { ipv6Bytes } from '../../../src/ca/leaf-issuer.js';
import { ProxyError } from '../../../src/core/errors.js';
import { parseHost, type ParsedHost } from '../../../src/core/host.js';

const DAY_MS = 86_400_000;
let root: string;
let caDir: string;
let ca: CertificateAuthority;

function host(name: string): ParsedHost {
  const parsed = parseHost(name);
  if (!parsed) throw new Error(`test host ${name} does not parse`);
  return parsed;
}

/** keyIdentifier [0] of an AuthorityKeyIdentifier, read with forge's ASN.1 parser. */
function authorityKeyId(cert: forge.pki.Certificate): string {
  const ext = cert.getExtension('authorityKeyIdentifier') as { value: string };
  const seq = forge.asn1.fromDer(ext.value);
  const keyId = (seq.value as forge.asn1.Asn1[]).find((f) => f.tagClass === forge.asn1.Class.CONTEXT_SPECIFIC && f.type === 0);
  return forge.util.bytesToHex(keyId!.value as string);
}

function listTree(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true }).map(String).sort();
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'dlp-proxy-ca-leaf-'));
  caDir = path.join(root, 'ca');
  ({ ca } = await CertificateAuthority.loadOrCreate({ dir: caDir, leafValidityDays: 397, certCacheSize: 100 }));
});

afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

describe('leaf certificates', () => {
  it('chain to the CA: issuer = CA subject, signature verifies, AKI = CA SKI', () => {
    const leaf = new crypto.X509Certificate(ca.issueLeaf(host('example.com')).certPem);
    const caX509 = new crypto.X509Certificate(ca.certPem);
    expect(leaf.issuer).toBe(caX509.subject);
    expect(leaf.checkIssued(caX509)).toBe(true);
    expect(leaf.verify(caX509.publicKey)).toBe(true);

    const caSki = (forge.pki.certificateFromPem(ca.certPem).getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier: string })
      .subjectKeyIdentifier;
    expect(authorityKeyId(forge.pki.certificateFromPem(leaf.toString()))).toBe(caSki);
  });

  it('carry critical CA:FALSE, critical digitalSignature+keyEncipherment, serverAuth and an SKI', () => {
    const { certPem } = ca.issueLeaf(host('example.com'));
    const cert = forge.pki.certificateFromPem(certPem);
    expect(cert.getExtension('basicConstraints')).toMatchObject({ critical: true, cA: false });
    expect(cert.getExtension('keyUsage')).toMatchObject({
      critical: true,
      digitalSignature: true,
      keyEncipherment: true,
      keyCertSign: false,
    });
    // extKeyUsage: id-kp-serverAuth only (RFC 5280 §4.2.1.12).
    expect(new crypto.X509Certificate(certPem).keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(cert.getExtension('subjectKeyIdentifier')).toBeTruthy();
    expect(cert.subject.getField('CN').value).toBe('example.com');
  });

  it('last at most 397 days, starting an hour back for clock skew', () => {
    const issuedAt = Date.now();
    const leaf = new crypto.X509Certificate(ca.issueLeaf(host('example.com')).certPem);
    const notBefore = Date.parse(leaf.validFrom);
    const notAfter = Date.parse(leaf.validTo);
    expect(notAfter - notBefore).toBeLessThanOrEqual(397 * DAY_MS);
    expect(notAfter - notBefore).toBeGreaterThan(396 * DAY_MS);
    expect(issuedAt - notBefore).toBeGreaterThanOrEqual(3_599_000);
    expect(issuedAt - notBefore).toBeLessThan(3_700_000);
  });

  it('honour a shorter leafValidityDays', async () => {
    const { ca: short } = await CertificateAuthority.loadOrCreate({ dir: caDir, leafValidityDays: 30, certCacheSize: 10 });
    const leaf = new crypto.X509Certificate(short.issueLeaf(host('example.com')).certPem);
    expect(Date.parse(leaf.validTo) - Date.parse(leaf.validFrom)).toBe(30 * DAY_MS);
  });

  it('share one key across hosts, with distinct positive 16-byte serials', () => {
    const leaves = ['a.example', 'b.example', '10.0.0.1'].map((h) => ca.issueLeaf(host(h)));
    const keyPems = new Set(leaves.map((l) => l.keyPem));
    expect(keyPems.size).toBe(1);
    const key = crypto.createPrivateKey(leaves[0]!.keyPem);
    expect(key.asymmetricKeyDetails?.modulusLength).toBe(2048);
    const serials = new Set<string>();
    for (const leaf of leaves) {
      const x509 = new crypto.X509Certificate(leaf.certPem);
      expect(x509.checkPrivateKey(key)).toBe(true);
      expect(x509.serialNumber).toMatch(/^[0-7][0-9A-F]{31}$/);
      serials.add(x509.serialNumber);
    }
    expect(serials.size).toBe(3);
  });

  it.each([
    ['example.com', 'DNS:example.com'],
    ['192.0.2.7', 'IP Address:192.0.2.7'],
    ['[2001:db8::1]', 'IP Address:2001:DB8:0:0:0:0:0:1'],
    ['::ffff:192.0.2.7', 'IP Address:0:0:0:0:0:FFFF:C000:207'],
  ])('name %s in the SAN as %s', (name, san) => {
    const leaf = new crypto.X509Certificate(ca.issueLeaf(host(name)).certPem);
    expect(leaf.subjectAltName).toBe(san);
    const parsed = host(name);
    if (parsed.kind === 'dns') expect(leaf.checkHost(parsed.host)).toBe(parsed.host);
    else expect(leaf.checkIP(parsed.host)).toBe(parsed.host);
  });

  it('truncate the CN of a long name to 64 characters and keep the full name in the SAN', () => {
    const long = `${'a'.repeat(63)}.${'b'.repeat(63)}.example`;
    const leaf = new crypto.X509Certificate(ca.issueLeaf(host(long)).certPem);
    expect(leaf.subject).toBe(`CN=${long.slice(0, 64)}`);
    expect(leaf.subjectAltName).toBe(`DNS:${long}`);
  });
});

describe('hostile host names', () => {
  const hostile: Array<[string, unknown]> = [
    ['path traversal', { host: '../../etc/passwd', kind: 'dns' }],
    ['300 characters', { host: 'a'.repeat(300), kind: 'dns' }],
    ['a newline', { host: 'evil\n.com', kind: 'dns' }],
    ['a wildcard', { host: '*.example.com', kind: 'dns' }],
    ['upper case (not normalised by parseHost)', { host: 'EXAMPLE.com', kind: 'dns' }],
    ['an IP literal claimed as a name', { host: '192.0.2.7', kind: 'dns' }],
    ['a name claimed as IPv6', { host: 'example.com', kind: 'ipv6' }],
    ['an IPv6 zone id', { host: 'fe80::1%eth0', kind: 'ipv6' }],
    ['no host at all', undefined],
  ];

  it.each(hostile)('refuses %s in issueLeaf and getSecureContext, writing nothing', async (_label, input) => {
    const before = listTree(root);
    expect(() => ca.issueLeaf(input as ParsedHost)).toThrow(ProxyError);
    try {
      ca.issueLeaf(input as ParsedHost);
    } catch (err) {
      expect((err as ProxyError).code).toBe('CLIENT_HOST_INVALID');
    }
    await expect(ca.getSecureContext(input as ParsedHost)).rejects.toMatchObject({ code: 'CLIENT_HOST_INVALID' });
    expect(listTree(root)).toEqual(before);
  });
});

describe('ipv6Bytes', () => {
  it.each([
    ['::', '00000000000000000000000000000000'],
    ['::1', '00000000000000000000000000000001'],
    ['2001:db8::1', '20010db8000000000000000000000001'],
    ['fe80::1:2', 'fe800000000000000000000000010002'],
    ['1:2:3:4:5:6:7:8', '00010002000300040005000600070008'],
    ['::ffff:1.2.3.4', '00000000000000000000ffff01020304'],
  ])('%s → %s', (text, hex) => {
    expect(ipv6Bytes(text)?.toString('hex')).toBe(hex);
  });

  it.each(['1::2::3', '1:2:3:4:5:6:7:8:9', 'fe80::1%eth0', '::1.2.3.999', '1:2:3:4:5:6:7'])('refuses %s', (text) => {
    expect(ipv6Bytes(text)).toBeUndefined();
  });
});
