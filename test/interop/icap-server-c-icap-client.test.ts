// c-icap-client (the reference client shipped with c-icap) against the built-in ICAP server,
// with and without preview, with and without Allow: 204.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { EICAR } from '../../src/icap-server/detectors/eicar.js';
import { listenIcapServer, type IcapServerHandle } from '../../src/icap-server/index.js';
import { ensureBinary, tempDir } from '../support/peers/common.js';

const run = promisify(execFile);
let client: string;
let server: IcapServerHandle;
let dir: string;

beforeAll(async () => {
  client = ensureBinary('c-icap-client', ['c-icap']);
  server = await listenIcapServer({ config: parseConfig({}).icapServer, port: 0 });
  dir = tempDir('icap-server-cicap');
  fs.writeFileSync(path.join(dir, 'card.txt'), 'invoice paid with 4111 1111 1111 1111\n');
  fs.writeFileSync(path.join(dir, 'clean.txt'), 'nothing sensitive in here\n');
  fs.writeFileSync(path.join(dir, 'big-card.txt'), `${'a'.repeat(5000)} 4111-1111-1111-1111\n`);
  fs.writeFileSync(path.join(dir, 'big-clean.txt'), `${'lorem ipsum '.repeat(600)}\n`);
  fs.writeFileSync(path.join(dir, 'eicar.com'), EICAR);
});
afterAll(async () => {
  await server.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Runs c-icap-client -v; returns the ICAP status line, headers (lower-cased names) and output file. */
async function cicap(args: string[]): Promise<{ status: string; headers: Map<string, string>; output: Buffer }> {
  const out = path.join(dir, `out-${Math.random().toString(36).slice(2)}`);
  // c-icap-client prints its report (-v) on stderr.
  const { stderr } = await run(client, ['-i', '127.0.0.1', '-p', String(server.port), '-v', '-o', out, ...args], { timeout: 10_000 });
  const lines = stderr.split('\n');
  const at = lines.findIndex((l) => l.trim() === 'ICAP HEADERS:');
  const headers = new Map<string, string>();
  let status = '';
  for (const line of lines.slice(at + 1)) {
    if (!line.startsWith('\t')) break;
    const text = line.trim();
    if (text.startsWith('ICAP/')) status = text;
    else {
      const colon = text.indexOf(':');
      headers.set(text.slice(0, colon).toLowerCase(), text.slice(colon + 1).trim());
    }
  }
  const output = fs.existsSync(out) ? fs.readFileSync(out) : Buffer.alloc(0);
  return { status, headers, output };
}

const file = (name: string) => path.join(dir, name);

describe('c-icap-client against the built-in ICAP server', () => {
  it('reads the OPTIONS of both services', async () => {
    for (const service of ['dlp', 'av']) {
      const { stderr } = await run(client, ['-i', '127.0.0.1', '-p', String(server.port), '-s', service, '-v'], { timeout: 10_000 });
      expect(stderr).toContain('Allow 204: Yes');
      expect(stderr).toContain('Preview: 1024');
      expect(stderr).toContain('Keep alive: Yes');
      expect(stderr).toContain(`ISTag: ${server.istags[service]}`);
    }
  });

  it.each([
    ['with preview (body within it, ieof)', ['-f', 'card.txt']],
    ['without preview', ['-f', 'card.txt', '-nopreview']],
    ['with a 512-byte preview and 100 Continue', ['-f', 'big-card.txt', '-w', '512']],
    ['without preview and without 204', ['-f', 'big-card.txt', '-nopreview', '-no204']],
  ])('gets a block for a card number %s', async (_name, args) => {
    const r = await cicap(['-s', 'dlp', '-req', 'http://origin.test/upload', ...args.map((a) => (a.endsWith('.txt') ? file(a) : a))]);
    expect(r.status).toBe('ICAP/1.0 200 OK');
    expect(r.headers.get('x-violations-found')).toBe('1 - payment-card x1 0 2');
    expect(r.output.toString()).toContain('<code>payment-card</code>');
  });

  it.each([
    ['with preview', ['-f', 'clean.txt']],
    ['without preview', ['-f', 'clean.txt', '-nopreview']],
    ['with a 512-byte preview and 100 Continue', ['-f', 'big-clean.txt', '-w', '512']],
  ])('gets 204 for a clean upload %s', async (_name, args) => {
    const r = await cicap(['-s', 'dlp', '-req', 'http://origin.test/upload', ...args.map((a) => (a.endsWith('.txt') ? file(a) : a))]);
    expect(r.status).toBe('ICAP/1.0 204 No Content');
  });

  it('gets the unchanged body back when it does not allow 204', async () => {
    const r = await cicap(['-s', 'dlp', '-req', 'http://origin.test/upload', '-f', file('big-clean.txt'), '-nopreview', '-no204']);
    expect(r.status).toBe('ICAP/1.0 200 OK');
    expect(r.output.equals(fs.readFileSync(file('big-clean.txt')))).toBe(true);
  });

  it('gets an infection report for EICAR by RESPMOD, with and without preview', async () => {
    for (const extra of [[], ['-nopreview']]) {
      const r = await cicap(['-s', 'av', '-resp', 'http://origin.test/eicar.com', '-f', file('eicar.com'), ...extra]);
      expect(r.status).toBe('ICAP/1.0 200 OK');
      expect(r.headers.get('x-infection-found')).toBe('Type=0; Resolution=2; Threat=EICAR-Test-File;');
    }
    const clean = await cicap(['-s', 'av', '-resp', 'http://origin.test/a.txt', '-f', file('big-clean.txt'), '-w', '512']);
    expect(clean.status).toBe('ICAP/1.0 204 No Content');
  });
});
