// /readyz as the cluster primary answers it: the proxy port probed for real, each worker's
// services as it reported them; one not-ready or silent worker makes the instance not ready, and
// the body names it.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkClusterReadiness, type ServiceReadiness } from '../../../src/admin/index.js';

const ok: ServiceReadiness = { ready: true, failMode: 'closed', optionsAgeSeconds: 1 };
const down: ServiceReadiness = { ready: false, failMode: 'closed', reason: 'OPTIONS failed (ECONNREFUSED); the service fails closed, its traffic is refused' };
const answer = (services: Record<string, ServiceReadiness> | undefined) => Promise.resolve(services);

describe('checkClusterReadiness', () => {
  let server: net.Server;
  let port: number;
  beforeAll(async () => {
    server = net.createServer((s) => s.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('is ready when the port accepts and every worker reports its services ready, listing each worker', async () => {
    const r = await checkClusterReadiness({
      proxyHost: '127.0.0.1',
      proxyPort: port,
      timeoutMs: 1000,
      workers: [
        { worker: 1, pid: 101, services: answer({ dlp: ok, av: ok }) },
        { worker: 2, pid: 102, services: answer({ dlp: ok, av: ok }) },
      ],
    });
    expect(r.ready).toBe(true);
    expect(r.workers.map((w) => [w.worker, w.pid, w.ready])).toEqual([
      [1, 101, true],
      [2, 102, true],
    ]);
    expect(r.missing).toEqual([]);
    expect(Object.keys(r.services)).toEqual(['dlp', 'av']);
  });

  it('is not ready when one worker has a service down or does not answer, and says which', async () => {
    const r = await checkClusterReadiness({
      proxyHost: '127.0.0.1',
      proxyPort: port,
      timeoutMs: 1000,
      workers: [
        { worker: 1, pid: 101, services: answer({ dlp: ok }) },
        { worker: 2, pid: 102, services: answer({ dlp: down }) },
        { worker: 3, pid: 103, services: answer(undefined) },
      ],
    });
    expect(r.ready).toBe(false);
    expect(r.workers.find((w) => w.worker === 2)?.ready).toBe(false);
    expect(r.services.dlp).toEqual(down); // the summary shows the worker that is not ready
    expect(r.missing).toEqual([{ worker: 3, pid: 103 }]);
  });

  it('is not ready without workers, or when the proxy port refuses connections', async () => {
    const none = await checkClusterReadiness({ proxyHost: '127.0.0.1', proxyPort: port, timeoutMs: 1000, workers: [] });
    expect(none.ready).toBe(false);
    expect(none.proxy.reason).toBe('no worker is serving the proxy port');

    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const refused = await checkClusterReadiness({ proxyHost: '127.0.0.1', proxyPort: closedPort, timeoutMs: 1000, workers: [{ worker: 1, pid: 1, services: answer({ dlp: ok }) }] });
    expect(refused.ready).toBe(false);
    expect(refused.proxy.reason).toContain('ECONNREFUSED');
  });
});
