// What `npm start` runs: config/default.yaml with the built-in ICAP service in its worker
// thread, both services pointed at it. Only the ports move (free ones), so the test can run
// beside a proxy already on 8080. Card-number uploads and EICAR downloads are blocked, clean ones
// pass, and so do software packages with native code and an author list (npm install, npm publish).
import crypto from 'node:crypto';
import fs from 'node:fs';
import { Writable } from 'node:stream';
import zlib from 'node:zlib';
import pino from 'pino';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { DEFAULT_CONFIG_FILE, parseConfig } from '../../src/config/index.js';
import { tar } from '../corpus/writers/archive-writers.js';
import { CARD } from '../support/enforcement-suite.js';
import { deterministicBytes, startOrigin, type Origin } from '../support/origin.js';
import { proxyRequest } from '../support/proxy-client.js';
import { freePort } from '../support/peers/common.js';
import { tempDir } from '../support/temp-dir.js';

describe('the default configuration (npm start)', () => {
  let app: App;
  let origin: Origin;

  beforeAll(async () => {
    const doc = YAML.parse(fs.readFileSync(DEFAULT_CONFIG_FILE, 'utf8')) as Record<string, any>;
    const icapPort = await freePort();
    doc.proxy.port = 0;
    doc.admin.enabled = false;
    doc.icapServer.port = icapPort;
    doc.ca.dir = tempDir('dlp-proxy-default-ca-');
    // the blocks below are incidents: kept in a temp dir, not in the checkout's incidents/
    doc.incidents.dir = tempDir('dlp-proxy-default-incidents-');
    for (const service of Object.values(doc.services) as Array<{ urls: string[] }>) service.urls = service.urls.map((u) => u.replace(':1344/', `:${icapPort}/`));
    const logger = pino({ level: 'silent' }, new Writable({ write: (_c, _e, cb) => cb() }));
    app = await startApp(parseConfig(doc, 'default.yaml with free ports'), { logger });
    origin = await startOrigin();
  });
  afterAll(async () => {
    await app?.close();
    await origin?.close();
  });

  it('runs the built-in ICAP service and blocks a card-number upload before the origin', async () => {
    expect(app.icapServerPort).toBeGreaterThan(0);
    const before = origin.seen.length;
    const reply = await proxyRequest(app.proxyPort, `${origin.url}/upload`, { method: 'POST', body: `name=Jane&card=${CARD}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(reply.status).toBe(403);
    expect(reply.body.toString()).toMatch(/payment.card/i);
    expect(origin.seen.length).toBe(before);
  });

  it('blocks an EICAR download and passes clean traffic byte for byte', async () => {
    expect((await proxyRequest(app.proxyPort, `${origin.url}/eicar.com`)).status).toBe(403);
    const body = Buffer.from('an ordinary upload\n'.repeat(1000));
    const up = await proxyRequest(app.proxyPort, `${origin.url}/upload`, { method: 'POST', body, headers: { 'content-type': 'text/plain' } });
    expect(up.status).toBe(200);
    expect(origin.seen.at(-1)!.sha256).toBe(crypto.createHash('sha256').update(body).digest('hex'));
    const down = await proxyRequest(app.proxyPort, `${origin.url}/bytes/500000`);
    expect(down.body.equals(deterministicBytes(500000))).toBe(true);
  });

  it('passes an npm package with a native binary and 60 contributors both ways; the binary in a plain tarball is blocked on download', async () => {
    const elf = Buffer.concat([Buffer.from('\x7fELF\x02\x01\x01\x00', 'latin1'), deterministicBytes(4096)]);
    const contributors = Array.from({ length: 60 }, (_, i) => `Dev ${i} <dev${i}@contributors-mail.net>`);
    const manifest = JSON.stringify({ name: '@esbuild/linux-x64', version: '0.25.0', contributors });
    const echo = (body: Buffer) => proxyRequest(app.proxyPort, `${origin.url}/echo`, { method: 'POST', body, headers: { 'content-type': 'application/octet-stream' } });
    // /echo answers the body back: the upload is scanned by dlp (REQMOD), the answer by av (RESPMOD)
    const pkg = zlib.gzipSync(tar([{ name: 'package/bin/esbuild', data: elf }, { name: 'package/package.json', data: manifest }]));
    const passed = await echo(pkg);
    expect(passed.status).toBe(200);
    expect(passed.body.equals(pkg)).toBe(true);
    const plain = zlib.gzipSync(tar([{ name: 'dist/bin/tool', data: elf }, { name: 'dist/README', data: 'a tool\n' }]));
    expect((await echo(plain)).status).toBe(403);
    const customers = zlib.gzipSync(tar([{ name: 'export/customers.txt', data: contributors.join('\n') }]));
    expect((await echo(customers)).status).toBe(403);
  });
});
