// X.509 v3 assembly (RFC 5280 §4.1): node-forge lays out the TBSCertificate, node:crypto signs
// it, and the outer Certificate SEQUENCE is put together here with forge.asn1. Keys never pass
// through forge's own RSA code (its key generation is synchronous and slow; its signing is JS).
import crypto from 'node:crypto';
import forge from 'node-forge';

const { asn1, pki } = forge;
type Asn1 = forge.asn1.Asn1;

/** sha256WithRSAEncryption (RFC 4055 §5); its AlgorithmIdentifier carries a NULL parameter. */
const SHA256_WITH_RSA = '1.2.840.113549.1.1.11';

// Present in node-forge's x509.js but missing from @types/node-forge.
const getTbsCertificate = (pki as unknown as { getTBSCertificate(cert: forge.pki.Certificate): Asn1 }).getTBSCertificate;

/** A forge extension description (`{ name, critical, ... }`); forge fills in `value` once. */
export type Extension = Record<string, unknown> & { name: string };

export interface TbsFields {
  serialHex: string;
  notBefore: Date;
  notAfter: Date;
  /** Subject RDNs as (short name, value) pairs, encoded as UTF8String (RFC 5280 §4.1.2.6). */
  subject: ReadonlyArray<readonly [string, string]>;
  /** The issuer's subject Name exactly as encoded in its certificate; omitted = self-issued. */
  issuerName?: Asn1;
  publicKey: forge.pki.rsa.PublicKey;
  extensions: Extension[];
}

/** DER of the TBSCertificate (RFC 5280 §4.1.1.1), signed with sha256WithRSAEncryption. */
export function buildTbsDer(fields: TbsFields): Buffer {
  const cert = pki.createCertificate();
  cert.serialNumber = fields.serialHex;
  cert.validity.notBefore = fields.notBefore;
  cert.validity.notAfter = fields.notAfter;
  const attrs = fields.subject.map(([shortName, value]) => ({
    shortName,
    value,
    valueTagClass: asn1.Type.UTF8 as unknown as forge.asn1.Class,
  }));
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.publicKey = fields.publicKey;
  cert.setExtensions(fields.extensions);
  cert.siginfo.algorithmOid = SHA256_WITH_RSA;
  const tbs = getTbsCertificate(cert);
  // The issuer is copied byte for byte from the CA certificate, so name chaining (RFC 5280
  // §7.1) never depends on how forge re-encodes a CA it did not create.
  if (fields.issuerName) (tbs.value as Asn1[])[3] = fields.issuerName;
  return toBuffer(asn1.toDer(tbs));
}

/** Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue } (§4.1). */
export function assembleCertificate(tbsDer: Buffer, signature: Buffer): Buffer {
  const certificate = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    asn1.fromDer(tbsDer.toString('binary')),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(SHA256_WITH_RSA).getBytes()),
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, ''),
    ]),
    // BIT STRING: a leading 0x00 says no unused bits in the last octet.
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BITSTRING, false, '\x00' + signature.toString('binary')),
  ]);
  return toBuffer(asn1.toDer(certificate));
}

/** RSASSA-PKCS1-v1_5 with SHA-256 over the TBS, computed in the libuv pool (off the event loop). */
export function signSha256(tbsDer: Buffer, key: crypto.KeyObject): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    crypto.sign('sha256', tbsDer, key, (err, signature) => (err ? reject(err) : resolve(signature)));
  });
}

export function derToPem(der: Buffer): string {
  const b64 = der.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/** A random positive 16-byte serial (CA/B Baseline Requirements §7.1: ≥ 64 bits of entropy). */
export function randomSerialHex(): string {
  const bytes = crypto.randomBytes(16);
  // High bit clear keeps the INTEGER positive; a non-zero first octet keeps its DER minimal.
  bytes[0] = bytes[0]! & 0x7f || 0x01;
  return bytes.toString('hex');
}

/** RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING (the RSAPublicKey). */
export function keyIdentifier(publicKey: crypto.KeyObject): Buffer {
  const rsaPublicKey = publicKey.export({ type: 'pkcs1', format: 'der' });
  return crypto.createHash('sha1').update(rsaPublicKey).digest();
}

/** The public key in forge's form, which getTBSCertificate needs to write SubjectPublicKeyInfo. */
export function forgePublicKey(publicKey: crypto.KeyObject): forge.pki.rsa.PublicKey {
  return pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }) as string);
}

/** SubjectKeyIdentifier with a precomputed value (forge would hash the key again in JS). */
export function subjectKeyIdentifierExtension(ski: Buffer): Extension {
  return {
    name: 'subjectKeyIdentifier',
    value: asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, ski.toString('binary')),
  };
}

/** AuthorityKeyIdentifier holding only keyIdentifier [0], equal to the issuer's SKI (§4.2.1.1). */
export function authorityKeyIdentifierExtension(issuerSki: Buffer): Extension {
  return { name: 'authorityKeyIdentifier', keyIdentifier: issuerSki.toString('binary') };
}

export interface CertificateParts {
  subjectName: Asn1;
  /** The SubjectKeyIdentifier extension value, when the certificate has one. */
  subjectKeyId: Buffer | undefined;
}

/** Walk a DER certificate for the parts a leaf needs from its issuer. */
export function certificateParts(der: Buffer): CertificateParts {
  const certificate = asn1.fromDer(der.toString('binary'));
  const tbs = (certificate.value as Asn1[])[0]!.value as Asn1[];
  // version [0] is optional (v1); then serialNumber, signature, issuer, validity, subject.
  const first = tbs[0]!.tagClass === asn1.Class.CONTEXT_SPECIFIC && tbs[0]!.type === 0 ? 1 : 0;
  const subjectName = tbs[first + 4]!;
  let subjectKeyId: Buffer | undefined;
  const extensionsWrapper = tbs.find((f) => f.tagClass === asn1.Class.CONTEXT_SPECIFIC && f.type === 3);
  const extensions = extensionsWrapper ? ((extensionsWrapper.value as Asn1[])[0]!.value as Asn1[]) : [];
  for (const extension of extensions) {
    const parts = extension.value as Asn1[];
    if (asn1.derToOid(parts[0]!.value as string) !== pki.oids.subjectKeyIdentifier) continue;
    const octets = parts[parts.length - 1]!.value as string; // extnValue OCTET STRING
    subjectKeyId = Buffer.from(asn1.fromDer(octets).value as string, 'binary');
  }
  return { subjectName, subjectKeyId };
}

function toBuffer(bytes: forge.util.ByteStringBuffer): Buffer {
  return Buffer.from(bytes.getBytes(), 'binary');
}
