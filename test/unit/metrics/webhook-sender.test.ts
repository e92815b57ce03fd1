// WebhookSender on its own: FIFO delivery, a bounded queue whose overflow is dropped and counted,
// close() that cuts a hanging attempt and counts what was still queued, and the backoff bounds.
import dc from 'node:diagnostics_channel';
import http from 'node:http';
import type net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ALERT_CHANNEL, backoffMs, WebhookSender, type AlertMessage } from '../../../src/alerts/index.js';

const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function receiver(hang: boolean): Promise<{ url: string; bodies: unknown[] }> {
  const bodies: unknown[] = [];
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      if (hang) return;
      bodies.push(JSON.parse(text));
      res.writeHead(200).end();
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/`, bodies };
}

const target = (url: string, more: Partial<ConstructorParameters<typeof WebhookSender>[0]> = {}) => ({ name: 't', url, headers: {}, timeoutMs: 2000, queueSize: 100, retries: 0, retryBackoffMs: 10, ...more });

describe('WebhookSender', () => {
  it('delivers in order, one at a time', async () => {
    const hook = await receiver(false);
    const sender = new WebhookSender(target(hook.url));
    for (let i = 0; i < 20; i++) expect(sender.enqueue({ i })).toBe(true);
    await expect.poll(() => hook.bodies.length, { timeout: 5000 }).toBe(20);
    expect(hook.bodies).toEqual(Array.from({ length: 20 }, (_, i) => ({ i })));
    // the 20th counts as sent when its answer is back, which may be after the receiver saw it
    await expect.poll(() => sender.stats().sent).toBe(20);
    expect(sender.stats()).toMatchObject({ queued: 0, sent: 20, dropped: 0 });
    sender.close();
  });

  it('drops what overflows the queue, and on close what was still queued, publishing each drop', async () => {
    const hook = await receiver(true);
    const seen: AlertMessage[] = [];
    const onMessage = (m: unknown) => seen.push(m as AlertMessage);
    dc.subscribe(ALERT_CHANNEL, onMessage);
    try {
      const sender = new WebhookSender(target(hook.url, { queueSize: 3, timeoutMs: 60_000 }));
      const accepted = Array.from({ length: 10 }, (_, i) => sender.enqueue({ i })).filter(Boolean).length;
      expect(accepted).toBe(3);
      expect(sender.stats()).toMatchObject({ queued: 3, dropped: 7 });
      const started = performance.now();
      sender.close();
      // the attempt in flight would hang for timeoutMs (a minute): a loose bound for a loaded CI machine
      expect(performance.now() - started).toBeLessThan(1000);
      expect(sender.stats()).toMatchObject({ queued: 0, dropped: 10, sent: 0 });
      expect(sender.enqueue({ late: true })).toBe(false);
      expect(seen.filter((m) => m.outcome === 'dropped' && m.webhook === 't')).toHaveLength(11);
    } finally {
      dc.unsubscribe(ALERT_CHANNEL, onMessage);
    }
  });

  it('gives up after its retries when every attempt times out', async () => {
    const hook = await receiver(true);
    const sender = new WebhookSender(target(hook.url, { timeoutMs: 50, retries: 2, retryBackoffMs: 5 }));
    sender.enqueue({ x: 1 });
    await expect.poll(() => sender.stats().failed, { timeout: 3000 }).toBe(1);
    expect(sender.stats()).toMatchObject({ queued: 0, sent: 0 });
    sender.close();
  });
});

describe('backoffMs', () => {
  it('doubles per attempt within [c/2, c] and never passes a minute', () => {
    expect(backoffMs(1000, 0, () => 0)).toBe(500);
    expect(backoffMs(1000, 0, () => 1)).toBe(1000);
    expect(backoffMs(1000, 3, () => 0)).toBe(4000);
    expect(backoffMs(1000, 3, () => 1)).toBe(8000);
    expect(backoffMs(1000, 30, () => 1)).toBe(60_000);
  });
});
