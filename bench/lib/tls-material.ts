// Certificates for one run, made with the openssl command line in a temp dir: a CA for the origin
// (trusted by dlp-proxy through upstream.extraCaFiles and by squid through tls_outgoing_options),
// the origin's certificate for 127.0.0.1 and localhost, and a CA that squid bumps with.
// dlp-proxy makes its own CA in its ca.dir on first start.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface TlsMaterial {
  dir: string;
  originCaPem: string;
  originCaFile: string;
  originCertFile: string;
  originKeyFile: string;
  squidCaFile: string;
  squidCaKeyFile: string;
  squidCaPem: string;
}

function openssl(cwd: string, args: string[]): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCa(dir: string, name: string, cn: string): void {
  openssl(dir, [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '2',
    '-keyout', `${name}.key`, '-out', `${name}.pem`, '-subj', `/CN=${cn}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
}

export function makeTlsMaterial(dir: string): TlsMaterial {
  fs.mkdirSync(dir, { recursive: true });
  makeCa(dir, 'origin-ca', 'dlp-proxy bench origin CA');
  makeCa(dir, 'squid-ca', 'dlp-proxy bench squid CA');
  openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'origin.key', '-out', 'origin.csr', '-subj', '/CN=127.0.0.1']);
  fs.writeFileSync(
    path.join(dir, 'origin.ext'),
    'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n',
  );
  openssl(dir, ['x509', '-req', '-in', 'origin.csr', '-CA', 'origin-ca.pem', '-CAkey', 'origin-ca.key', '-CAcreateserial', '-days', '2', '-sha256', '-extfile', 'origin.ext', '-out', 'origin.pem']);
  const file = (name: string) => path.join(dir, name);
  return {
    dir,
    originCaFile: file('origin-ca.pem'),
    originCaPem: fs.readFileSync(file('origin-ca.pem'), 'utf8'),
    originCertFile: file('origin.pem'),
    originKeyFile: file('origin.key'),
    squidCaFile: file('squid-ca.pem'),
    squidCaKeyFile: file('squid-ca.key'),
    squidCaPem: fs.readFileSync(file('squid-ca.pem'), 'utf8'),
  };
}
