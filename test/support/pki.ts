// A throwaway PKI for secure-ICAP tests, made with the openssl CLI in a temp dir: a CA, a server
// certificate for localhost/127.0.0.1, a client certificate, and a client certificate from a
// second, unrelated CA. Keys are written 0600 (stunnel refuses world-readable keys).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ensureBinary, tempDir } from './peers/common.js';

export interface TestPki {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** a client certificate signed by another CA */
  otherCaCert: string;
  otherClientCert: string;
  otherClientKey: string;
  cleanup(): void;
}

export function makeTestPki(): TestPki {
  const openssl = ensureBinary('openssl', ['openssl']);
  const dir = tempDir('pki');
  const run = (...args: string[]) => execFileSync(openssl, args, { cwd: dir, stdio: 'pipe' });
  const f = (name: string) => path.join(dir, name);

  const makeCa = (name: string) => {
    run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '2', '-subj', `/CN=${name}`, '-keyout', f(`${name}.key`), '-out', f(`${name}.crt`),
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  };
  const issue = (ca: string, name: string, cn: string, ext: string) => {
    run('req', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-subj', `/CN=${cn}`, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`));
    fs.writeFileSync(f(`${name}.ext`), ext);
    run('x509', '-req', '-in', f(`${name}.csr`), '-CA', f(`${ca}.crt`), '-CAkey', f(`${ca}.key`), '-CAcreateserial', '-days', '2', '-sha256', '-extfile', f(`${name}.ext`), '-out', f(`${name}.crt`));
    fs.chmodSync(f(`${name}.key`), 0o600);
  };
  makeCa('ca');
  makeCa('other-ca');
  issue('ca', 'server', 'localhost', 'subjectAltName=DNS:localhost,DNS:icap.test,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  issue('ca', 'client', 'dlp-proxy', 'extendedKeyUsage=clientAuth\n');
  issue('other-ca', 'other-client', 'dlp-proxy', 'extendedKeyUsage=clientAuth\n');
  for (const key of ['ca.key', 'other-ca.key']) fs.chmodSync(f(key), 0o600);
  return {
    dir,
    caCert: f('ca.crt'),
    serverCert: f('server.crt'),
    serverKey: f('server.key'),
    clientCert: f('client.crt'),
    clientKey: f('client.key'),
    otherCaCert: f('other-ca.crt'),
    otherClientCert: f('other-client.crt'),
    otherClientKey: f('other-client.key'),
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
