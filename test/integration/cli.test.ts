// The command line as an operator runs it: `ca init` then `ca export` in PEM and DER, and
// `hash-password` producing a hash the config accepts and the proxy verifies.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/index.js';
import { parseConfig } from '../../src/config/index.js';
import { ProxyAuthenticator } from '../../src/proxy/index.js';
import { tempDir } from '../support/temp-dir.js';

function capture(): { stream: Writable; bytes(): Buffer } {
  const chunks: Buffer[] = [];
  return {
    stream: new Writable({
      write(chunk: Buffer, _enc, cb) {
        chunks.push(Buffer.from(chunk));
        cb();
      },
    }),
    bytes: () => Buffer.concat(chunks),
  };
}

async function run(argv: string[], input = ''): Promise<{ code: number; out: Buffer; err: string }> {
  const out = capture();
  const err = capture();
  const stdin = new PassThrough();
  stdin.end(input);
  const code = await runCli(argv, { out: out.stream as unknown as typeof process.stdout, err: err.stream as unknown as typeof process.stderr, in: stdin as unknown as typeof process.stdin });
  return { code, out: out.bytes(), err: err.bytes().toString() };
}

describe('dlp-proxy CLI', () => {
  it('ca init creates the CA once; ca export prints it as PEM and DER', async () => {
    const dir = tempDir('dlp-proxy-cli-');
    const config = path.join(dir, 'config.yaml');
    fs.writeFileSync(config, `ca:\n  dir: ${path.join(dir, 'ca')}\n`);
    const missing = await run(['ca', 'export', '--config', config]);
    expect(missing.code).toBe(1);
    const init = await run(['ca', 'init', '--config', config]);
    expect(init.code).toBe(0);
    expect(init.out.toString()).toMatch(/created: .*ca\.pem/);
    expect((fs.statSync(path.join(dir, 'ca', 'ca-key.pem')).mode & 0o777).toString(8)).toBe('600');
    expect((await run(['ca', 'init', '--config', config])).out.toString()).toMatch(/^exists/);
    const pem = await run(['ca', 'export', '--config', config]);
    expect(pem.out.toString()).toMatch(/^-----BEGIN CERTIFICATE-----/);
    const der = await run(['ca', 'export', '--format', 'der', '--config', config]);
    expect(new crypto.X509Certificate(der.out).fingerprint256).toBe(new crypto.X509Certificate(pem.out).fingerprint256);
    expect((await run(['ca', 'export', '--format', 'txt', '--config', config])).code).toBe(2);
  });

  it('hash-password prints a hash that the config accepts and the proxy verifies', async () => {
    const { code, out } = await run(['hash-password'], 'hunter2 with spaces\n');
    expect(code).toBe(0);
    const passwordHash = out.toString().trim();
    const config = parseConfig({ proxy: { auth: { users: [{ name: 'bob', passwordHash }] } } });
    const auth = new ProxyAuthenticator('x', config.proxy.auth!.users);
    expect(await auth.authenticate(`Basic ${Buffer.from('bob:hunter2 with spaces').toString('base64')}`)).toBe('bob');
    expect(await auth.authenticate(`Basic ${Buffer.from('bob:hunter2').toString('base64')}`)).toBeUndefined();
    expect((await run(['hash-password'], '\n')).code).toBe(2);
  });

  it('answers unknown commands with the usage and exit 2', async () => {
    const r = await run(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('usage: dlp-proxy');
  });
});
