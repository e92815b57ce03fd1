// What only a service we control can show: an ISTag change forcing a rescan, ICAP down with
// fail-closed (503, origin untouched) and fail-open (passes, logged), monitor mode, oversize
// bodies, and a policy block that never reaches ICAP or the origin.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { listenIcapServer, type IcapServerHandle } from '../../src/icap-server/index.js';
import { CARD, transactionCounter } from '../support/enforcement-suite.js';
import { startOrigin, type Origin } from '../support/origin.js';
import { proxyRequest } from '../support/proxy-client.js';
import { startTestProxy, tempCaDir } from '../support/proxy-harness.js';

// no incident store (its thread costs each start a second on a loaded machine): nothing here reads it
const NO_STORE = { incidents: { enabled: false } };

const caDir = tempCaDir();

function icapConfig(words: string[], optionsTtlMs = 3_600_000) {
  return parseConfig({ icapServer: { port: 0, optionsTtlMs, detectors: { keywords: [{ name: 'classified-marker', words }] } } }).icapServer;
}

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

const uploads = (service = 'dlp', onViolation = 'block') => [{ name: 'uploads', match: { direction: 'upload' }, scan: service, onViolation }];
const post = (port: number, url: string, body: string) => proxyRequest(port, url, { method: 'POST', body, headers: { 'content-type': 'text/plain' } });

describe('enforcement when things change or break', () => {
  let origin: Origin;
  beforeAll(async () => {
    origin = await startOrigin();
  });
  afterAll(async () => origin.close());

  it('rescans a cached body once the service ISTag changes', async () => {
    let server: IcapServerHandle = await listenIcapServer({ config: icapConfig(['TOP-SECRET'], 1000), port: 0 });
    const port = server.port;
    const proxy = await startTestProxy({ services: { dlp: { urls: [`icap://127.0.0.1:${port}/dlp`] } }, policy: uploads(), ...NO_STORE }, { caDir });
    const counter = transactionCounter();
    try {
      const body = 'a memo mentioning PROJECT-X';
      expect((await post(proxy.port, `${origin.url}/up`, body)).status).toBe(200);
      expect((await post(proxy.port, `${origin.url}/up`, body)).status).toBe(200);
      expect(counter.count('REQMOD')).toBe(1); // the second was a cache hit
      // New rules, new ISTag (it hashes the detector configuration): PROJECT-X is now a violation.
      const before = server.istags.dlp;
      await server.close();
      server = await listenIcapServer({ config: icapConfig(['TOP-SECRET', 'PROJECT-X'], 1000), port });
      expect(server.istags.dlp).not.toBe(before);
      await new Promise((r) => setTimeout(r, 1200)); // past Options-TTL: the proxy refreshes OPTIONS
      const after = await post(proxy.port, `${origin.url}/up`, body);
      expect(after.status).toBe(403);
      expect(counter.count('REQMOD')).toBe(2);
    } finally {
      counter.stop();
      await proxy.close();
      await server.close();
    }
  });

  it('fails closed with 503 when the ICAP server is down, and the origin sees nothing', async () => {
    const proxy = await startTestProxy({ services: { dlp: { urls: [`icap://127.0.0.1:${await closedPort()}/dlp`], failMode: 'closed' } }, policy: uploads(), ...NO_STORE }, { caDir });
    try {
      const before = origin.seen.length;
      const reply = await post(proxy.port, `${origin.url}/up`, 'anything at all');
      expect(reply.status).toBe(503);
      expect(reply.headers['x-dlp-incident']).toBeDefined();
      expect(reply.body.toString()).not.toMatch(/ECONNREFUSED|Error:/);
      expect(origin.seen.length).toBe(before);
    } finally {
      await proxy.close();
    }
  });

  it('fails open when configured: the body passes unscanned and a warning is logged', async () => {
    const proxy = await startTestProxy({ services: { dlp: { urls: [`icap://127.0.0.1:${await closedPort()}/dlp`], failMode: 'closed', failModes: { connect: 'open' } } }, policy: uploads(), ...NO_STORE }, { caDir });
    try {
      const reply = await post(proxy.port, `${origin.url}/up`, `fail open ${CARD}`);
      expect(reply.status).toBe(200);
      expect(origin.seen.at(-1)!.bodyBytes).toBe(`fail open ${CARD}`.length);
      await expect.poll(() => proxy.logs.find((l) => l.log === 'violation' && l.source === 'fail-open')).toBeDefined();
    } finally {
      await proxy.close();
    }
  });

  it('monitor mode passes a violation and logs it', async () => {
    const server = await listenIcapServer({ config: icapConfig(['TOP-SECRET']), port: 0 });
    const proxy = await startTestProxy({ services: { dlp: { urls: [`icap://127.0.0.1:${server.port}/dlp`] } }, policy: uploads('dlp', 'monitor'), ...NO_STORE }, { caDir });
    try {
      const reply = await post(proxy.port, `${origin.url}/up`, `monitored ${CARD}`);
      expect(reply.status).toBe(200);
      await expect.poll(() => proxy.logs.find((l) => l.log === 'violation')).toBeDefined();
      const violation = proxy.logs.find((l) => l.log === 'violation')!;
      expect(violation).toMatchObject({ action: 'monitor', direction: 'upload', service: 'dlp' });
      expect((violation.violations as string[]).length).toBeGreaterThan(0);
    } finally {
      await proxy.close();
      await server.close();
    }
  });

  it('blocks bodies over maxScanBytes (declared or streamed) without contacting the origin', async () => {
    const server = await listenIcapServer({ config: icapConfig(['TOP-SECRET']), port: 0 });
    const proxy = await startTestProxy({ services: { dlp: { urls: [`icap://127.0.0.1:${server.port}/dlp`] } }, policy: uploads(), scan: { maxScanBytes: 1000 }, ...NO_STORE }, { caDir });
    try {
      const before = origin.seen.length;
      const declared = await post(proxy.port, `${origin.url}/up`, 'x'.repeat(5000));
      expect(declared.status).toBe(403);
      const chunked = await proxyRequest(proxy.port, `${origin.url}/up`, { method: 'POST', body: 'y'.repeat(5000), headers: { 'transfer-encoding': 'chunked' } });
      expect(chunked.status).toBe(403);
      expect(origin.seen.length).toBe(before);
    } finally {
      await proxy.close();
      await server.close();
    }
  });

  it('blocks by policy alone: no ICAP transaction, no origin connection', async () => {
    const counter = transactionCounter();
    const proxy = await startTestProxy({ policy: [{ name: 'no-pastebins', match: { hosts: ['127.0.0.1'], methods: ['POST'] }, action: 'block' }], ...NO_STORE }, { caDir });
    try {
      const before = origin.connections;
      const reply = await post(proxy.port, `${origin.url}/up`, 'hello');
      expect(reply.status).toBe(403);
      expect(reply.body.toString()).toContain('no-pastebins');
      expect(origin.connections).toBe(before);
      expect(counter.count('REQMOD')).toBe(0);
      await expect.poll(() => proxy.logs.find((l) => l.log === 'violation' && l.rule === 'no-pastebins')).toBeDefined();
    } finally {
      counter.stop();
      await proxy.close();
    }
  });
});
