// The roots that origin certificates are verified against: Node's bundled Mozilla roots, the
// system store (Debian's ca-certificates bundle), NODE_EXTRA_CA_CERTS and the configured extra
// CA files. Passing `ca` to an agent replaces Node's defaults (NODE_EXTRA_CA_CERTS included), so
// the list is assembled here once at start.
import fs from 'node:fs';
import tls from 'node:tls';
import { ProxyError } from '../core/errors.js';

const SYSTEM_BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/cert.pem'];

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

export function splitPem(text: string): string[] {
  return text.match(PEM_BLOCK) ?? [];
}

export function trustedRoots(extraCaFiles: readonly string[], env: NodeJS.ProcessEnv = process.env): string[] {
  const roots = new Set<string>(tls.rootCertificates);
  for (const file of SYSTEM_BUNDLES) {
    try {
      for (const pem of splitPem(fs.readFileSync(file, 'utf8'))) roots.add(pem);
      break;
    } catch {
      /* not on this system */
    }
  }
  const extra = [...extraCaFiles];
  if (env.NODE_EXTRA_CA_CERTS) extra.push(env.NODE_EXTRA_CA_CERTS);
  for (const file of extra) {
    let pems: string[];
    try {
      pems = splitPem(fs.readFileSync(file, 'utf8'));
    } catch (err) {
      throw new ProxyError('CONFIG_INVALID', `upstream.extraCaFiles: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    if (pems.length === 0) throw new ProxyError('CONFIG_INVALID', `upstream.extraCaFiles: ${file} holds no PEM certificate`);
    for (const pem of pems) roots.add(pem);
  }
  return [...roots];
}
