// The CA directory is 0700 as documented (ca/README.md, docs/decisions.md), whatever the umask and
// whether the proxy made it or found it: the repository ships `ca/` with a README, so on a usual
// checkout (umask 022) the directory exists as 0755 before the first start. A directory open to
// group or others is narrowed to 0700 with a warning, on creation of the CA in it and on every load.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateAuthority, type CaOptions } from '../../../src/ca/index.js';
import { tempDir } from '../../support/temp-dir.js';

let root: string;
const options = (dir: string): CaOptions => ({ dir, leafValidityDays: 30, certCacheSize: 4 });
const mode = (file: string) => fs.statSync(file).mode & 0o777;
let umask: number;

beforeAll(() => {
  root = tempDir('dlp-proxy-ca-dir-');
  // The usual shell umask, so that a directory made without an explicit mode is 0755.
  umask = process.umask(0o022);
});
afterAll(() => {
  process.umask(umask);
});

describe('the CA directory mode', () => {
  it('a directory the proxy makes is 0700, intermediate directories included', async () => {
    const dir = path.join(root, 'made', 'ca');
    const { created, warnings } = await CertificateAuthority.loadOrCreate(options(dir));
    expect(created).toBe(true);
    expect(warnings).toEqual([]);
    expect(mode(dir)).toBe(0o700);
    expect(mode(path.join(root, 'made'))).toBe(0o700);
  });

  it('an existing 0755 directory (the shipped ca/ with its README) is narrowed to 0700 when the CA is created in it', async () => {
    const dir = path.join(root, 'shipped');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'README.md'), 'what this directory holds\n');
    expect(mode(dir)).toBe(0o755);
    const { created, warnings } = await CertificateAuthority.loadOrCreate(options(dir));
    expect(created).toBe(true);
    expect(mode(dir)).toBe(0o700);
    expect(mode(path.join(dir, 'ca-key.pem'))).toBe(0o600);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(dir);
    expect(warnings[0]).toContain('had mode 0755; changed to 0700');
  });

  it('a directory opened up after creation is narrowed again on the next load, key untouched', async () => {
    const dir = path.join(root, 'opened');
    await CertificateAuthority.loadOrCreate(options(dir));
    fs.chmodSync(dir, 0o777);
    const { created, warnings } = await CertificateAuthority.loadOrCreate(options(dir));
    expect(created).toBe(false);
    expect(mode(dir)).toBe(0o700);
    expect(mode(path.join(dir, 'ca-key.pem'))).toBe(0o600);
    expect(warnings).toEqual([expect.stringContaining('had mode 0777; changed to 0700')]);
  });

  it('both open: the directory and the key are each narrowed and each named', async () => {
    const dir = path.join(root, 'both');
    await CertificateAuthority.loadOrCreate(options(dir));
    fs.chmodSync(dir, 0o750);
    fs.chmodSync(path.join(dir, 'ca-key.pem'), 0o640);
    const { warnings } = await CertificateAuthority.loadOrCreate(options(dir));
    expect(mode(dir)).toBe(0o700);
    expect(mode(path.join(dir, 'ca-key.pem'))).toBe(0o600);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/both had mode 0750; changed to 0700/);
    expect(warnings[1]).toMatch(/ca-key\.pem had mode 0640; changed to 0600/);
  });

  it('a 0700 directory loads with no warning and stays 0700', async () => {
    const dir = path.join(root, 'quiet');
    await CertificateAuthority.loadOrCreate(options(dir));
    const { warnings } = await CertificateAuthority.loadOrCreate(options(dir));
    expect(warnings).toEqual([]);
    expect(mode(dir)).toBe(0o700);
  });
});
