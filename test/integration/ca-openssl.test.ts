// Strict verification with the real openssl binary: `openssl verify -x509_strict` rejects what
// http-mitm-proxy 1.1.0 issued (no AKI, non-critical CA basicConstraints; Python ≥ 3.13 sets
// the same flag). Our CA and leaves for a DNS name, an IPv4 and an IPv6 literal must pass it.
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateAuthority } from '../../src/ca/index.js';
import { parseHost } from '../../src/core/host.js';
import { ensureBinary } from '../support/peers/common.js';

let openssl: string;
let work: string;
let ca: CertificateAuthority;
let caFile: string;

function run(args: string[]): { status: number | null; out: string } {
  const r = spawnSync(openssl, args, { encoding: 'utf8', timeout: 10_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

function leafFile(name: string): string {
  const file = path.join(work, `leaf-${crypto.randomUUID()}.pem`);
  fs.writeFileSync(file, ca.issueLeaf(parseHost(name)!).certPem);
  return file;
}

beforeAll(async () => {
  openssl = ensureBinary('openssl', ['openssl']);
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'dlp-proxy-ca-openssl-'));
  ({ ca } = await CertificateAuthority.loadOrCreate({ dir: path.join(work, 'ca'), leafValidityDays: 397, certCacheSize: 10 }));
  caFile = path.join(work, 'ca', 'ca.pem');
});

afterAll(() => {
  fs.rmSync(work, { recursive: true, force: true });
});

describe('openssl verify -x509_strict', () => {
  it('accepts the CA certificate as its own trust anchor', () => {
    const r = run(['verify', '-x509_strict', '-CAfile', caFile, caFile]);
    expect(r.out).toContain(': OK');
    expect(r.status).toBe(0);
  });

  it.each([
    ['a DNS name', 'www.example.com', 'DNS:www.example.com'],
    ['an IPv4 literal', '192.0.2.10', 'IP Address:192.0.2.10'],
    ['an IPv6 literal', '[2001:db8::10]', 'IP Address:2001:DB8:0:0:0:0:0:10'],
  ])('accepts a leaf for %s with -purpose sslserver and the matching -verify_hostname/-verify_ip', (_label, name, san) => {
    const file = leafFile(name);
    const parsed = parseHost(name)!;
    const check = parsed.kind === 'dns' ? ['-verify_hostname', parsed.host] : ['-verify_ip', parsed.host];
    const r = run(['verify', '-x509_strict', '-purpose', 'sslserver', ...check, '-CAfile', caFile, file]);
    expect(r.out).toContain(': OK');
    expect(r.status).toBe(0);

    const text = run(['x509', '-in', file, '-noout', '-text']).out;
    expect(text).toContain(san);
  });

  it('rejects a leaf for the wrong name (the check above is real)', () => {
    const file = leafFile('www.example.com');
    const r = run(['verify', '-x509_strict', '-purpose', 'sslserver', '-verify_hostname', 'other.example', '-CAfile', caFile, file]);
    expect(r.status).not.toBe(0);
    expect(r.out).toMatch(/hostname mismatch/i);
  });

  it('shows critical basicConstraints and keyUsage, and AKI equal to the CA SKI', () => {
    const caText = run(['x509', '-in', caFile, '-noout', '-text']).out;
    expect(caText).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
    expect(caText).toMatch(/X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign/);
    const caSki = /X509v3 Subject Key Identifier:\s+([0-9A-F:]+)/.exec(caText)?.[1];
    expect(caSki).toMatch(/^([0-9A-F]{2}:){19}[0-9A-F]{2}$/);

    const leafText = run(['x509', '-in', leafFile('www.example.com'), '-noout', '-text']).out;
    expect(leafText).toMatch(/X509v3 Basic Constraints: critical\s+CA:FALSE/);
    expect(leafText).toMatch(/X509v3 Key Usage: critical\s+Digital Signature, Key Encipherment/);
    expect(leafText).toMatch(/X509v3 Extended Key Usage:\s+TLS Web Server Authentication\n/);
    expect(/X509v3 Authority Key Identifier:\s+(?:keyid:)?([0-9A-F:]+)/.exec(leafText)?.[1]).toBe(caSki);
  });

  it('agrees on the SHA-256 fingerprint', () => {
    const out = run(['x509', '-in', caFile, '-noout', '-fingerprint', '-sha256']).out;
    expect(out.trim()).toBe(`sha256 Fingerprint=${ca.fingerprint256}`);
  });
});
