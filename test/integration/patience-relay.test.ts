// Patience links across cluster workers (pipeline/patience-relay.ts), two "workers" in one process:
// worker 1 holds the files, a front standing for worker 2 takes the client's requests and relays
// those whose link names worker 1. The holder answers as it answers its own clients (the file
// once, 403 for another client, 404 for another URL); a link to a worker that is gone or unknown
// answers 404. Hostile: the relay listener asked without the secret, with a wrong one, with junk;
// a client that vanishes mid-file. Real sockets on 127.0.0.1, port 0.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type net from 'node:net';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SpooledBody } from '../../src/body/index.js';
import type { Exchange } from '../../src/core/exchange.js';
import type { Verdict } from '../../src/core/types.js';
import { answerPatience, patienceRequest } from '../../src/pipeline/patience.js';
import { PatienceRelay } from '../../src/pipeline/patience-relay.js';
import { PatienceStore, type PatienceEntry, type PatienceOwner } from '../../src/pipeline/patience-store.js';

const SECRET = randomBytes(32).toString('base64url');
const HOST = 'files.example.com';
const decision = { action: 'scan' as const, rule: 'downloads', explain: 'path matches', service: 'av' };
const clean: Verdict = { action: 'pass', violations: [], source: 'icap' };
const owner = (path: string, clientIp = '127.0.0.1'): PatienceOwner => ({ clientIp, scheme: 'http', host: HOST, port: 80, path });

function spooled(bytes: Buffer, chunk = 64 * 1024): SpooledBody & { disposed: boolean } {
  const b = {
    sha256: '0'.repeat(64),
    sizeBytes: bytes.length,
    inMemory: true,
    disposed: false,
    replay: () => Readable.from((function* () { for (let at = 0; at < bytes.length; at += chunk) yield bytes.subarray(at, at + chunk); })()),
    dispose: async () => void (b.disposed = true),
  };
  return b;
}

interface Got {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function get(port: number, target: string, headers: Record<string, string> = {}): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: target, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.once('error', reject);
    });
    req.once('error', reject);
  });
}

describe('patience links across workers: the relay to the holder', () => {
  const holderStore = new PatienceStore({ maxHeldBytes: 64 * 1024 * 1024, ttlMs: 60_000, holder: 1 });
  const frontStore = new PatienceStore({ maxHeldBytes: 64 * 1024 * 1024, ttlMs: 60_000, holder: 2 });
  const holder = new PatienceRelay(holderStore, SECRET);
  const frontRelay = new PatienceRelay(frontStore, SECRET);
  /** the exchanges the front answered, as its access log would see them */
  const answered: Exchange[] = [];
  let holderPort = 0;
  let frontPort = 0;
  // worker 2's side: the exchange as the pipeline makes it, the fetch routed as delivery-commands does
  const front = http.createServer((req, res) => {
    const target = req.url ?? '/';
    const exchange: Exchange = {
      id: `front-${answered.length}`,
      startTime: new Date(),
      startedAt: performance.now(),
      client: { ip: (req.headers['x-test-client'] as string | undefined) ?? '127.0.0.1', port: 0 },
      method: 'GET',
      scheme: 'http',
      host: HOST,
      port: 80,
      path: target.split('?')[0]!,
      intercepted: false,
      requestBytes: 0,
      responseBytes: 0,
      decisions: [],
      verdicts: [],
    };
    answered.push(exchange);
    const fetch = { exchange, res, store: frontStore, request: patienceRequest(target) ?? ({ op: 'invalid' } as const), target, accept: req.headers.accept };
    void (frontRelay.heldElsewhere(fetch.request) ? frontRelay.forward(fetch) : answerPatience(fetch));
  });

  /** A file held by worker 1, settled (or not yet: `settle` false). */
  function hold(path: string, bytes: Buffer, settle = true): { entry: PatienceEntry; body: ReturnType<typeof spooled> } {
    const entry = holderStore.admit(owner(path), bytes.length, `holder-${path}`, decision)!;
    const body = spooled(bytes);
    if (settle) holderStore.settle(entry, { state: 'ready', file: { status: 200, reason: 'OK', headers: ['Content-Type', 'application/zip', 'X-Origin', 'yes'], body } }, clean);
    return { entry, body };
  }
  const link = (path: string, op: 'file' | 'status', entry: PatienceEntry) => `${path}?dlp-proxy-patience=${op}.${entry.link}`;

  beforeAll(async () => {
    holderPort = await holder.listen();
    await frontRelay.listen();
    const peers = { 1: holderPort, 2: 0 };
    holder.setPeers(peers);
    frontRelay.setPeers(peers);
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    frontPort = (front.address() as net.AddressInfo).port;
  });

  afterAll(async () => {
    front.closeAllConnections();
    await new Promise((resolve) => front.close(resolve));
    await holder.close();
    await frontRelay.close();
    await holderStore.close();
    await frontStore.close();
  });

  it('a link names its holder; the file comes from the holder through the front, once, byte for byte', async () => {
    const bytes = randomBytes(300 * 1024);
    const { entry, body } = hold('/a.zip', bytes);
    expect(entry.link).toBe(`${entry.token}.1`);
    const got = await get(frontPort, link('/a.zip', 'file', entry));
    expect(got.status).toBe(200);
    expect(got.body.equals(bytes)).toBe(true);
    expect(got.headers['content-type']).toBe('application/zip');
    expect(got.headers['content-length']).toBe(String(bytes.length));
    expect(got.headers['x-origin']).toBe('yes');
    // the relay's own headers stay between the workers
    expect(Object.keys(got.headers).filter((h) => h.startsWith('x-dlp-relay'))).toEqual([]);
    // the front's access line has the holder's decision and verdict, the status and the bytes
    const exchange = answered.at(-1)!;
    expect(exchange).toMatchObject({ status: 200, responseBytes: bytes.length, decisions: [decision], verdicts: [clean] });
    await expect.poll(() => body.disposed).toBe(true);
    expect((await get(frontPort, link('/a.zip', 'file', entry))).status).toBe(404);
  });

  it('a status poll is answered by the holder, with links that name it again', async () => {
    const { entry } = hold('/b.iso', randomBytes(1024), false);
    const got = await get(frontPort, link('/b.iso', 'status', entry), { accept: 'application/json' });
    expect(got.status).toBe(202);
    const status = JSON.parse(got.body.toString()) as { state: string; fileUrl: string };
    expect(status.state).toBe('scanning');
    expect(status.fileUrl).toBe(`http://${HOST}/b.iso?dlp-proxy-patience=file.${entry.token}.1`);
    // our own status document is not the file: no body bytes on the access line, as at the holder
    expect(answered.at(-1)).toMatchObject({ status: 202, responseBytes: 0, decisions: [decision] });
  });

  it('a file fetched while the holder still scans waits for the verdict, then arrives', async () => {
    const bytes = randomBytes(64 * 1024);
    const { entry, body } = hold('/c.bin', bytes, false);
    const pending = get(frontPort, link('/c.bin', 'file', entry));
    await new Promise((r) => setTimeout(r, 100));
    holderStore.settle(entry, { state: 'ready', file: { status: 200, reason: 'OK', headers: [], body } }, clean);
    const got = await pending;
    expect(got.status).toBe(200);
    expect(got.body.equals(bytes)).toBe(true);
  });

  it("another client's request gets 403 and another URL 404 from the holder; the file stays for its owner", async () => {
    const bytes = randomBytes(2048);
    const { entry } = hold('/d.zip', bytes);
    expect((await get(frontPort, link('/d.zip', 'file', entry), { 'x-test-client': '10.9.9.9' })).status).toBe(403);
    expect((await get(frontPort, `/other.zip?dlp-proxy-patience=file.${entry.link}`)).status).toBe(404);
    const got = await get(frontPort, link('/d.zip', 'file', entry));
    expect(got.status).toBe(200);
    expect(got.body.equals(bytes)).toBe(true);
  });

  it('a link to a worker nobody knows answers 404, without asking anyone', async () => {
    const { entry } = hold('/e.zip', randomBytes(10));
    const got = await get(frontPort, `/e.zip?dlp-proxy-patience=file.${entry.token}.9`);
    expect(got.status).toBe(404);
    expect(holderStore.lookup(entry.token, owner('/e.zip'))).toEqual({ found: entry });
  });

  it('the relay listener answers 403 to anyone without the secret, and gives nothing of the store', async () => {
    const bytes = randomBytes(4096);
    const { entry } = hold('/f.zip', bytes);
    const ask = Buffer.from(JSON.stringify({ op: 'file', token: entry.token, id: 'x', clientIp: '127.0.0.1', scheme: 'http', host: HOST, port: 80, path: '/f.zip', target: '/f.zip' })).toString('base64url');
    const attempts: Array<Record<string, string>> = [
      { 'x-dlp-relay-request': ask },
      { 'x-dlp-relay-request': ask, 'x-dlp-relay-secret': 'guess' },
      // one character off (the last one of 43 carries 4 bits, so it is changed, never replaced by a fixed one)
      { 'x-dlp-relay-request': ask, 'x-dlp-relay-secret': `${SECRET.slice(0, -1)}${SECRET.endsWith('A') ? 'E' : 'A'}` },
      { 'x-dlp-relay-request': 'not base64 json', 'x-dlp-relay-secret': SECRET },
      { 'x-dlp-relay-request': Buffer.from('{"op":"file","token":7}').toString('base64url'), 'x-dlp-relay-secret': SECRET },
    ];
    for (const headers of attempts) {
      const got = await get(holderPort, '/patience', headers);
      expect(got.status).toBe(403);
      expect(got.body.length).toBe(0);
    }
    expect((await get(holderPort, '/elsewhere', { 'x-dlp-relay-request': ask, 'x-dlp-relay-secret': SECRET })).status).toBe(403);
    // still there for its owner
    const got = await get(frontPort, link('/f.zip', 'file', entry));
    expect(got.body.equals(bytes)).toBe(true);
  });

  it('a client that vanishes mid-file ends the fetch at the holder too (one fetch, file freed); both sides serve on', async () => {
    const bytes = randomBytes(8 * 1024 * 1024);
    const { entry, body } = hold('/g.iso', bytes);
    await new Promise<void>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: frontPort, path: link('/g.iso', 'file', entry), agent: false }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.once('error', (err) => (req.destroyed ? resolve() : reject(err)));
    });
    await expect.poll(() => body.disposed).toBe(true);
    expect((await get(frontPort, link('/g.iso', 'file', entry))).status).toBe(404);
    const next = hold('/h.zip', randomBytes(1000));
    expect((await get(frontPort, link('/h.zip', 'file', next.entry))).status).toBe(200);
  });

  it("a holder that is gone took its files with it: its links answer 404", async () => {
    const { entry } = hold('/i.zip', randomBytes(100));
    await holder.close();
    const got = await get(frontPort, link('/i.zip', 'file', entry));
    expect(got.status).toBe(404);
    expect(answered.at(-1)!.status).toBe(404);
  });
});
