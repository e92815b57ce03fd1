// The context cache: single-flight (100 concurrent handshakes for one new host sign one
// certificate), bounded (never more than certCacheSize entries; the least recent is evicted and
// re-issued on demand), failures not cached, one diagnostics_channel message per issuance.
import crypto from 'node:crypto';
import diagnosticsChannel from 'node:diagnostics_channel';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { CA_ISSUE_CHANNEL, CertificateAuthority, type CaIssueEvent } from '../../../src/ca/index.js';
import { parseHost, type ParsedHost } from '../../../src/core/host.js';

let root: string;
let caDir: string;

function host(name: string): ParsedHost {
  return parseHost(name)!;
}

async function freshCa(certCacheSize: number): Promise<CertificateAuthority> {
  return (await CertificateAuthority.loadOrCreate({ dir: caDir, leafValidityDays: 397, certCacheSize })).ca;
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'dlp-proxy-ca-cache-'));
  caDir = path.join(root, 'ca');
  await freshCa(1); // creates the root CA once for every test below
});

afterEach(() => {
  vi.restoreAllMocks();
});

afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

describe('getSecureContext', () => {
  it('issues one certificate for 100 concurrent requests for a new host', async () => {
    const ca = await freshCa(10);
    const contexts = await Promise.all(Array.from({ length: 100 }, () => ca.getSecureContext(host('burst.example'))));
    expect(new Set(contexts).size).toBe(1);
    expect(contexts[0]?.context).toBeDefined(); // the native SSL_CTX handle
    expect(ca.stats()).toMatchObject({ issued: 1, misses: 100, hits: 0, size: 1 });

    expect(await ca.getSecureContext(host('burst.example'))).toBe(contexts[0]);
    expect(ca.stats()).toMatchObject({ issued: 1, hits: 1 });
  });

  it('never holds more than certCacheSize contexts and re-issues an evicted host', async () => {
    const ca = await freshCa(3);
    const names = Array.from({ length: 10 }, (_, i) => `host${i}.example`);
    for (const name of names) {
      await ca.getSecureContext(host(name));
      expect(ca.stats().size).toBeLessThanOrEqual(3);
    }
    expect(ca.stats()).toMatchObject({ issued: 10, size: 3 });

    await ca.getSecureContext(host('host9.example')); // most recent: still cached
    expect(ca.stats().issued).toBe(10);
    await ca.getSecureContext(host('host0.example')); // evicted long ago: issued again
    expect(ca.stats()).toMatchObject({ issued: 11, size: 3 });
  });

  it('keeps different hosts apart', async () => {
    const ca = await freshCa(10);
    const [a, b, c] = await Promise.all(['a.example', '192.0.2.1', '2001:db8::2'].map((n) => ca.getSecureContext(host(n))));
    expect(new Set([a, b, c]).size).toBe(3);
    expect(ca.stats()).toMatchObject({ issued: 3, size: 3 });
  });

  it('signs at most two certificates at a time during a burst of new hosts, and serves them all', async () => {
    const ca = await freshCa(50);
    const realSign = crypto.sign;
    let inFlight = 0;
    let maxInFlight = 0;
    vi.spyOn(crypto, 'sign').mockImplementation(((...args: Parameters<typeof crypto.sign>) => {
      const callback = args[3] as ((err: Error | null, sig: Buffer) => void) | undefined;
      if (!callback) return realSign(args[0], args[1], args[2]);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      realSign(args[0], args[1], args[2], (err, sig) => {
        inFlight--;
        callback(err, sig);
      });
      return undefined;
    }) as typeof crypto.sign);
    const contexts = await Promise.all(Array.from({ length: 20 }, (_, i) => ca.getSecureContext(host(`wave${i}.example`))));
    expect(new Set(contexts).size).toBe(20);
    expect(maxInFlight).toBe(2);
    expect(ca.stats()).toMatchObject({ issued: 20, size: 20 });
  });

  it('rejects every waiter when issuance fails, caches nothing, and succeeds on the next request', async () => {
    const ca = await freshCa(10);
    const spy = vi.spyOn(tls, 'createSecureContext').mockImplementationOnce(() => {
      throw new Error('simulated context failure');
    });
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => ca.getSecureContext(host('flaky.example'))));
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    expect(spy).toHaveBeenCalledTimes(1);
    expect(ca.stats().size).toBe(0);

    spy.mockRestore();
    expect((await ca.getSecureContext(host('flaky.example'))).context).toBeDefined();
    expect(ca.stats()).toMatchObject({ issued: 1, size: 1 });
  });
});

describe('stats and events', () => {
  it(`publishes { kind, durationMs } on ${CA_ISSUE_CHANNEL} once per issuance`, async () => {
    const ca = await freshCa(10);
    const events: CaIssueEvent[] = [];
    const onMessage = (message: unknown): void => {
      events.push(message as CaIssueEvent);
    };
    diagnosticsChannel.subscribe(CA_ISSUE_CHANNEL, onMessage);
    try {
      await Promise.all(['n.example', 'n.example', '198.51.100.9', '2001:db8::9'].map((n) => ca.getSecureContext(host(n))));
      ca.issueLeaf(host('sync.example'));
    } finally {
      diagnosticsChannel.unsubscribe(CA_ISSUE_CHANNEL, onMessage);
    }
    expect(events.map((e) => e.kind).sort()).toEqual(['dns', 'dns', 'ipv4', 'ipv6']);
    for (const event of events) expect(event.durationMs).toBeGreaterThan(0);

    const stats = ca.stats();
    expect(stats.issued).toBe(4);
    expect(stats.lastIssueMs).toBe(events[events.length - 1]!.durationMs);
    const average = events.reduce((sum, e) => sum + e.durationMs, 0) / events.length;
    expect(stats.avgIssueMs).toBeCloseTo(average, 6);
  });
});
