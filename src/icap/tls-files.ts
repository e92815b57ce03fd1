// The client certificate, key and CA of an icaps:// service, read once per service (never per
// connection) and shared by its servers' pools. A failed read is tried again on the next connect,
// so an operator who fixes a file needs no restart.
import { readFile } from 'node:fs/promises';
import { ProxyError } from '../core/errors.js';
import type { TlsMaterial } from './connection.js';

export interface TlsFiles {
  ca?: string;
  cert?: string;
  key?: string;
  servername?: string;
  rejectUnauthorized: boolean;
}

export function tlsLoader(service: string, tls: TlsFiles | undefined): () => Promise<TlsMaterial | undefined> {
  let material: Promise<TlsMaterial | undefined> | undefined;
  return () => {
    material ??= (async () => {
      if (!tls) return undefined;
      const read = async (file: string | undefined, what: string) => {
        if (file === undefined) return undefined;
        try {
          return await readFile(file);
        } catch (err) {
          throw new ProxyError('ICAP_TLS_FAILED', `ICAP service ${service}: cannot read TLS ${what} ${file}`, { cause: err });
        }
      };
      const [ca, cert, key] = await Promise.all([read(tls.ca, 'CA file'), read(tls.cert, 'certificate'), read(tls.key, 'key')]);
      const out: TlsMaterial = { rejectUnauthorized: tls.rejectUnauthorized };
      if (ca) out.ca = ca;
      if (cert) out.cert = cert;
      if (key) out.key = key;
      if (tls.servername !== undefined) out.servername = tls.servername;
      return out;
    })();
    material.catch(() => (material = undefined));
    return material;
  };
}
