// IcapService.refreshOptions(): the hook an in-process ICAP service calls when its ISTag changes
// (a data set reload): OPTIONS are fetched again at once, within their Options-TTL, so the service
// ISTag the verdict cache keys on is the new one before the next exchange (RFC 3507 §4.7). A
// server that fails the fetch does not stop the others.
import { afterEach, describe, expect, it } from 'vitest';
import { encodeOptionsResponse } from '../../src/icap/codec/index.js';
import { IcapService } from '../../src/icap/index.js';
import { startFakeIcapServer } from '../support/fake-icap-server.js';
import { freePort } from '../support/peers/common.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

const options = (istag: string) =>
  encodeOptionsResponse({ methods: ['REQMOD', 'RESPMOD'], istag, service: 'fake', preview: 1024, allow204: true, optionsTtlSeconds: 3600, maxConnections: 4, transferPreview: ['*'] }).toString('latin1');

function service(urls: string[]): IcapService {
  const icap = new IcapService({
    name: 'dlp',
    servers: urls.map((url) => ({ url, weight: 1 })),
    maxConnections: 4,
    connectTimeoutMs: 500,
    previewTimeoutMs: 1000,
    readIdleTimeoutMs: 1000,
    queueTimeoutMs: 1000,
    idleTimeoutMs: 5000,
  });
  cleanups.push(() => icap.close());
  return icap;
}

describe('IcapService.refreshOptions', () => {
  it('fetches OPTIONS again within their TTL and takes the new ISTag at once', async () => {
    let tag = '"v1"';
    const server = await startFakeIcapServer({ options: () => ({ send: options(tag) }) });
    cleanups.push(() => server.close());
    const icap = service([server.url('dlp')]);
    const changes: string[] = [];
    icap.onIstagChange((istag) => changes.push(istag));
    await icap.options();
    tag = '"v2"';
    // cached for an hour: without a refresh the old tag stays
    await icap.options();
    expect(icap.istag).toBe('"v1"');
    await icap.refreshOptions();
    expect(icap.istag).toBe('"v2"');
    expect(changes).toEqual(['"v1"', '"v2"']);
    expect(server.requests.filter((r) => r.head.method === 'OPTIONS')).toHaveLength(2);
  });

  it('a server that cannot answer does not stop the others, nor fail the refresh', async () => {
    let tag = '"a1"';
    const server = await startFakeIcapServer({ options: () => ({ send: options(tag) }) });
    cleanups.push(() => server.close());
    const gone = `icap://127.0.0.1:${await freePort()}/dlp`;
    const icap = service([server.url('dlp'), gone]);
    await icap.options();
    tag = '"a2"';
    await expect(icap.refreshOptions()).resolves.toBeUndefined();
    expect(icap.istag).toBe('"a2"');
  });
});
