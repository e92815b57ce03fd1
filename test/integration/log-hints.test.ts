// Log lines an operator can act on (issue 11 items 9 and 10). A real client that rejects our
// certificate during an intercepted handshake (openssl s_client through a CONNECT, trusting no CA:
// it sends the unknown_ca alert as curl and browsers do) is logged at info with the hint that the
// client does not trust the proxy CA and where to get it; another client TLS failure (bytes that
// are no TLS) stays at debug; a defect of ours (INTERNAL) is logged at error with the stack of
// the error and of its cause.
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProxyError } from '../../src/core/errors.js';
import { events } from '../../src/core/events.js';
import { startOrigin, type Origin } from '../support/origin.js';
import { connect } from '../support/proxy-client.js';
import { startTestProxy, type TestProxy } from '../support/proxy-harness.js';
import { ensureBinary } from '../support/peers/common.js';

type Line = Record<string, unknown>;

let proxy: TestProxy;
let origin: Origin;
let openssl: string;

beforeAll(async () => {
  openssl = ensureBinary('openssl', ['openssl']);
  origin = await startOrigin();
  proxy = await startTestProxy({});
});
afterAll(async () => {
  await proxy?.close();
  await origin?.close();
});

/** Wait for log lines that match; fails with what was logged instead. */
async function logged(match: (l: Line) => boolean, timeoutMs = 10_000): Promise<Line[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = proxy.logs.filter(match);
    if (found.length > 0) return found;
    if (Date.now() > deadline) throw new Error(`no such log line; logged: ${JSON.stringify(proxy.logs.slice(-10))}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * openssl s_client through the proxy (`-proxy`: a CONNECT), verifying the server certificate
 * against no CA at all and aborting the handshake when it does not verify. Resolves with its
 * exit code and output once it ended (it is killed after 15 s).
 */
function sClientTrustingNothing(target: string, servername: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      openssl,
      ['s_client', '-proxy', `127.0.0.1:${proxy.port}`, '-connect', target, '-servername', servername, '-verify_return_error', '-no-CAfile', '-no-CApath', '-no-CAstore'],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
    child.stdin.end();
  });
}

describe('client TLS failures in the log', () => {
  it('a client that does not trust our CA is logged at info with the hint, the alert and the host', async () => {
    const host = 'untrusting-client.test';
    const result = await sClientTrustingNothing(`${host}:443`, host);
    // the client itself refused: verification failed, and it said so to the proxy with an alert
    expect(result.code).not.toBe(0);
    expect(result.out).toMatch(/unable to get local issuer certificate|verify error/i);

    const [line] = await logged((l) => l['code'] === 'CLIENT_TLS_FAILED' && l['level'] === 30);
    expect(line).toMatchObject({ level: 30, log: 'error', hop: 'client', alert: 'unknown_ca' });
    expect(String(line!['msg'])).toContain('does not trust the proxy CA');
    // the CA file of this proxy's ca.dir, where the operator finds it
    expect(String(line!['msg'])).toContain(path.join(proxy.caDir, 'ca.pem'));
    expect(String(line!['msg'])).toContain('/ca.pem on the admin listener');
    // the host the client was trying to reach (its CONNECT target), and OpenSSL's own name for the alert
    expect(String(line!['err'])).toContain(host);
    expect(String(line!['err'])).toContain('ERR_SSL_TLSV1_ALERT_UNKNOWN_CA');
    // and not also at debug: one line for one refusal
    expect(proxy.logs.filter((l) => l['code'] === 'CLIENT_TLS_FAILED' && l['level'] === 20 && String(l['err']).includes('UNKNOWN_CA'))).toEqual([]);
  });

  it('other client TLS failures stay at debug with no hint', async () => {
    const before = proxy.logs.length;
    const { status, socket } = await connect(proxy.port, `127.0.0.1:${origin.port}`);
    expect(status).toBe(200);
    // A TLS record header announcing a handshake, then a ClientHello that is no ClientHello.
    socket.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x08, 0x01, 0x00, 0x00, 0x04, 0xde, 0xad, 0xbe, 0xef]));
    socket.on('error', () => undefined);
    const [line] = await logged((l) => proxy.logs.indexOf(l) >= before && l['code'] === 'CLIENT_TLS_FAILED');
    socket.destroy();
    expect(line).toMatchObject({ level: 20, hop: 'client', msg: 'hop failed' });
    expect(line!['alert']).toBeUndefined();
    expect(proxy.logs.slice(before).filter((l) => l['code'] === 'CLIENT_TLS_FAILED' && l['level'] !== 20)).toEqual([]);
  });
});

describe('our own defects in the log', () => {
  it('INTERNAL is logged at error with the stack of the error and of its cause', async () => {
    const defect = new TypeError("Cannot read properties of undefined (reading 'istag')");
    const error = new ProxyError('INTERNAL', `internal error in the ICAP client (TypeError): ${defect.message}`, { cause: defect, details: { server: '127.0.0.1:1344' } });
    events.error.publish({ error });
    const [line] = await logged((l) => l['code'] === 'INTERNAL' && l['level'] === 50);
    expect(line).toMatchObject({ level: 50, log: 'error', hop: 'internal' });
    const err = line!['err'] as { type: string; message: string; stack: string; code: string };
    expect(err.type).toBe('ProxyError');
    expect(err.code).toBe('INTERNAL');
    // the stack of the ProxyError, then the cause's own stack (pino's err serializer)
    expect(err.stack).toContain('ProxyError: internal error in the ICAP client');
    expect(err.stack).toMatch(/caused by: TypeError: Cannot read properties of undefined \(reading 'istag'\)\n\s+at /);
    expect(err.stack).toContain('log-hints.test.ts');
  });
});
