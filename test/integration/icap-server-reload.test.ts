// SIGHUP reload of the built-in service's data sets (issue 13): the EDM and fingerprint files are
// read again, the services swap in place, and the ISTag changes, in OPTIONS and in every answer,
// so the proxy's verdicts cached under the old tag retire (RFC 3507 §4.7). In the calling thread
// (the `icap-server` command) and in the worker thread startIcapServer() runs (`dlp-proxy start`).
// The signal belongs to the process owner, which wires it with reloadOnSighup().
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runIcapServer } from '../../src/cli/icap-server.js';
import { parseConfig } from '../../src/config/index.js';
import { listenIcapServer, reloadChannel, reloadOnSighup, startIcapServer, type IcapServerHandle } from '../../src/icap-server/index.js';
import { freePort } from '../support/peers/common.js';
import { tempDir } from '../support/temp-dir.js';
import { IcapTestClient, httpRequest } from '../unit/icap-server/icap-test-client.js';

let handle: IcapServerHandle | undefined;
let client: IcapTestClient | undefined;
let stopSignals: (() => void) | undefined;
let dir: string;
let csv: string;

beforeEach(() => {
  dir = tempDir('reload-');
  csv = path.join(dir, 'customers.csv');
  fs.writeFileSync(csv, 'name,email,account\nJane Roe,jane.roe@corp-mail.net,88231907\n');
});
afterEach(async () => {
  stopSignals?.();
  stopSignals = undefined;
  client?.close();
  client = undefined;
  await handle?.close();
  handle = undefined;
});

const config = () => parseConfig({ icapServer: { edm: [{ name: 'customers', file: csv }] } }).icapServer;
const BODY = Buffer.from('Please update John Doe, account 77120455, in the CRM.');

async function reqmod(): Promise<{ status: number; istag: string | undefined; violations: string | undefined }> {
  const port = (handle as IcapServerHandle).port;
  const a = await (client as IcapTestClient).transact({ method: 'REQMOD', uri: `icap://127.0.0.1:${port}/dlp`, reqHead: httpRequest(), headers: [['Allow', '204']] }, BODY);
  return { status: a.status, istag: a.headers.get('istag'), violations: a.headers.get('x-violations-found') };
}

const addJohn = () => fs.appendFileSync(csv, 'John Doe,john.doe@corp-mail.net,77120455\n');

describe.each([
  ['in the calling thread', listenIcapServer],
  ['in a worker thread', startIcapServer],
])('data set reload %s', (_where, start) => {
  it('reload() reads the files again: a new record blocks, the ISTag changes in OPTIONS and answers', async () => {
    handle = await start({ config: config(), port: 0 });
    client = await IcapTestClient.connect(handle.port);
    const first = await reqmod();
    expect(first).toMatchObject({ status: 204, istag: handle.istags.dlp });
    const before = { ...handle.istags };
    const told: Array<Record<string, string>> = [];
    handle.onIstagChange((istags) => told.push(istags));
    addJohn();
    const istags = await handle.reload();
    // the listeners heard of the change before reload() resolved, once
    expect(told).toEqual([istags]);
    expect(istags.dlp).not.toBe(before.dlp);
    expect(istags.av).toBe(before.av);
    expect(handle.istags.dlp).toBe(istags.dlp);
    const second = await reqmod();
    expect(second).toMatchObject({ status: 200, istag: istags.dlp, violations: '1 - edm:customers x1 0 2' });
    const options = await client.transact({ method: 'OPTIONS', uri: `icap://127.0.0.1:${handle.port}/dlp` });
    expect(options.headers.get('istag')).toBe(istags.dlp);
  });

  it('SIGHUP reloads; a file that cannot be read keeps the data sets in force and says why', async () => {
    handle = await start({ config: config(), port: 0 });
    const h = handle;
    stopSignals = reloadOnSighup(() => h.reload());
    client = await IcapTestClient.connect(handle.port);
    const before = handle.istags.dlp;
    const next = () => new Promise<{ istags?: Record<string, string>; error?: string }>((resolve) => reloadChannel.subscribe(function once(m) {
      reloadChannel.unsubscribe(once);
      resolve(m as { istags?: Record<string, string>; error?: string });
    }));
    fs.renameSync(csv, `${csv}.moved`);
    let published = next();
    process.kill(process.pid, 'SIGHUP');
    expect((await published).error).toMatch(/icapServer\.edm\[0\]\.file: cannot read/);
    expect(handle.istags.dlp).toBe(before);
    expect((await reqmod()).status).toBe(204);
    fs.renameSync(`${csv}.moved`, csv);
    addJohn();
    published = next();
    process.kill(process.pid, 'SIGHUP');
    expect((await published).istags?.dlp).not.toBe(before);
    expect(await reqmod()).toMatchObject({ status: 200, violations: '1 - edm:customers x1 0 2' });
  });
});

describe('signals and unchanged data sets', () => {
  it.each([
    ['in the calling thread', listenIcapServer],
    ['in a worker thread', startIcapServer],
  ])('%s the server adds no SIGHUP listener of its own (its owner does), and a reload that changes nothing keeps the ISTags and tells nobody', async (_where, start) => {
    const listeners = process.listenerCount('SIGHUP');
    handle = await start({ config: config(), port: 0 });
    expect(process.listenerCount('SIGHUP')).toBe(listeners);
    const before = { ...handle.istags };
    const told: unknown[] = [];
    handle.onIstagChange((istags) => told.push(istags));
    expect(await handle.reload()).toEqual(before);
    expect(told).toEqual([]);
  });
});

describe('dlp-proxy icap-server', () => {
  it('SIGHUP re-reads the EDM file and says so on stderr; the listener goes when the command ends', async () => {
    const listeners = process.listenerCount('SIGHUP');
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const stop = new AbortController();
    const port = await freePort();
    const running = runIcapServer(parseConfig({ icapServer: { port, edm: [{ name: 'customers', file: csv }] } }).icapServer, stop.signal);
    try {
      const said = (text: string) => stderr.mock.calls.some(([chunk]) => String(chunk).includes(text));
      await vi.waitFor(() => expect(said('listening on')).toBe(true), { timeout: 10_000 });
      expect(process.listenerCount('SIGHUP')).toBe(listeners + 1);
      client = await IcapTestClient.connect(port);
      handle = { port } as IcapServerHandle;
      expect((await reqmod()).status).toBe(204);
      addJohn();
      process.kill(process.pid, 'SIGHUP');
      await vi.waitFor(() => expect(said('reloaded: ISTags')).toBe(true), { timeout: 10_000 });
      expect(await reqmod()).toMatchObject({ status: 200, violations: '1 - edm:customers x1 0 2' });
    } finally {
      handle = undefined;
      stop.abort();
      await running;
      stderr.mockRestore();
    }
    expect(process.listenerCount('SIGHUP')).toBe(listeners);
  });
});
