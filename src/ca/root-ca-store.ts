// The root CA on disk: `ca.pem` and `ca-key.pem` (0600) in one directory (0700), created once
// (and never overwritten) and checked on every start; a key or directory found open to others is
// narrowed, with a warning. These two names are the only files this module writes; nothing
// derived from a client-supplied host ever becomes a path (http-mitm-proxy 1.1.0 wrote
// `certs/<host>.pem`, so a CONNECT to `../../x` escaped its folder, and wrote its keys 0644).
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { ProxyError } from '../core/errors.js';
import {
  assembleCertificate,
  authorityKeyIdentifierExtension,
  buildTbsDer,
  derToPem,
  forgePublicKey,
  keyIdentifier,
  randomSerialHex,
  signSha256,
  subjectKeyIdentifierExtension,
} from './certificate-builder.js';

export const CA_CERT_FILE = 'ca.pem';
export const CA_KEY_FILE = 'ca-key.pem';

// RSA 3072: the CA outlives NIST SP 800-57's horizon for 2048-bit RSA (2030); it signs only
// once per new host (~1-2 ms, in the libuv pool), so its size costs little on the hot path.
const CA_KEY_BITS = 3072;
const CA_VALIDITY_YEARS = 10;
const EXPIRY_WARNING_MS = 30 * 86_400_000;
const CLOCK_SKEW_MS = 3_600_000;

const generateKeyPair = promisify(crypto.generateKeyPair);

export interface RootCa {
  cert: crypto.X509Certificate;
  key: crypto.KeyObject;
  created: boolean;
  warnings: string[];
}

function caError(file: string, problem: string, cause?: unknown): ProxyError {
  return new ProxyError('CA_INVALID', `${file} ${problem}`, { cause, details: { file } });
}

function errnoCode(err: unknown): string {
  return (err as NodeJS.ErrnoException | undefined)?.code ?? String(err);
}

async function exists(file: string): Promise<boolean> {
  try {
    await fsp.stat(file);
    return true;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw caError(file, `cannot be read (${errnoCode(err)})`, err);
  }
}

/** Load the CA from `dir`, or create it when neither file exists (what `dlp-proxy ca init` runs). */
export async function loadOrCreateRootCa(dir: string): Promise<RootCa> {
  const certPath = path.join(dir, CA_CERT_FILE);
  const keyPath = path.join(dir, CA_KEY_FILE);
  const [certExists, keyExists] = await Promise.all([exists(certPath), exists(keyPath)]);
  if (!certExists && !keyExists) return createRootCa(dir, certPath, keyPath);
  // Half a CA is never completed by generating the other half: clients trust the certificate.
  if (!certExists) throw caError(certPath, `is missing while ${keyPath} exists; restore it, or remove both files to create a new CA`);
  if (!keyExists) throw caError(keyPath, `is missing while ${certPath} exists; restore it, or remove both files to create a new CA`);
  return loadRootCa(dir, certPath, keyPath);
}

async function createRootCa(dir: string, certPath: string, keyPath: string): Promise<RootCa> {
  const madeDir = await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  // The umask may have narrowed 0700 further; set it exactly. An existing directory (the `ca/`
  // shipped with its README, one an operator made) is narrowed to 0700 with a warning.
  const warnings: string[] = [];
  if (madeDir !== undefined) await fsp.chmod(dir, 0o700);
  else {
    const dirWarning = await restrictMode(dir, 0o700, 'the directory of a CA private key');
    if (dirWarning) warnings.push(dirWarning);
  }

  const { privateKey, publicKey } = await generateKeyPair('rsa', { modulusLength: CA_KEY_BITS });
  const ski = keyIdentifier(publicKey);
  const notBefore = new Date(Date.now() - CLOCK_SKEW_MS);
  const notAfter = new Date(notBefore);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + CA_VALIDITY_YEARS);
  const tbs = buildTbsDer({
    serialHex: randomSerialHex(),
    notBefore,
    notAfter,
    // The id comes from the key, not the machine: two installs never share a CA name.
    subject: [
      ['CN', `dlp-proxy CA ${ski.subarray(0, 4).toString('hex')}`],
      ['O', 'dlp-proxy'],
    ],
    publicKey: forgePublicKey(publicKey),
    extensions: [
      // RFC 5280 §4.2.1.9: MUST be critical in a CA certificate; pathlen 0 = leaves only.
      { name: 'basicConstraints', critical: true, cA: true, pathLenConstraint: 0 },
      { name: 'keyUsage', critical: true, keyCertSign: true, cRLSign: true },
      subjectKeyIdentifierExtension(ski),
      authorityKeyIdentifierExtension(ski),
    ],
  });
  const der = assembleCertificate(tbs, await signSha256(tbs, privateKey));
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;

  await writeNewFile(keyPath, keyPem);
  try {
    await writeNewFile(certPath, derToPem(der));
  } catch (err) {
    await fsp.rm(keyPath, { force: true });
    throw err;
  }
  return { cert: new crypto.X509Certificate(der), key: privateKey, created: true, warnings };
}

/** O_EXCL with mode 0600: an existing file (a concurrent `ca init`) is never overwritten. */
async function writeNewFile(file: string, content: string): Promise<void> {
  try {
    await fsp.writeFile(file, content, { mode: 0o600, flag: 'wx' });
    await fsp.chmod(file, 0o600);
  } catch (err) {
    const problem = errnoCode(err) === 'EEXIST' ? 'appeared while the CA was being created (another `ca init`?)' : `cannot be written (${errnoCode(err)})`;
    throw caError(file, problem, err);
  }
}

async function readText(file: string): Promise<string> {
  try {
    return await fsp.readFile(file, 'utf8');
  } catch (err) {
    throw caError(file, `cannot be read (${errnoCode(err)})`, err);
  }
}

async function loadRootCa(dir: string, certPath: string, keyPath: string): Promise<RootCa> {
  const [certPem, keyPem] = await Promise.all([readText(certPath), readText(keyPath)]);
  const cert = parseCertificate(certPath, certPem);
  let key: crypto.KeyObject;
  try {
    key = crypto.createPrivateKey(keyPem);
  } catch (err) {
    throw caError(keyPath, 'is not a PEM private key (passphrase-protected keys are not supported)', err);
  }
  if (key.asymmetricKeyType !== 'rsa') throw caError(keyPath, `holds a ${key.asymmetricKeyType} key; certificates are issued from RSA CA keys only`);
  if (!cert.checkPrivateKey(key)) throw caError(keyPath, `does not match the certificate in ${certPath}`);
  if (!cert.ca) throw caError(certPath, 'is not a CA certificate (basicConstraints CA:TRUE is missing)');

  const warnings: string[] = [];
  const notAfterMs = Date.parse(cert.validTo);
  if (notAfterMs <= Date.now()) {
    throw caError(certPath, `expired on ${new Date(notAfterMs).toISOString()}; remove ${CA_CERT_FILE} and ${CA_KEY_FILE} to create a new CA`);
  }
  if (notAfterMs - Date.now() < EXPIRY_WARNING_MS) {
    warnings.push(`${certPath} expires on ${new Date(notAfterMs).toISOString()}; plan a new CA and redistribute it`);
  }
  for (const [file, mode, what] of [
    [dir, 0o700, 'the directory of a CA private key'],
    [keyPath, 0o600, 'a CA private key'],
  ] as const) {
    const modeWarning = await restrictMode(file, mode, what);
    if (modeWarning) warnings.push(modeWarning);
  }
  return { cert, key, created: false, warnings };
}

/**
 * A CA key or its directory open to group or others is narrowed to `mode` (0600, 0700); the
 * caller logs the warning. Narrowing, not refusing: the key may already have been read by others,
 * but from now on it is not, and the operator learns of it.
 */
async function restrictMode(file: string, mode: 0o600 | 0o700, what: string): Promise<string | undefined> {
  const current = (await fsp.stat(file)).mode;
  if ((current & 0o077) === 0) return undefined;
  const was = (current & 0o777).toString(8).padStart(4, '0');
  const want = mode.toString(8).padStart(4, '0');
  try {
    await fsp.chmod(file, mode);
    return `${file} had mode ${was}; changed to ${want} (${what} must be accessible to its owner only)`;
  } catch (err) {
    return `${file} has mode ${was} and could not be changed to ${want} (${errnoCode(err)}); restrict it by hand`;
  }
}

function parseCertificate(certPath: string, pem: string): crypto.X509Certificate {
  try {
    return new crypto.X509Certificate(pem);
  } catch (err) {
    throw caError(certPath, 'is not a PEM certificate', err);
  }
}

/** Read-only access to the CA certificate (for `dlp-proxy ca export`); creates nothing. */
export function readCaCertificate(dir: string): { pem: string; der: Buffer; fingerprint256: string } {
  const certPath = path.join(dir, CA_CERT_FILE);
  let pem: string;
  try {
    pem = fs.readFileSync(certPath, 'utf8');
  } catch (err) {
    const code = errnoCode(err);
    throw caError(certPath, code === 'ENOENT' ? 'does not exist; run `dlp-proxy ca init` first' : `cannot be read (${code})`, err);
  }
  const cert = parseCertificate(certPath, pem);
  return { pem: cert.toString(), der: cert.raw, fingerprint256: cert.fingerprint256 };
}
