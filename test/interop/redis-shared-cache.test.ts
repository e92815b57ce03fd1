// Two proxy instances sharing one real redis-server as the verdict cache, with the built-in ICAP
// service in process (its transaction channel counts scans). A verdict learnt through one
// instance is a cache hit through the other; Redis killed and restarted under load: no client
// sees an error, the outage and the recovery are logged, and verdicts written after the restart
// are shared again.
import crypto from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { listenIcapServer, transactionChannel, type IcapServerHandle } from '../../src/icap-server/index.js';
import { storeStateChannel, type StoreStateEvent } from '../../src/verdict/index.js';
import { startOrigin, type Origin } from '../support/origin.js';
import { proxyRequest } from '../support/proxy-client.js';
import { startTestProxy, tempCaDir, type TestProxy } from '../support/proxy-harness.js';
import { startRedis, type RedisPeer } from '../support/peers/redis.js';

describe('shared verdict cache on Redis', () => {
  let redis: RedisPeer;
  let icap: IcapServerHandle;
  let origin: Origin;
  let a: TestProxy;
  let b: TestProxy;
  let scans = 0;
  const count = (m: unknown) => void ((m as { method: string }).method !== 'OPTIONS' && scans++);
  const states: StoreStateEvent[] = [];
  const unsubscribe = storeStateChannel.subscribe((e) => states.push(e));

  beforeAll(async () => {
    [redis, icap, origin] = await Promise.all([startRedis(), listenIcapServer({ config: parseConfig({}).icapServer, port: 0 }), startOrigin()]);
    transactionChannel.subscribe(count);
    const caDir = tempCaDir();
    const config = {
      services: { dlp: { urls: [`icap://127.0.0.1:${icap.port}/dlp`] } },
      policy: [{ name: 'uploads', match: { direction: 'upload' }, scan: 'dlp' }],
      cache: { store: 'redis', redisUrl: redis.url, keyPrefix: 'shared-test:', redis: { commandTimeoutMs: 300, maxReconnectDelayMs: 200 } },
    };
    a = await startTestProxy(config, { caDir });
    b = await startTestProxy(config, { caDir });
  });
  afterAll(async () => {
    transactionChannel.unsubscribe(count);
    unsubscribe();
    await a?.close();
    await b?.close();
    await Promise.all([redis?.stop(), icap?.close(), origin?.close()]);
  });

  const upload = (proxy: TestProxy, body: string) =>
    proxyRequest(proxy.port, `${origin.url}/upload`, { method: 'POST', body, headers: { 'content-type': 'text/plain' } });

  /** The verdicts in Redis. */
  const storedVerdicts = () => redis.cli('--scan', '--pattern', 'shared-test:v:*').split('\n').filter(Boolean).length;

  /** The same new body through a, then through b: how many ICAP scans b caused. */
  async function scansThroughSecond(): Promise<number> {
    const body = `report ${crypto.randomUUID()}\n`.repeat(50);
    const stored = storedVerdicts();
    expect((await upload(a, body)).status).toBe(200);
    // a's write to Redis runs behind its exchange
    await expect.poll(storedVerdicts, { timeout: 5000 }).toBeGreaterThan(stored);
    const before = scans;
    expect((await upload(b, body)).status).toBe(200);
    return scans - before;
  }

  const seen = (state: 'up' | 'down') => states.filter((e) => e.state === state).length;

  it('a verdict learnt through one instance is a hit through the other', async () => {
    expect(await scansThroughSecond()).toBe(0);
    // and a block too: the card upload is scanned once for both instances
    const card = `card=4111 1111 1111 1111 ${crypto.randomUUID()}`;
    const before = scans;
    const stored = storedVerdicts();
    expect((await upload(a, card)).status).toBe(403);
    await expect.poll(storedVerdicts, { timeout: 5000 }).toBeGreaterThan(stored);
    expect((await upload(b, card)).status).toBe(403);
    expect(scans - before).toBe(1);
  });

  it('keeps traffic passing while Redis is killed and restarted under load, then shares again', async () => {
    let stop = false;
    const statuses: number[] = [];
    const errors: string[] = [];
    const worker = async (proxy: TestProxy, id: number) => {
      for (let i = 0; i < 400 && !stop; i++) {
        try {
          // a few repeated bodies (cache hits) among new ones (scans)
          const body = i % 3 === 0 ? `repeat ${id % 2}\n` : `body ${id}-${i}-${crypto.randomUUID()}\n`;
          statuses.push((await upload(proxy, body)).status);
        } catch (err) {
          errors.push(String(err));
        }
      }
    };
    const load = Promise.all([a, b, a, b].map((p, i) => worker(p, i)));
    await sleep(300);
    await redis.kill();
    await expect.poll(() => seen('down'), { timeout: 10_000 }).toBe(2);
    await sleep(300); // traffic on the local tier alone
    await redis.restart();
    await expect.poll(() => seen('up'), { timeout: 10_000 }).toBe(4);
    await sleep(200);
    stop = true;
    await load;

    expect(errors).toEqual([]);
    expect(statuses.length).toBeGreaterThan(50);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    // each instance: up at start, down once, up again; and each said so in its log
    expect(states.map((e) => e.state)).toEqual(['up', 'up', 'down', 'down', 'up', 'up']);
    for (const p of [a, b]) expect(p.logs.some((l) => l.log === 'verdict' && l.state === 'down' && l.msg === 'shared verdict store down: local cache only')).toBe(true);
    expect(await scansThroughSecond()).toBe(0);
  });
});
