// The built-in service's ISTag changes while the workers run (clamd took a signature update, no
// worker is replaced): the primary tells every worker (icap-istags) and each asks OPTIONS at once,
// so none answers from a verdict cached under the old tag (RFC 3507 §4.7) until its Options-TTL.
// With one verdict cache per host, a worker still on the old tag would find the old entries.
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startOrigin, type Origin } from '../support/origin.js';
import { proxyRequest } from '../support/proxy-client.js';
import { startProxyProcess, type ProxyProcess } from '../support/proxy-process.js';
import { freePort } from '../support/peers/common.js';
import { tempDir } from '../support/temp-dir.js';

/** A clamd that answers VERSION with `version` and finds nothing in any INSTREAM. */
async function scriptedClamd(): Promise<{ port: number; version: string; close(): Promise<void> }> {
  const state = { version: 'ClamAV 1.0.7/27480/Mon Dec  1 09:00:00 2026' };
  const server = net.createServer((conn) => {
    let bytes = Buffer.alloc(0);
    conn.on('error', () => undefined);
    conn.on('data', (chunk: Buffer) => {
      bytes = Buffer.concat([bytes, chunk]);
      const text = bytes.toString('latin1');
      if (text.startsWith('zVERSION\0')) conn.end(`${state.version}\0`);
      // INSTREAM ends with a chunk of length zero
      else if (text.startsWith('zINSTREAM\0') && bytes.length >= 14 && bytes.readUInt32BE(bytes.length - 4) === 0) conn.end('stream: OK\0');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(state, {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

let origin: Origin;
let clamd: Awaited<ReturnType<typeof scriptedClamd>>;
let proc: ProxyProcess | undefined;
beforeAll(async () => {
  origin = await startOrigin();
  clamd = await scriptedClamd();
});
afterEach(async () => {
  await proc?.kill();
  proc = undefined;
});
afterAll(async () => {
  await origin?.close();
  await clamd?.close();
});

describe('a new ISTag of the built-in service in cluster mode', () => {
  it('reaches every worker at once: the next download is scanned again, not answered from the old verdict', { timeout: 90_000 }, async () => {
    const icapPort = await freePort();
    const port = await freePort();
    proc = await startProxyProcess(
      {
        workers: 2,
        proxy: { port },
        ca: { dir: tempDir('dlp-proxy-istag-ca-') },
        admin: { enabled: false },
        incidents: { enabled: false },
        icapServer: { port: icapPort, av: { clamd: { host: '127.0.0.1', port: clamd.port, versionPollMs: 100 } } },
        services: { av: { urls: [`icap://127.0.0.1:${icapPort}/av`] } },
        policy: [{ name: 'downloads', match: { direction: 'download' }, scan: 'av' }],
        log: { format: 'json', level: 'info' },
      },
      'cluster started',
    );
    // fresh connections: both workers take some
    const download = async () => (await proxyRequest(port, `${origin.url}/bytes/2048`, { headers: { connection: 'close' } })).status;
    const verdicts = () => proc!.lines.filter((l) => l.log === 'access' && l.path === '/bytes/2048').map((l) => l.verdict);
    for (let i = 0; i < 6; i++) expect(await download()).toBe(200);
    await proc.waitFor((l) => l.log === 'access' && l.path === '/bytes/2048', 5_000, 6);
    expect(verdicts().filter((v) => v === 'pass/icap')).toHaveLength(1);

    clamd.version = 'ClamAV 1.0.7/27481/Tue Dec  2 09:00:00 2026';
    await proc.waitFor((l) => l.msg === 'built-in ICAP service ISTag changed', 10_000);
    // each worker took the new tag (long before the built-in service's Options-TTL)
    await proc.waitFor((l) => l.log === 'icap' && l.service === 'av' && l.msg === 'ISTag changed: cached verdicts of the old tag no longer apply', 10_000, 2);
    for (let i = 0; i < 6; i++) expect(await download()).toBe(200);
    await proc.waitFor((l) => l.log === 'access' && l.path === '/bytes/2048', 5_000, 12);
    // one scan under the new tag, then its verdict: never an old one
    expect(verdicts().slice(6)).toEqual(['pass/icap', ...Array(5).fill('pass/cache')]);
  });
});
