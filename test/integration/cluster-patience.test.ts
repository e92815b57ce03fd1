// Patience pages with workers: 2, as `npm start` runs on this machine: node:cluster deals each
// connection to either worker, so the page's status poll and file fetch often reach the worker
// that does not hold the file. Each of them must still answer as the holder would (before the
// relay between workers, about half of these links answered 404). Every request on a connection
// of its own; the built-in ICAP service in the primary scans each download.
import crypto from 'node:crypto';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deterministicBytes, EICAR, startOrigin, type Origin } from '../support/origin.js';
import { clusterConfig, startProxyProcess, type LogLine, type ProxyProcess } from '../support/proxy-process.js';
import { tempDir } from '../support/temp-dir.js';

const caDir = tempDir('dlp-proxy-cluster-patience-ca-');
const FILES = 8;
const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');

interface Got {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

describe('cluster mode: patience links work whichever worker takes them', () => {
  let origin: Origin;
  let proxy: ProxyProcess | undefined;
  let proxyPort = 0;

  /** GET through the proxy on a connection of its own. */
  const get = (url: string, headers: Record<string, string>): Promise<Got> =>
    new Promise((resolve, reject) => {
      const u = new URL(url);
      const req = http.get({ host: '127.0.0.1', port: proxyPort, path: url, headers: { host: u.host, ...headers }, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      });
      req.once('error', reject);
    });
  const NAVIGATE = { accept: 'text/html,application/xhtml+xml', 'sec-fetch-mode': 'navigate' };
  /** The page's status and file links, absolute. */
  const links = (page: Got): { status: string; file: string } => {
    const cfg = JSON.parse(/const cfg = (\{.*?\});/.exec(page.body.toString('utf8'))![1]!) as { statusUrl: string; fileUrl: string };
    return { status: origin.url + cfg.statusUrl, file: origin.url + cfg.fileUrl };
  };
  const holderOf = (link: string) => Number(/dlp-proxy-patience=(?:file|status)\.[A-Za-z0-9_-]{43}\.(\d+)$/.exec(link)![1]);
  /** The access line of the exchange that fetched `path` (the page's own line says delivery: patience). */
  const fetchLines = (path: string): LogLine[] => proxy!.lines.filter((l) => l.log === 'access' && l.path === path && l.delivery === undefined);

  beforeAll(async () => {
    origin = await startOrigin();
    const doc = await clusterConfig(caDir, {
      admin: { enabled: false },
      incidents: { enabled: false },
      policy: [{ name: 'patient', match: { direction: 'download', paths: ['^/(bytes|eicar)'] }, scan: 'av', delivery: { mode: 'patience', trickleMinBytes: 16 } }],
    });
    proxyPort = doc.proxy.port;
    proxy = await startProxyProcess(doc, 'cluster started');
  });

  afterAll(async () => {
    await proxy?.kill();
    await origin?.close();
  });

  it('every file link answers its file, byte for byte, also from the worker that does not hold it', async () => {
    const sizes = Array.from({ length: FILES }, (_, i) => 200_000 + i);
    const pages = await Promise.all(sizes.map((n) => get(`${origin.url}/bytes/${n}`, NAVIGATE)));
    for (const page of pages) expect(page.status).toBe(200);
    const fileLinks = pages.map((p) => links(p).file);
    const holders = new Set(fileLinks.map(holderOf));
    expect(holders.size).toBe(2); // both workers hold files (connections are dealt round-robin)
    const files = await Promise.all(fileLinks.map((link) => get(link, NAVIGATE)));
    files.forEach((file, i) => {
      expect(file.status).toBe(200);
      expect(sha(file.body)).toBe(sha(deterministicBytes(sizes[i]!)));
    });
    // which worker answered each fetch, against the holder its link names
    await expect.poll(() => sizes.every((n) => fetchLines(`/bytes/${n}`).length === 1)).toBe(true);
    const relayed = sizes.filter((n, i) => fetchLines(`/bytes/${n}`)[0]!.worker !== holderOf(fileLinks[i]!));
    expect(relayed.length).toBeGreaterThan(0);
    for (const n of relayed) expect(fetchLines(`/bytes/${n}`)[0]).toMatchObject({ status: 200, bytesOut: n, decision: expect.stringContaining('download=scan:av') });
    // one fetch: the second answers 404 wherever it lands
    const again = await Promise.all(fileLinks.slice(0, 4).map((link) => get(link, NAVIGATE)));
    for (const a of again) expect(a.status).toBe(404);
  });

  it("a client cannot reach a worker's relay listener through the proxy, and the relay answers nobody without the secret", async () => {
    const relayPorts = proxy!.lines.filter((l) => l.msg === 'worker listening').map((l) => l.relayPort as number);
    expect(relayPorts).toHaveLength(2);
    for (const port of relayPorts) {
      const through = await get(`http://127.0.0.1:${port}/patience`, { accept: 'application/json' });
      expect(through.status).toBe(403);
      // refused as one of the proxy's own listeners, never forwarded
      expect(JSON.parse(through.body.toString()).error).toBe('UPSTREAM_DESTINATION_FORBIDDEN');
      const direct = await new Promise<number>((resolve, reject) => http.get({ host: '127.0.0.1', port, path: '/patience', agent: false }, (res) => (res.resume(), resolve(res.statusCode ?? 0))).once('error', reject));
      expect(direct).toBe(403);
    }
    // the same process still serves
    expect((await get(`${origin.url}/bytes/300000`, NAVIGATE)).status).toBe(200);
  });

  it('status polls answer on either worker; a blocked file gives the block page there too', async () => {
    const page = await get(`${origin.url}/eicar.com`, NAVIGATE);
    expect(page.status).toBe(200);
    const { status, file } = links(page);
    const polls = await Promise.all([1, 2, 3, 4].map(() => get(status, { accept: 'application/json' })));
    for (const p of polls) expect(JSON.parse(p.body.toString()).state).toMatch(/^(scanning|blocked)$/);
    const blocked = await get(file, NAVIGATE);
    expect(blocked.status).toBe(403);
    expect(blocked.body.includes(Buffer.from(EICAR))).toBe(false);
  });
});
