// Secure ICAP: stunnel in front of c-icap requiring client certificates (verify = 2), the setup
// external-DLP guides describe. Accepted with the right certificate; a clear
// ICAP_TLS_CLIENT_CERT_REJECTED without one (TLS 1.3 refuses after the handshake, on the first
// read) or with one from another CA; ICAP_TLS_FAILED when the server is not the pinned CA's.
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IcapService, type IcapServiceOptions } from '../../src/icap/index.js';
import { makeTestPki, type TestPki } from '../support/pki.js';
import { startCicap, type Cicap } from '../support/peers/cicap.js';
import { startStunnel, type Stunnel } from '../support/peers/stunnel.js';
import { proxyErrorOf } from '../support/proxy-error.js';

let pki: TestPki;
let cicap: Cicap;
let stunnel: Stunnel;
const services: IcapService[] = [];

beforeAll(async () => {
  pki = makeTestPki();
  cicap = await startCicap({ services: ['dlp'] });
  stunnel = await startStunnel({ connectPort: cicap.port, cert: pki.serverCert, key: pki.serverKey, clientCa: pki.caCert });
});

afterAll(async () => {
  for (const s of services) await s.close();
  await stunnel?.stop();
  await cicap?.stop();
  pki?.cleanup();
});

function secure(tls: IcapServiceOptions['tls'], url = stunnel.url('dlp'), extra: Partial<IcapServiceOptions> = {}): IcapService {
  const s = new IcapService({ name: 'dlp', servers: [{ url, weight: 1 }], tls, maxConnections: 2, connectTimeoutMs: 2000, previewTimeoutMs: 3000, readIdleTimeoutMs: 3000, queueTimeoutMs: 3000, idleTimeoutMs: 3000, ...extra });
  services.push(s);
  return s;
}


describe('secure ICAP through stunnel with client certificates', () => {
  it('works with the right client certificate and the pinned CA', async () => {
    const icap = secure({ ca: pki.caCert, cert: pki.clientCert, key: pki.clientKey, rejectUnauthorized: true });
    const options = await icap.options();
    expect(options.methods).toContain('REQMOD');
    const text = Buffer.from('TOP-SECRET over TLS');
    const result = await icap.send({
      method: 'REQMOD',
      reqHead: { kind: 'request', method: 'POST', target: 'http://x.test/', version: '1.1', headers: [['Host', 'x.test'], ['Content-Type', 'text/plain'], ['Content-Length', String(text.length)]] },
      body: Readable.from([text]),
      bodyBytes: text.length,
      allow204: true,
    });
    expect(result.kind === 'modified' && result.headers.get('x-response-info')).toBe('block');
    if (result.kind === 'modified') result.body?.resume();
  });

  it('honours a servername override when connecting by IP address', async () => {
    const icap = secure({ ca: pki.caCert, cert: pki.clientCert, key: pki.clientKey, servername: 'icap.test', rejectUnauthorized: true }, `icaps://127.0.0.1:${stunnel.port}/dlp`);
    expect((await icap.options()).methods).toContain('RESPMOD');
  });

  it('without a client certificate: ICAP_TLS_CLIENT_CERT_REJECTED, not a hang or a bare reset', async () => {
    // The hang ruled out is waiting for the read-idle timeout: make that 20 s here, so an answer in
    // under half of it is the alert, however loaded the machine.
    const hang = { previewTimeoutMs: 20_000, readIdleTimeoutMs: 20_000 };
    const started = Date.now();
    const err = await proxyErrorOf(secure({ ca: pki.caCert, rejectUnauthorized: true }, undefined, hang).options());
    expect(err.code).toBe('ICAP_TLS_CLIENT_CERT_REJECTED');
    expect(err.message).toMatch(/CERTIFICATE_REQUIRED|certificate required/i);
    expect(Date.now() - started).toBeLessThan(hang.readIdleTimeoutMs / 2);
  });

  it('with a client certificate from another CA: ICAP_TLS_CLIENT_CERT_REJECTED', async () => {
    const err = await proxyErrorOf(secure({ ca: pki.caCert, cert: pki.otherClientCert, key: pki.otherClientKey, rejectUnauthorized: true }).options());
    expect(err.code).toBe('ICAP_TLS_CLIENT_CERT_REJECTED');
  });

  it('verifies the server by default: a server outside the pinned CA is ICAP_TLS_FAILED', async () => {
    const err = await proxyErrorOf(secure({ ca: pki.otherCaCert, cert: pki.clientCert, key: pki.clientKey, rejectUnauthorized: true }).options());
    expect(err.code).toBe('ICAP_TLS_FAILED');
    const unpinned = await proxyErrorOf(secure({ cert: pki.clientCert, key: pki.clientKey, rejectUnauthorized: true }).options());
    expect(unpinned.code).toBe('ICAP_TLS_FAILED');
  });

  it('an unreadable key file is a clear ICAP_TLS_FAILED naming the file', async () => {
    const err = await proxyErrorOf(secure({ ca: pki.caCert, cert: pki.clientCert, key: '/nonexistent/client.key', rejectUnauthorized: true }).options());
    expect(err.code).toBe('ICAP_TLS_FAILED');
    expect(err.message).toContain('/nonexistent/client.key');
  });
});
