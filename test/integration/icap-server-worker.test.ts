import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { startIcapServer, type IcapServerHandle } from '../../src/icap-server/index.js';
import { IcapTestClient, httpRequest } from '../unit/icap-server/icap-test-client.js';

let handle: IcapServerHandle | undefined;
afterEach(async () => {
  await handle?.close();
  handle = undefined;
});

describe('startIcapServer (worker thread)', () => {
  it('serves OPTIONS and REQMOD from a worker and stops on close()', async () => {
    handle = await startIcapServer({ config: parseConfig({}).icapServer, port: 0 });
    const c = await IcapTestClient.connect(handle.port);
    const options = await c.transact({ method: 'OPTIONS', uri: `icap://127.0.0.1:${handle.port}/dlp` });
    expect(options.headers.get('istag')).toBe(handle.istags.dlp);
    const blocked = await c.transact({ method: 'REQMOD', uri: `icap://127.0.0.1:${handle.port}/dlp`, reqHead: httpRequest(), headers: [['Allow', '204']] }, Buffer.from('iban GB82 WEST 1234 5698 7654 32'));
    expect(blocked.headers.get('x-violations-found')).toBe('1 - iban x1 0 2');
    c.close();
    const port = handle.port;
    await handle.close();
    handle = undefined;
    await expect(IcapTestClient.connect(port)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('scans in another thread: the caller stays idle while a large body is scanned', async () => {
    handle = await startIcapServer({ config: parseConfig({}).icapServer, port: 0 });
    const c = await IcapTestClient.connect(handle.port);
    // ~8 MiB of text full of digit groups: far more scanning work than sending.
    const body = Buffer.from('lorem ipsum 1234 5678 dolor sit amet, 4111 1111 1111 1112 '.repeat(140_000));
    const before = performance.eventLoopUtilization();
    const a = await c.transact({ method: 'REQMOD', uri: `icap://127.0.0.1:${handle.port}/dlp`, reqHead: httpRequest(), headers: [['Allow', '204']] }, body);
    const busy = performance.eventLoopUtilization(before);
    c.close();
    expect(a.status).toBe(204);
    // In the same thread the scan keeps this loop busy (measured: utilisation above 0.9 in-process).
    expect(busy.utilization).toBeLessThan(0.5);
  });

  it('reports a port that cannot be bound', async () => {
    const first = await startIcapServer({ config: parseConfig({}).icapServer, port: 0 });
    handle = first;
    await expect(startIcapServer({ config: parseConfig({}).icapServer, port: first.port })).rejects.toThrow(/cannot listen/);
  });
});
