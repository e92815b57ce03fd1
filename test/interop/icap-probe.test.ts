// `dlp-proxy icap probe` against real c-icap (dlp, av) directly and through stunnel with a client
// certificate: OPTIONS, a blocked and a clean transaction, failures and usage errors by exit code.
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { icapProbe } from '../../src/cli/icap-probe.js';
import { freePort } from '../support/peers/common.js';
import { startCicap, type Cicap } from '../support/peers/cicap.js';
import { EICAR, EICAR_NAME } from '../support/peers/clamd.js';
import { startStunnel, type Stunnel } from '../support/peers/stunnel.js';
import { makeTestPki, type TestPki } from '../support/pki.js';

let cicap: Cicap;
let stunnel: Stunnel;
let pki: TestPki;

beforeAll(async () => {
  pki = makeTestPki();
  cicap = await startCicap({ services: ['dlp', 'av'] });
  stunnel = await startStunnel({ connectPort: cicap.port, cert: pki.serverCert, key: pki.serverKey, clientCa: pki.caCert });
  fs.writeFileSync(path.join(pki.dir, 'eicar.com'), EICAR);
  fs.writeFileSync(path.join(pki.dir, 'secret.txt'), 'quarterly plan TOP-SECRET\n');
  fs.writeFileSync(path.join(pki.dir, 'clean.txt'), 'nothing to see\n'.repeat(1000));
});

afterAll(async () => {
  await stunnel?.stop();
  await cicap?.stop();
  pki?.cleanup();
});

async function probe(...argv: string[]): Promise<{ code: number; text: string }> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const code = await icapProbe(argv, out);
  const text = Buffer.concat(chunks).toString();
  if (process.env.ICAP_PROBE_SHOW) process.stdout.write(`$ dlp-proxy icap probe ${argv.join(' ')}\n${text}exit ${code}\n\n`);
  return { code, text };
}

describe('dlp-proxy icap probe', () => {
  it('prints OPTIONS', async () => {
    const { code, text } = await probe(cicap.url('av'));
    expect(code).toBe(0);
    expect(text).toMatch(/methods:\s+RESPMOD, REQMOD/);
    expect(text).toMatch(/istag:\s+"CI0001-/);
    expect(text).toMatch(/preview:\s+1024 bytes/);
    expect(text).toMatch(/time:\s+\d+\.\d ms/);
  });

  it('prints a RESPMOD block with its violation headers', async () => {
    const { code, text } = await probe(cicap.url('av'), '--file', path.join(pki.dir, 'eicar.com'), '--respmod');
    expect(code).toBe(0);
    expect(text).toMatch(/status:\s+ICAP\/1.0 200/);
    expect(text).toMatch(/outcome:\s+200 modified: HTTP\/1.0 403 Forbidden/);
    expect(text).toContain(`Threat=${EICAR_NAME};`);
    expect(text).toMatch(/preview used:\s+yes/);
  });

  it('prints a REQMOD keyword block, and a clean 204 with --preview 0', async () => {
    const blocked = await probe(cicap.url('dlp'), '--file', path.join(pki.dir, 'secret.txt'));
    expect(blocked.text).toMatch(/x-response-info:\s+block/);
    const clean = await probe(cicap.url('av'), '--file', path.join(pki.dir, 'clean.txt'), '--preview', '0');
    expect(clean.code).toBe(0);
    expect(clean.text).toMatch(/outcome:\s+204 unmodified/);
    expect(clean.text).toMatch(/violations:\s+none/);
  });

  it('works over icaps:// with a client certificate, and fails clearly without one', async () => {
    const ok = await probe(stunnel.url('dlp'), '--ca', pki.caCert, '--cert', pki.clientCert, '--key', pki.clientKey, '--file', path.join(pki.dir, 'secret.txt'));
    expect(ok.code).toBe(0);
    expect(ok.text).toMatch(/x-response-info:\s+block/);
    const refused = await probe(stunnel.url('dlp'), '--ca', pki.caCert);
    expect(refused.code).toBe(1);
    expect(refused.text).toContain('error ICAP_TLS_CLIENT_CERT_REJECTED');
  });

  it('exits 1 on a connection failure and 2 on a usage error', async () => {
    const dead = await probe(`icap://127.0.0.1:${await freePort()}/x`, '--timeout', '1000');
    expect(dead.code).toBe(1);
    expect(dead.text).toContain('error ICAP_CONNECT_FAILED');
    expect((await probe('http://x/')).code).toBe(2);
    expect((await probe(cicap.url('av'), '--preview', 'lots')).code).toBe(2);
  });
});
