// The av service's ISTag follows clamd's signature version (icapServer.av.clamd, RFC 3507 §4.7: a
// new tag retires the proxy's cached verdicts): against a scripted clamd whose VERSION answer the
// test changes (poll interval, a clamd down at start or later, reload() asking at once), and
// against the real clamd taking a signature update (a new daily database and RELOAD, as freshclam
// does), with the server in a worker thread as `dlp-proxy start` runs it.
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { listenIcapServer, startIcapServer, type IcapServerHandle } from '../../src/icap-server/index.js';
import { startClamd, type Clamd } from '../support/peers/clamd.js';
import { publishSignatures } from '../support/peers/clamd-signatures.js';
import { IcapTestClient } from '../unit/icap-server/icap-test-client.js';

/** A clamd that answers zVERSION with `version`, or closes every connection while `version` is undefined. */
async function scriptedClamd(): Promise<{ port: number; version: string | undefined; asked: number; close(): Promise<void> }> {
  const state = { version: 'ClamAV 1.0.7/27480/Mon Dec  1 09:00:00 2026' as string | undefined, asked: 0 };
  const server = net.createServer((conn) => {
    let text = '';
    conn.on('error', () => undefined);
    conn.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (!text.includes('\0')) return;
      if (text.startsWith('zVERSION')) state.asked++;
      if (state.version === undefined) conn.destroy();
      else conn.end(`${state.version}\0`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(state, {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

let handle: IcapServerHandle | undefined;
let client: IcapTestClient | undefined;
afterEach(async () => {
  client?.close();
  client = undefined;
  await handle?.close();
  handle = undefined;
});

const config = (clamd: Record<string, unknown>) => parseConfig({ icapServer: { av: { clamd } } }).icapServer;

async function optionsIstag(service: 'av' | 'dlp'): Promise<string | undefined> {
  const h = handle as IcapServerHandle;
  client ??= await IcapTestClient.connect(h.port);
  return (await client.transact({ method: 'OPTIONS', uri: `icap://127.0.0.1:${h.port}/${service}` })).headers.get('istag');
}

async function until(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

describe('av ISTag and a scripted clamd', () => {
  it('changes with the signature version within versionPollMs, in OPTIONS too; the dlp tag stays', async () => {
    const clamd = await scriptedClamd();
    try {
      handle = await listenIcapServer({ config: config({ port: clamd.port, versionPollMs: 100 }), port: 0 });
      const plain = await listenIcapServer({ config: parseConfig({}).icapServer, port: 0 });
      const without = { ...plain.istags };
      await plain.close();
      const first = { ...handle.istags };
      // clamd's version is part of the av tag from the start, and of nothing else
      expect(first.av).not.toBe(without.av);
      expect(first.dlp).toBe(without.dlp);
      expect(first.av).toMatch(/^"[A-Za-z0-9-]{1,30}"$/);
      expect(await optionsIstag('av')).toBe(first.av);
      const told: Array<Record<string, string>> = [];
      handle.onIstagChange((istags) => told.push(istags));

      // the engine's date and build line may change without a new database: only the number counts
      clamd.version = 'ClamAV 1.0.7/27480/Tue Dec  2 09:00:00 2026';
      const asked = clamd.asked;
      await until(() => clamd.asked >= asked + 3, 5_000);
      expect(handle.istags.av).toBe(first.av);
      expect(told).toEqual([]);

      clamd.version = 'ClamAV 1.0.7/27481/Tue Dec  2 10:00:00 2026';
      expect(await until(() => handle!.istags.av !== first.av, 5_000)).toBe(true);
      expect(told).toEqual([{ av: handle.istags.av, dlp: first.dlp }]);
      expect(await optionsIstag('av')).toBe(handle.istags.av);
      expect(await optionsIstag('dlp')).toBe(first.dlp);
    } finally {
      await clamd.close();
    }
  });

  it('asks only every versionPollMs, and at once on reload()', async () => {
    const clamd = await scriptedClamd();
    try {
      handle = await listenIcapServer({ config: config({ port: clamd.port, versionPollMs: 60_000 }), port: 0 });
      const first = handle.istags.av;
      clamd.version = 'ClamAV 1.0.7/27482/Tue Dec  2 11:00:00 2026';
      await sleep(700);
      expect(handle.istags.av).toBe(first);
      expect(clamd.asked).toBe(1);
      const istags = await handle.reload();
      expect(istags.av).not.toBe(first);
      expect(handle.istags.av).toBe(istags.av);
    } finally {
      await clamd.close();
    }
  });

  it('starts when clamd is down, takes its version when it comes, and keeps it while clamd is away', async () => {
    const clamd = await scriptedClamd();
    try {
      const version = clamd.version;
      clamd.version = undefined;
      const started = Date.now();
      handle = await listenIcapServer({ config: config({ port: clamd.port, versionPollMs: 100 }), port: 0 });
      expect(Date.now() - started).toBeLessThan(3_000);
      const down = handle.istags.av;
      expect(await optionsIstag('av')).toBe(down);
      clamd.version = version;
      expect(await until(() => handle!.istags.av !== down, 5_000)).toBe(true);
      const up = handle.istags.av;
      // clamd restarting is no signature update: the tag stays until clamd names another version
      clamd.version = undefined;
      const asked = clamd.asked;
      await until(() => clamd.asked >= asked + 3, 5_000);
      expect(handle.istags.av).toBe(up);
    } finally {
      await clamd.close();
    }
  });
});

describe('av ISTag and the real clamd', () => {
  let clamd: Clamd;
  beforeAll(async () => {
    clamd = await startClamd();
  }, 60_000);
  afterAll(async () => {
    await clamd?.stop();
  });

  it('a signature update (new daily database, RELOAD) changes the av ISTag of the server in its worker thread', { timeout: 60_000 }, async () => {
    await publishSignatures(clamd, 27480);
    handle = await startIcapServer({ config: config({ socket: clamd.socket, versionPollMs: 200 }), port: 0 });
    const first = { ...handle.istags };
    const told: Array<Record<string, string>> = [];
    handle.onIstagChange((istags) => told.push(istags));
    await publishSignatures(clamd, 27481);
    expect(await until(() => handle!.istags.av !== first.av, 10_000)).toBe(true);
    expect(told).toEqual([{ av: handle.istags.av, dlp: first.dlp }]);
    expect(await optionsIstag('av')).toBe(handle.istags.av);
    expect(handle.istags.dlp).toBe(first.dlp);
  });
});
