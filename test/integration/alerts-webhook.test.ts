// Violation alerts through the whole app: a block and a monitored violation reach a webhook as
// JSON with the violation log line's fields (never content); a failing webhook is retried; a
// webhook that never answers does not slow traffic, its overflow is dropped and counted, and the
// app still closes at once.
import crypto from 'node:crypto';
import http from 'node:http';
import type net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { IcapServerHandle } from '../../src/icap-server/index.js';
import { startOrigin, type Origin } from '../support/origin.js';
import { proxyRequest } from '../support/proxy-client.js';
import { startBuiltinIcap, startTestProxy, tempCaDir, type TestProxy } from '../support/proxy-harness.js';
import { metricTotal } from '../support/prometheus-text.js';

interface Hook {
  url: string;
  received: Array<{ headers: http.IncomingHttpHeaders; body: Record<string, unknown> }>;
  connections: number;
  close(): Promise<void>;
}

/** A webhook receiver; `answer` picks the status per request (undefined = never answer). */
async function startHook(answer: (n: number) => number | undefined): Promise<Hook> {
  const received: Hook['received'] = [];
  const sockets = new Set<net.Socket>();
  let n = 0;
  const hook = { received, connections: 0 } as Hook;
  const server = http.createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (text += c));
    req.on('end', () => {
      const status = answer(n++);
      if (status === undefined) return;
      if (status < 300) received.push({ headers: req.headers, body: JSON.parse(text) as Record<string, unknown> });
      res.writeHead(status).end();
    });
  });
  server.on('connection', (s: net.Socket) => {
    hook.connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  hook.url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/hooks/dlp?token=secret`;
  hook.close = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return hook;
}

const caDir = tempCaDir();
let icap: IcapServerHandle;
let origin: Origin;
const cleanup: Array<() => Promise<void>> = [];

async function start(webhooks: unknown[]): Promise<TestProxy> {
  const proxy = await startTestProxy(
    {
      admin: { enabled: true, port: 0 },
      services: { dlp: { urls: [`icap://127.0.0.1:${icap.port}/dlp`] } },
      policy: [
        { name: 'watch-only', match: { direction: 'upload', paths: ['^/monitored'] }, scan: 'dlp', onViolation: 'monitor' },
        { name: 'uploads', match: { direction: 'upload' }, scan: 'dlp' },
      ],
      alerts: { webhooks },
      // no incident store (its thread costs each start a second on a loaded machine): nothing here reads it
      incidents: { enabled: false },
    },
    { caDir },
  );
  cleanup.push(() => proxy.close());
  return proxy;
}

const upload = (proxy: TestProxy, path: string, body: string) => proxyRequest(proxy.port, `${origin.url}${path}`, { method: 'POST', body, headers: { 'content-type': 'text/plain' } });

beforeAll(async () => {
  icap = await startBuiltinIcap();
  origin = await startOrigin();
});
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});
afterAll(async () => {
  await origin?.close();
  await icap?.close();
});

describe('violation alerts', () => {
  it('POSTs each block and monitored violation with the violation log fields, never the content', async () => {
    const hook = await startHook(() => 204);
    cleanup.push(() => hook.close());
    const proxy = await start([{ name: 'soc', url: hook.url, headers: { authorization: 'Bearer t0ken' } }]);
    const card = `invoice 4111 1111 1111 1111 ${crypto.randomUUID()}`;
    const blocked = await upload(proxy, '/upload', card);
    expect(blocked.status).toBe(403);
    const monitored = await upload(proxy, '/monitored/notes', `${card} again`);
    expect(monitored.status).toBe(200);
    expect(await upload(proxy, '/upload', 'nothing to see here')).toMatchObject({ status: 200 });
    await expect.poll(() => hook.received.length, { timeout: 5000 }).toBe(2);

    const [block, monitor] = hook.received.map((r) => r.body);
    expect(hook.received[0]!.headers['authorization']).toBe('Bearer t0ken');
    expect(hook.received[0]!.headers['content-type']).toBe('application/json');
    expect(block).toMatchObject({ incident: blocked.headers['x-dlp-incident'], action: 'block', direction: 'upload', service: 'dlp', rule: 'uploads', path: '/upload', source: 'icap' });
    expect(block!['violations']).toEqual(expect.arrayContaining([expect.stringMatching(/card/i)]));
    expect(monitor).toMatchObject({ action: 'monitor', rule: 'watch-only', path: '/monitored/notes' });
    // the card's digits in any spacing (a hash, a time or an id holds some four digits now and then)
    expect(JSON.stringify(hook.received)).not.toMatch(/4111[ -]?1111/);

    // the same fields as the violation log line (pino's own keys aside), plus the time
    const line = proxy.logs.find((l) => l['log'] === 'violation' && l['incident'] === block!['incident'])!;
    const pinoKeys = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'log']);
    expect(Object.keys(block!).filter((k) => k !== 'time').sort()).toEqual(Object.keys(line).filter((k) => !pinoKeys.has(k)).sort());
    expect(new Date(block!['time'] as string).getTime()).toBeGreaterThan(Date.now() - 60_000);
    // counted sent when the hook's answer is back, which may be after the hook recorded the request
    await expect.poll(() => metricTotal(proxy.app.adminPort!, 'dlp_proxy_alerts_total', { webhook: 'soc', outcome: 'sent' })).toBe(2);
  });

  it('retries a failing webhook with backoff until it takes the alert; a 4xx is not retried', async () => {
    const hook = await startHook((n) => (n < 2 ? 503 : 200));
    const refusing = await startHook(() => 400);
    cleanup.push(() => hook.close(), () => refusing.close());
    const proxy = await start([
      { name: 'flaky', url: hook.url, retries: 3, retryBackoffMs: 20 },
      { name: 'refusing', url: refusing.url, retries: 3, retryBackoffMs: 20 },
    ]);
    expect((await upload(proxy, '/upload', `4111 1111 1111 1111 ${crypto.randomUUID()}`)).status).toBe(403);
    await expect.poll(() => hook.received.length, { timeout: 5000 }).toBe(1);
    await expect.poll(() => metricTotal(proxy.app.adminPort!, 'dlp_proxy_alerts_total', { webhook: 'refusing', outcome: 'failed' }), { timeout: 5000 }).toBe(1);
    // the flaky hook recorded its third request before its 200 was back at the sender
    await expect.poll(() => metricTotal(proxy.app.adminPort!, 'dlp_proxy_alerts_total', { webhook: 'flaky', outcome: 'sent' })).toBe(1);
    expect(await metricTotal(proxy.app.adminPort!, 'dlp_proxy_alerts_total', { webhook: 'flaky', outcome: 'retried' })).toBe(2);
    expect(await metricTotal(proxy.app.adminPort!, 'dlp_proxy_alerts_total', { webhook: 'refusing', outcome: 'retried' })).toBe(0);
  });

  it('a webhook that never answers does not slow traffic; what overflows its queue is dropped and counted', async () => {
    const dead = await startHook(() => undefined);
    cleanup.push(() => dead.close());
    const baseline = await start([]);
    const TIMEOUT_MS = 5000;
    const proxy = await start([{ name: 'dead', url: dead.url, timeoutMs: TIMEOUT_MS, queueSize: 2, retries: 2, retryBackoffMs: 50 }]);

    // the two proxies in turn, so that a loaded machine slows both alike
    const before: number[] = [];
    const withDeadHook: number[] = [];
    for (let i = 0; i < 12; i++) {
      for (const [p, times] of [[baseline, before], [proxy, withDeadHook]] as const) {
        const started = performance.now();
        const reply = await upload(p, '/upload', `card 4111 1111 1111 1111 #${i} ${crypto.randomUUID()}`);
        times.push(performance.now() - started);
        expect(reply.status).toBe(403);
      }
    }
    for (const times of [before, withDeadHook]) times.sort((a, b) => a - b);
    // A sender that waited for the webhook would take ≥ TIMEOUT_MS per blocked upload (bounds
    // loose for a loaded CI machine, far below that).
    expect(withDeadHook.at(-1)!).toBeLessThan(TIMEOUT_MS / 5);
    expect(withDeadHook[6]!).toBeLessThan(before[6]! * 2 + 50);

    expect(await metricTotal(proxy.app.adminPort!, 'dlp_proxy_alerts_total', { webhook: 'dead', outcome: 'dropped' })).toBeGreaterThanOrEqual(9);
    expect(await metricTotal(proxy.app.adminPort!, 'dlp_proxy_alert_queue_length', { webhook: 'dead' })).toBeLessThanOrEqual(2);
    expect(dead.connections).toBeLessThanOrEqual(2);
    const closing = performance.now();
    await proxy.close();
    // the attempt in flight started during the uploads: waiting for it would take most of TIMEOUT_MS
    expect(performance.now() - closing).toBeLessThan(TIMEOUT_MS / 2.5);
  });
});
