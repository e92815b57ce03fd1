// The many-machines recipe of docs/scale-out.md, on one machine: two proxy instances behind
// haproxy (Debian, TCP mode, round-robin), sharing one redis-server and one CA directory, with the
// built-in ICAP service in process so its transactions can be counted. A verdict learnt through
// one instance is a cache hit through the other; HTTPS clients trusting the one CA certificate
// get through either instance; with one instance gone, haproxy sends everything to the other.
import crypto from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateAuthority } from '../../src/ca/index.js';
import { parseConfig } from '../../src/config/index.js';
import { listenIcapServer, transactionChannel, type IcapServerHandle } from '../../src/icap-server/index.js';
import { startOrigin, type Origin } from '../support/origin.js';
import { httpsViaProxy, proxyRequest } from '../support/proxy-client.js';
import { startTestProxy, tempCaDir, type TestProxy } from '../support/proxy-harness.js';
import { startHaproxy, type Haproxy } from '../support/peers/haproxy.js';
import { startRedis, type RedisPeer } from '../support/peers/redis.js';
import { tempDir } from '../support/temp-dir.js';

describe('two proxy instances behind haproxy sharing Redis and the CA', () => {
  let redis: RedisPeer;
  let icap: IcapServerHandle;
  let origin: Origin;
  let tlsOrigin: Origin;
  let originCa: string;
  let instances: TestProxy[];
  let lb: Haproxy;
  const scans: Array<{ method: string }> = [];
  const count = (m: unknown) => void ((m as { method: string }).method !== 'OPTIONS' && scans.push(m as { method: string }));
  let caPem: string;

  beforeAll(async () => {
    const originCaDir = tempDir('dlp-proxy-origin-ca-');
    const { ca: oca } = await CertificateAuthority.loadOrCreate({ dir: originCaDir, leafValidityDays: 30, certCacheSize: 4 });
    const leaf = oca.issueLeaf({ host: '127.0.0.1', kind: 'ipv4' });
    originCa = path.join(originCaDir, 'ca.pem');
    [redis, icap, origin, tlsOrigin] = await Promise.all([
      startRedis(),
      listenIcapServer({ config: parseConfig({}).icapServer, port: 0 }),
      startOrigin(),
      startOrigin({ tls: { cert: leaf.certPem, key: leaf.keyPem } }),
    ]);
    transactionChannel.subscribe(count);
    const caDir = tempCaDir(); // the shared CA directory (a network share or a copied secret on real machines)
    const config = {
      services: { dlp: { urls: [`icap://127.0.0.1:${icap.port}/dlp`] }, av: { urls: [`icap://127.0.0.1:${icap.port}/av`] } },
      policy: [
        { name: 'uploads', match: { direction: 'upload' }, scan: 'dlp' },
        { name: 'downloads', match: { direction: 'download' }, scan: 'av' },
      ],
      upstream: { extraCaFiles: [originCa] },
      cache: { store: 'redis', redisUrl: redis.url, keyPrefix: 'site-1:' },
    };
    instances = [await startTestProxy(config, { caDir }), await startTestProxy(config, { caDir })];
    caPem = instances[0]!.caPem;
    lb = await startHaproxy({ backends: instances.map((i) => i.port) });
  });
  afterAll(async () => {
    transactionChannel.unsubscribe(count);
    await lb?.stop();
    for (const i of instances ?? []) await i.close();
    await Promise.all([redis?.stop(), icap?.close(), origin?.close(), tlsOrigin?.close()]);
  });

  // Lifecycle events are process-wide (both instances' loggers see every exchange), so each
  // instance's own VerdictCache counters tell which one served an upload and how.
  /** The verdicts in Redis (each instance writes there behind its exchange, so poll this). */
  const storedVerdicts = () => redis.cli('--scan', '--pattern', 'site-1:v:*').split('\n').filter(Boolean).length;
  const cacheCounts = async () => Promise.all(instances.map(async (i) => ({ hits: (await i.app.cache.stats()).hits, misses: (await i.app.cache.stats()).misses })));

  it('a verdict learnt through one instance is a cache hit through the other', async () => {
    const id = crypto.randomUUID();
    const body = `quarterly numbers ${id}\n`.repeat(100);
    const scansBefore = scans.length;
    const before = await cacheCounts();
    const stored = storedVerdicts();
    const first = await proxyRequest(lb.port, `${origin.url}/upload/${id}-1`, { method: 'POST', body, headers: { 'content-type': 'text/plain' } });
    // the first instance's writes to Redis (the upload's verdict and the reply's) run behind its exchange
    await expect.poll(storedVerdicts, { timeout: 5000 }).toBe(stored + 2);
    const second = await proxyRequest(lb.port, `${origin.url}/upload/${id}-2`, { method: 'POST', body, headers: { 'content-type': 'text/plain' } });
    expect([first.status, second.status]).toEqual([200, 200]);
    const after = await cacheCounts();
    const delta = after.map((c, i) => ({ hits: c.hits - before[i]!.hits, misses: c.misses - before[i]!.misses }));
    // Each exchange looks up two verdicts: the upload (REQMOD) and the origin's reply (RESPMOD).
    // Round-robin: one instance missed both and scanned, the other found both (through Redis).
    expect(delta).toEqual(expect.arrayContaining([{ hits: 0, misses: 2 }, { hits: 2, misses: 0 }]));
    expect(scans.map((m) => m.method).slice(scansBefore).sort()).toEqual(['REQMOD', 'RESPMOD']);
    expect(storedVerdicts()).toBe(stored + 2);
  });

  it('HTTPS through either instance: one CA for clients, the download scanned once', async () => {
    const before = scans.length;
    const counts = await cacheCounts();
    const replies = [];
    const stored = storedVerdicts();
    for (let i = 0; i < 2; i++) {
      replies.push(await httpsViaProxy(lb.port, '127.0.0.1', tlsOrigin.port, '/bytes/200000', { ca: caPem }));
      // the download's verdict reaches Redis behind the first exchange
      if (i === 0) await expect.poll(storedVerdicts, { timeout: 5000 }).toBe(stored + 1);
    }
    for (const r of replies) {
      expect(r.status).toBe(200);
      expect(r.body.length).toBe(200_000);
      expect(r.peerCertificate.issuer.O).toBe('dlp-proxy');
    }
    expect(scans.length - before).toBe(1);
    const after = await cacheCounts();
    expect(after.map((c, i) => ({ hits: c.hits - counts[i]!.hits, misses: c.misses - counts[i]!.misses }))).toEqual(
      expect.arrayContaining([{ hits: 0, misses: 1 }, { hits: 1, misses: 0 }]),
    );
  });

  it('keeps serving through the other instance when one is gone', async () => {
    await instances[1]!.close();
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await proxyRequest(lb.port, `${origin.url}/after-failover/${i}`)).status);
    expect(statuses).toEqual(Array(10).fill(200));
  });
});
