// Root CA files: created once with 0600 files in a 0700 directory (http-mitm-proxy 1.1.0 wrote
// them 0644), 10-year validity with critical CA extensions, loaded unchanged on the next start,
// and every broken state a clear CA_INVALID error that names the file.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import forge from 'node-forge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateAuthority, readCaCertificate, type CaOptions } from '../../../src/ca/index.js';
import { ProxyError } from '../../../src/core/errors.js';

const YEAR_MS = 365.25 * 86_400_000;
let root: string;
let dir: string;
let first: Awaited<ReturnType<typeof CertificateAuthority.loadOrCreate>>;

function options(caDir: string, extra: Partial<CaOptions> = {}): CaOptions {
  return { dir: caDir, leafValidityDays: 397, certCacheSize: 100, ...extra };
}

function mode(file: string): number {
  return fs.statSync(file).mode & 0o777;
}

/** A copy of the first CA in a fresh directory, for tests that damage it. */
function copyCa(name: string): string {
  const target = path.join(root, name);
  fs.cpSync(dir, target, { recursive: true });
  return target;
}

async function loadError(caDir: string, extra: Partial<CaOptions> = {}): Promise<ProxyError> {
  const err = await CertificateAuthority.loadOrCreate(options(caDir, extra)).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProxyError);
  return err as ProxyError;
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'dlp-proxy-ca-store-'));
  dir = path.join(root, 'nested', 'ca');
  first = await CertificateAuthority.loadOrCreate(options(dir));
});

afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

describe('first run', () => {
  it('creates ca.pem and ca-key.pem with mode 0600 in a new 0700 directory, and nothing else', () => {
    expect(first.created).toBe(true);
    expect(first.warnings).toEqual([]);
    expect(fs.readdirSync(dir).sort()).toEqual(['ca-key.pem', 'ca.pem']);
    expect(mode(dir)).toBe(0o700);
    expect(mode(path.join(dir, 'ca.pem'))).toBe(0o600);
    expect(mode(path.join(dir, 'ca-key.pem'))).toBe(0o600);
  });

  it('writes a 10-year RSA 3072 CA with critical basicConstraints (pathlen 0) and keyUsage, SKI and AKI', () => {
    const x509 = new crypto.X509Certificate(fs.readFileSync(path.join(dir, 'ca.pem')));
    expect(x509.ca).toBe(true);
    expect(x509.publicKey.asymmetricKeyDetails?.modulusLength).toBe(3072);
    const years = (Date.parse(x509.validTo) - Date.parse(x509.validFrom)) / YEAR_MS;
    expect(years).toBeGreaterThan(9.99);
    expect(years).toBeLessThan(10.01);
    expect(x509.subject).toMatch(/^CN=dlp-proxy CA [0-9a-f]{8}\nO=dlp-proxy$/);
    expect(x509.issuer).toBe(x509.subject);
    expect(x509.verify(x509.publicKey)).toBe(true);

    const cert = forge.pki.certificateFromPem(fs.readFileSync(path.join(dir, 'ca.pem'), 'utf8'));
    const bc = cert.getExtension('basicConstraints') as { critical: boolean; cA: boolean; pathLenConstraint?: number };
    expect(bc).toMatchObject({ critical: true, cA: true, pathLenConstraint: 0 });
    const ku = cert.getExtension('keyUsage') as Record<string, boolean>;
    expect(ku).toMatchObject({ critical: true, keyCertSign: true, cRLSign: true, digitalSignature: false, keyEncipherment: false });
    const ski = cert.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier: string };
    expect(ski.subjectKeyIdentifier).toMatch(/^[0-9a-f]{40}$/);
    expect(cert.getExtension('authorityKeyIdentifier')).toBeTruthy();
  });

  it('exposes PEM, DER and the SHA-256 fingerprint of the same certificate', () => {
    const { ca } = first;
    const pemOnDisk = fs.readFileSync(path.join(dir, 'ca.pem'), 'utf8');
    expect(ca.certPem).toBe(pemOnDisk);
    expect(ca.certDer.equals(new crypto.X509Certificate(pemOnDisk).raw)).toBe(true);
    const digest = crypto.createHash('sha256').update(ca.certDer).digest('hex').toUpperCase();
    expect(ca.fingerprint256).toBe(digest.match(/../g)!.join(':'));
  });
});

describe('next runs', () => {
  it('loads the same CA without rewriting it', async () => {
    const before = fs.statSync(path.join(dir, 'ca.pem')).mtimeMs;
    const again = await CertificateAuthority.loadOrCreate(options(dir));
    expect(again.created).toBe(false);
    expect(again.warnings).toEqual([]);
    expect(again.ca.fingerprint256).toBe(first.ca.fingerprint256);
    expect(fs.statSync(path.join(dir, 'ca.pem')).mtimeMs).toBe(before);
  });

  it('narrows a key file readable by others to 0600 and says so in a warning', async () => {
    const copy = copyCa('open-mode');
    fs.chmodSync(path.join(copy, 'ca-key.pem'), 0o644);
    const loaded = await CertificateAuthority.loadOrCreate(options(copy));
    expect(mode(path.join(copy, 'ca-key.pem'))).toBe(0o600);
    expect(loaded.warnings).toHaveLength(1);
    expect(loaded.warnings[0]).toContain('0644');
    expect(loaded.warnings[0]).toContain('changed to 0600');
  });

  it('refuses a corrupt key, naming the key file', async () => {
    const copy = copyCa('corrupt-key');
    fs.writeFileSync(path.join(copy, 'ca-key.pem'), '-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n');
    const err = await loadError(copy);
    expect(err.code).toBe('CA_INVALID');
    expect(err.message).toContain(path.join(copy, 'ca-key.pem'));
  });

  it('refuses a corrupt certificate, naming the certificate file', async () => {
    const copy = copyCa('corrupt-cert');
    fs.writeFileSync(path.join(copy, 'ca.pem'), 'garbage');
    const err = await loadError(copy);
    expect(err.code).toBe('CA_INVALID');
    expect(err.message).toContain(path.join(copy, 'ca.pem'));
  });

  it('refuses a key that belongs to another certificate', async () => {
    const copy = copyCa('mismatch');
    const other = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    fs.writeFileSync(path.join(copy, 'ca-key.pem'), other.export({ type: 'pkcs8', format: 'pem' }));
    const err = await loadError(copy);
    expect(err.code).toBe('CA_INVALID');
    expect(err.message).toContain(path.join(copy, 'ca-key.pem'));
    expect(err.message).toContain('does not match');
  });

  it('never completes half a CA: a missing certificate is an error and the key stays untouched', async () => {
    const copy = copyCa('half');
    fs.rmSync(path.join(copy, 'ca.pem'));
    const keyBefore = fs.readFileSync(path.join(copy, 'ca-key.pem'));
    const err = await loadError(copy);
    expect(err.code).toBe('CA_INVALID');
    expect(err.message).toContain(path.join(copy, 'ca.pem'));
    expect(fs.readdirSync(copy)).toEqual(['ca-key.pem']);
    expect(fs.readFileSync(path.join(copy, 'ca-key.pem')).equals(keyBefore)).toBe(true);
  });
});

describe('options', () => {
  it.each([
    [{ leafValidityDays: 398 }, 'ca.leafValidityDays'],
    [{ leafValidityDays: 0 }, 'ca.leafValidityDays'],
    [{ certCacheSize: 0 }, 'ca.certCacheSize'],
  ])('refuses %o before touching the disk', async (extra, key) => {
    const target = path.join(root, 'never-created');
    const err = await loadError(target, extra);
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain(key);
    expect(fs.existsSync(target)).toBe(false);
  });
});

describe('readCaCertificate', () => {
  it('returns the same PEM, DER and fingerprint as the loaded CA', () => {
    const read = readCaCertificate(dir);
    expect(read.pem).toBe(first.ca.certPem);
    expect(read.der.equals(first.ca.certDer)).toBe(true);
    expect(read.fingerprint256).toBe(first.ca.fingerprint256);
  });

  it('creates nothing when there is no CA, and tells how to make one', () => {
    const missing = path.join(root, 'no-ca-here');
    let err: ProxyError | undefined;
    try {
      readCaCertificate(missing);
    } catch (e) {
      err = e as ProxyError;
    }
    expect(err?.code).toBe('CA_INVALID');
    expect(err?.message).toContain('ca init');
    expect(fs.existsSync(missing)).toBe(false);
  });
});
