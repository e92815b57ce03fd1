// Two real c-icap servers behind one DLP service, one of them killed in the middle of a load of
// uploads through the proxy: every upload still gets its right answer (clean → 200 at the origin,
// TOP-SECRET → 403), because a transaction cut before its answer goes to the other server with the
// bytes it had sent, and the stopped server is suspended (a server-state message says so).
import diagnostics from 'node:diagnostics_channel';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ICAP_SERVER_STATE_CHANNEL, ICAP_TRANSACTION_CHANNEL, type IcapServerStateMessage, type IcapTransactionMessage } from '../../src/icap/index.js';
import { startCicap, type Cicap } from '../support/peers/cicap.js';
import { startOrigin, type Origin } from '../support/origin.js';
import { proxyRequest } from '../support/proxy-client.js';
import { startTestProxy, type TestProxy } from '../support/proxy-harness.js';

// Counted, not timed, so that a slow machine changes how long this takes, not what it proves: the
// kill lands once KILL_AFTER uploads were answered and the first server has served some, and the
// load goes on until AFTER_KILL clean uploads were answered after it. DEADLINE_MS only bounds a
// proxy that stopped answering (the counts are then short and the test says so).
const CONCURRENCY = 8;
const KILL_AFTER = CONCURRENCY * 10;
const AFTER_KILL = CONCURRENCY * 10;
const DEADLINE_MS = 20_000;
const MAX_PER_WORKER = 2_000;

describe('failover between two c-icap servers under load', () => {
  let origin: Origin;
  let a: Cicap;
  let b: Cicap;
  let proxy: TestProxy;
  let aStopped = false;

  beforeAll(async () => {
    [origin, a, b] = await Promise.all([startOrigin(), startCicap({ services: ['dlp'] }), startCicap({ services: ['dlp'] })]);
    proxy = await startTestProxy({
      services: { dlp: { urls: [a.url('dlp'), b.url('dlp')], vendor: 'c-icap', failMode: 'closed' } },
      policy: [{ name: 'uploads', match: { direction: 'upload' }, scan: 'dlp' }],
    });
  });

  afterAll(async () => {
    await proxy?.close();
    await Promise.all([b?.stop(), aStopped ? undefined : a?.stop(), origin?.close()]);
  });

  it('keeps every upload answered correctly while one server dies', async () => {
    const states: IcapServerStateMessage[] = [];
    const onState = (m: unknown) => states.push(m as IcapServerStateMessage);
    diagnostics.subscribe(ICAP_SERVER_STATE_CHANNEL, onState);
    const transactions: IcapTransactionMessage[] = [];
    const onTransaction = (m: unknown) => transactions.push(m as IcapTransactionMessage);
    diagnostics.subscribe(ICAP_TRANSACTION_CHANNEL, onTransaction);
    const wrong: string[] = [];
    let done = 0;
    let afterKill = 0;
    const started = Date.now();
    const on = (port: number, outcome: 'error' | 'ok') =>
      transactions.filter((t) => t.server === `127.0.0.1:${port}` && (outcome === 'error') === (t.outcome === 'error')).length;
    let killer: Promise<void> | undefined;
    const kill = async () => {
      // SIGKILL to c-icap's process group (it runs in the foreground as the group leader): its
      // children die with it, mid-transaction, as in a crash.
      const pid = Number(fs.readFileSync(path.join(a.dir, 'c-icap.pid'), 'utf8').trim());
      process.kill(-pid, 'SIGKILL');
      aStopped = true;
      await a.stop();
    };
    const going = () => !(aStopped && afterKill >= AFTER_KILL) && Date.now() - started < DEADLINE_MS;
    try {
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async (_, w) => {
          for (let i = 0; i < MAX_PER_WORKER && going(); i++) {
            const secret = i % 7 === 3;
            const body = secret ? `memo ${w}-${i}: TOP-SECRET plans` : `an ordinary memo ${w}-${i}`;
            const expected = secret ? 403 : 200;
            try {
              const reply = await proxyRequest(proxy.port, `${origin.url}/up/${w}/${i}`, { method: 'POST', body, headers: { 'content-type': 'text/plain' } });
              if (reply.status !== expected) wrong.push(`${w}-${i}: ${reply.status} (expected ${expected}) ${reply.body.toString().slice(0, 200)}`);
            } catch (err) {
              wrong.push(`${w}-${i}: ${String(err)}`);
            }
            done++;
            if (aStopped && !secret) afterKill++;
            // In flight on every worker when it lands: the kill cuts transactions mid-way.
            if (!killer && done >= KILL_AFTER && on(a.port, 'ok') > 0) killer = kill();
          }
        }),
      );
      await killer;
    } finally {
      diagnostics.unsubscribe(ICAP_SERVER_STATE_CHANNEL, onState);
      diagnostics.unsubscribe(ICAP_TRANSACTION_CHANNEL, onTransaction);
    }
    expect(wrong).toEqual([]);
    expect(aStopped).toBe(true);
    expect(done).toBeGreaterThanOrEqual(KILL_AFTER + AFTER_KILL);
    expect(afterKill).toBeGreaterThanOrEqual(AFTER_KILL);
    // Both served before the kill; transactions failed on the killed one and were taken by the other.
    expect(on(a.port, 'ok')).toBeGreaterThan(0);
    expect(on(a.port, 'error')).toBeGreaterThan(0);
    expect(on(b.port, 'ok')).toBeGreaterThanOrEqual(done - on(a.port, 'ok'));
    expect(states).toContainEqual(expect.objectContaining({ service: 'dlp', server: `127.0.0.1:${a.port}`, state: 'suspended' }));
    // Operators see it without a dashboard: a log line, and the state on /readyz and /metrics.
    expect(proxy.logs).toContainEqual(expect.objectContaining({ log: 'icap', service: 'dlp', server: `127.0.0.1:${a.port}`, msg: expect.stringMatching(/suspended/) }));
    expect(proxy.app.services.get('dlp')!.icap.serverStates().find((s) => s.server === `127.0.0.1:${a.port}`)?.state).toBe('suspended');
  });
});
