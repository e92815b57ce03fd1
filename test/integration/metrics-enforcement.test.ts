// After a run of enforcement traffic through the whole app (built-in ICAP service, real clients,
// an origin), /metrics on the admin listener shows the cache, ICAP, verdict and exchange series
// moving by exactly what the traffic did.
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IcapServerHandle } from '../../src/icap-server/index.js';
import { startOrigin, type Origin } from '../support/origin.js';
import { proxyRequest } from '../support/proxy-client.js';
import { startBuiltinIcap, startTestProxy, type TestProxy } from '../support/proxy-harness.js';
import { total } from '../support/prometheus-text.js';

describe('metrics after enforcement traffic', () => {
  let icap: IcapServerHandle;
  let origin: Origin;
  let proxy: TestProxy;
  let scrape: () => Promise<string>;

  beforeAll(async () => {
    icap = await startBuiltinIcap();
    origin = await startOrigin();
    proxy = await startTestProxy({
      admin: { enabled: true, port: 0 },
      services: { dlp: { urls: [`icap://127.0.0.1:${icap.port}/dlp`] }, av: { urls: [`icap://127.0.0.1:${icap.port}/av`] } },
      policy: [
        { name: 'uploads', match: { direction: 'upload' }, scan: 'dlp' },
        { name: 'downloads', match: { direction: 'download', paths: ['^/(bytes|eicar)'] }, scan: 'av' },
      ],
    });
    scrape = async () => {
      const res = await fetch(`http://127.0.0.1:${proxy.app.adminPort}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      return res.text();
    };
  });
  afterAll(async () => {
    await proxy?.close();
    await origin?.close();
    await icap?.close();
  });

  it('counts cache hits, ICAP transactions by method and status, verdicts and exchanges', async () => {
    const before = await scrape();
    const post = (body: string) => proxyRequest(proxy.port, `${origin.url}/upload`, { method: 'POST', body, headers: { 'content-type': 'text/plain' } });
    const clean = `clean report ${crypto.randomUUID()} ${'n'.repeat(4000)}`;
    expect((await post(clean)).status).toBe(200);
    expect((await post(clean)).status).toBe(200); // the same body again: from the cache
    const card = `payment for order 77: 4111 1111 1111 1111 ${crypto.randomUUID()}`;
    expect((await post(card)).status).toBe(403);
    expect((await proxyRequest(proxy.port, `${origin.url}/bytes/20000`)).status).toBe(200);
    expect((await proxyRequest(proxy.port, `${origin.url}/eicar.com`)).status).toBe(403);
    // an exchange is over (counted, out of flight) as it closes, which may be after its client
    // read the last byte: scrape until all five are
    let after = '';
    const delta = (name: string, labels: Record<string, string> = {}) => total(after, name, labels) - total(before, name, labels);
    await expect
      .poll(async () => {
        after = await scrape();
        return [delta('dlp_proxy_exchange_duration_seconds_count'), total(after, 'dlp_proxy_exchanges_in_flight')];
      })
      .toEqual([5, 0]);

    // verdict cache: one hit (the repeated upload), four misses (two uploads, two downloads)
    expect(delta('dlp_proxy_verdict_cache_hits_total')).toBe(1);
    expect(delta('dlp_proxy_verdict_cache_misses_total')).toBe(4);
    expect(total(after, 'dlp_proxy_verdict_cache_entries')).toBe(4);
    expect(total(after, 'dlp_proxy_verdict_cache_bytes')).toBeGreaterThan(0);

    // ICAP: REQMOD 204 (clean) and 200 (card), RESPMOD 204 (clean download) and 200 (EICAR)
    const dlp = { service: 'dlp', server: `127.0.0.1:${icap.port}`, method: 'REQMOD' };
    expect(delta('dlp_proxy_icap_transactions_total', { ...dlp, status: '204' })).toBe(1);
    expect(delta('dlp_proxy_icap_transactions_total', { ...dlp, status: '200' })).toBe(1);
    expect(delta('dlp_proxy_icap_transactions_total', { service: 'av', method: 'RESPMOD', status: '204' })).toBe(1);
    expect(delta('dlp_proxy_icap_transactions_total', { service: 'av', method: 'RESPMOD', status: '200' })).toBe(1);
    expect(delta('dlp_proxy_icap_transaction_duration_seconds_count', dlp)).toBe(2);
    // both uploads were held whole and under skipPreviewUpToBytes: sent without preview
    expect(delta('dlp_proxy_icap_previews_total', dlp)).toBe(0);
    expect(delta('dlp_proxy_icap_transaction_errors_total')).toBe(0);

    // verdicts by source and action; blocks counted
    expect(delta('dlp_proxy_verdicts_total', { direction: 'upload', source: 'icap', action: 'pass' })).toBe(1);
    expect(delta('dlp_proxy_verdicts_total', { direction: 'upload', source: 'cache', action: 'pass' })).toBe(1);
    expect(delta('dlp_proxy_verdicts_total', { direction: 'upload', source: 'icap', action: 'block' })).toBe(1);
    expect(delta('dlp_proxy_verdicts_total', { direction: 'download', source: 'icap', action: 'block' })).toBe(1);
    expect(delta('dlp_proxy_verdicts_total', { action: 'block' })).toBe(2);
    expect(delta('dlp_proxy_scanned_bytes_total', { direction: 'upload' })).toBe(Buffer.byteLength(clean) + Buffer.byteLength(card));

    // exchanges: three uploads scanned, all five over and none left in flight
    expect(delta('dlp_proxy_exchanges_total', { direction: 'upload', decision: 'scan' })).toBe(3);
    expect(delta('dlp_proxy_exchange_duration_seconds_count')).toBe(5);
    expect(delta('dlp_proxy_exchange_duration_seconds_count', { status_class: '4xx' })).toBe(2);
    expect(total(after, 'dlp_proxy_exchanges_in_flight')).toBe(0);

    // pools and OPTIONS: connections kept alive, a fresh OPTIONS per service
    expect(total(after, 'dlp_proxy_icap_pool_connected', { service: 'dlp' })).toBeGreaterThanOrEqual(1);
    expect(total(after, 'dlp_proxy_icap_pool_busy')).toBe(0);
    expect(total(after, 'dlp_proxy_icap_service_up', { service: 'dlp' })).toBe(1);
    expect(total(after, 'dlp_proxy_icap_options_age_seconds', { service: 'dlp' })).toBeLessThan(60);
    // Node's default metrics carry the prefix too
    expect(total(after, 'dlp_proxy_process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('never puts a host, a path or a user into a label', async () => {
    const text = await (await fetch(`http://127.0.0.1:${proxy.app.adminPort}/metrics`)).text();
    const labelValues = [...text.matchAll(/="([^"]*)"/g)].map((m) => m[1]);
    expect(labelValues.length).toBeGreaterThan(10);
    expect(labelValues).not.toContain('/upload');
    expect(labelValues.filter((v) => v === `127.0.0.1:${origin.port}` || v === '127.0.0.1')).toEqual([]);
  });
});
