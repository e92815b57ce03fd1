// The metrics module fed by hand: lifecycle events and channel messages move the right series
// with the right labels; stats read at scrape time appear per service and server; the channel
// names it listens to are the ones the publishing modules use.
import dc from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import { ALERT_CHANNEL, EMAIL_ALERT_CHANNEL } from '../../../src/alerts/index.js';
import { spoolChannel } from '../../../src/body/index.js';
import { CA_ISSUE_CHANNEL } from '../../../src/ca/index.js';
import { ProxyError } from '../../../src/core/errors.js';
import type { Exchange } from '../../../src/core/exchange.js';
import { events } from '../../../src/core/events.js';
import { ICAP_ISTAG_CHANNEL, ICAP_TRANSACTION_CHANNEL } from '../../../src/icap/index.js';
import { createMetrics, METRIC_CHANNELS, type Metrics } from '../../../src/metrics/index.js';
import { storeStateChannel } from '../../../src/verdict/index.js';

let metrics: Metrics | undefined;
afterEach(() => metrics?.close());

/** The value of one series; `name` may carry a histogram suffix (_bucket, _count, _sum). */
async function value(m: Metrics, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const base = name.replace(/_(bucket|count|sum)$/, '');
  const metric = await m.registry.getSingleMetric(base)?.get();
  const found = metric?.values.find((v) => ((v as { metricName?: string }).metricName ?? base) === name && Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want));
  return found?.value;
}

const exchange = (status?: number): Exchange =>
  ({ id: 'x', startTime: new Date(), startedAt: 0, client: { ip: '10.1.2.3', port: 1, user: 'alice' }, method: 'POST', scheme: 'https', host: 'secret-host.example', port: 443, path: '/p', intercepted: true, requestBytes: 0, responseBytes: 0, decisions: [], verdicts: [], ...(status ? { status } : {}) }) as Exchange;

describe('event metrics', () => {
  it('listens on the channels the ICAP client, CA, spool and alerts publish on', () => {
    expect(METRIC_CHANNELS).toEqual({ icapTransaction: ICAP_TRANSACTION_CHANNEL, icapIstag: ICAP_ISTAG_CHANNEL, caIssue: CA_ISSUE_CHANNEL, spool: spoolChannel.name, alert: ALERT_CHANNEL, emailAlert: EMAIL_ALERT_CHANNEL, verdictStoreState: storeStateChannel.name });
  });

  it('counts decisions, verdicts (monitor apart), scanned bytes, errors, exchanges in flight and tunnels', async () => {
    const m = (metrics = createMetrics());
    const ex = exchange(403);
    events.exchangeStart.publish({ exchange: ex });
    expect(await value(m, 'dlp_proxy_exchanges_in_flight')).toBe(1);
    events.decision.publish({ exchange: ex, direction: 'upload', decision: { action: 'scan', rule: 'r', explain: '', service: 'dlp' } });
    const verdict = (action: 'pass' | 'block', source: 'icap' | 'cache', monitored = false) =>
      events.verdict.publish({ exchange: ex, direction: 'upload', service: 'dlp', verdict: { action, source, violations: [] }, istag: undefined, sha256: undefined, sizeBytes: 1000, monitored, rule: 'r' });
    verdict('block', 'icap');
    verdict('block', 'icap', true);
    verdict('pass', 'cache');
    events.error.publish({ exchange: ex, error: new ProxyError('ICAP_READ_TIMEOUT', 't') });
    events.exchangeEnd.publish({ exchange: ex, durationMs: 12 });
    events.connect.publish({ client: ex.client, host: 'h', port: 443, outcome: 'intercept' });
    events.tunnelEnd.publish({ host: 'h', mode: 'tunnel', bytesUp: 10, bytesDown: 20, durationMs: 5 });

    expect(await value(m, 'dlp_proxy_exchanges_total', { direction: 'upload', decision: 'scan' })).toBe(1);
    expect(await value(m, 'dlp_proxy_verdicts_total', { source: 'icap', action: 'block' })).toBe(1);
    expect(await value(m, 'dlp_proxy_verdicts_total', { source: 'icap', action: 'monitor' })).toBe(1);
    expect(await value(m, 'dlp_proxy_verdicts_total', { source: 'cache', action: 'pass' })).toBe(1);
    expect(await value(m, 'dlp_proxy_scanned_bytes_total', { direction: 'upload' })).toBe(2000); // cache answers are not scans
    expect(await value(m, 'dlp_proxy_errors_total', { code: 'ICAP_READ_TIMEOUT', hop: 'icap' })).toBe(1);
    expect(await value(m, 'dlp_proxy_exchanges_in_flight')).toBe(0);
    expect(await value(m, 'dlp_proxy_exchange_duration_seconds_bucket', { status_class: '4xx', le: '0.025' })).toBe(1);
    expect(await value(m, 'dlp_proxy_connects_total', { outcome: 'intercept' })).toBe(1);
    expect(await value(m, 'dlp_proxy_tunnel_bytes_total', { mode: 'tunnel', direction: 'down' })).toBe(20);
    const text = await m.text();
    expect(text).not.toMatch(/secret-host|alice|10\.1\.2\.3/);
  });

  it('counts ICAP transactions by status, previews, errors, ISTag changes (not the first tag), issuance, spills and alerts', async () => {
    const m = (metrics = createMetrics());
    const tx = { service: 'dlp', server: 'icap1:1344', method: 'REQMOD', durationMs: 30, previewUsed: true };
    dc.channel(ICAP_TRANSACTION_CHANNEL).publish({ ...tx, status: 204, outcome: 'unmodified' });
    dc.channel(ICAP_TRANSACTION_CHANNEL).publish({ ...tx, status: 200, outcome: 'modified', previewUsed: false });
    dc.channel(ICAP_TRANSACTION_CHANNEL).publish({ ...tx, status: 0, outcome: 'error', errorCode: 'ICAP_CONNECT_FAILED' });
    dc.channel(ICAP_ISTAG_CHANNEL).publish({ service: 'dlp', server: 'icap1:1344', istag: '"a"', previous: undefined });
    dc.channel(ICAP_ISTAG_CHANNEL).publish({ service: 'dlp', server: 'icap1:1344', istag: '"b"', previous: '"a"' });
    dc.channel(CA_ISSUE_CHANNEL).publish({ kind: 'dns', durationMs: 6 });
    spoolChannel.publish({ type: 'spill', sizeBytes: 2_000_000 });
    dc.channel(ALERT_CHANNEL).publish({ webhook: 'soc', outcome: 'dropped', status: 0 });

    const where = { service: 'dlp', server: 'icap1:1344', method: 'REQMOD' };
    expect(await value(m, 'dlp_proxy_icap_transactions_total', { ...where, status: '204' })).toBe(1);
    expect(await value(m, 'dlp_proxy_icap_transactions_total', { ...where, status: '200' })).toBe(1);
    expect(await value(m, 'dlp_proxy_icap_transactions_total', { ...where, status: 'none' })).toBe(1);
    expect(await value(m, 'dlp_proxy_icap_previews_total', where)).toBe(2);
    expect(await value(m, 'dlp_proxy_icap_transaction_errors_total', { code: 'ICAP_CONNECT_FAILED' })).toBe(1);
    expect(await value(m, 'dlp_proxy_icap_transaction_duration_seconds_bucket', { ...where, le: '0.05' })).toBe(3);
    expect(await value(m, 'dlp_proxy_icap_istag_changes_total', { service: 'dlp' })).toBe(1);
    expect(await value(m, 'dlp_proxy_ca_issue_duration_seconds_bucket', { kind: 'dns', le: '0.01' })).toBe(1);
    expect(await value(m, 'dlp_proxy_spool_spills_total')).toBe(1);
    expect(await value(m, 'dlp_proxy_alerts_total', { webhook: 'soc', outcome: 'dropped' })).toBe(1);
  });

  it('stops counting after close()', async () => {
    const m = createMetrics();
    m.close();
    events.connect.publish({ client: { ip: '1.1.1.1', port: 1 }, host: 'h', port: 443, outcome: 'tunnel' });
    expect(await value(m, 'dlp_proxy_connects_total', { outcome: 'tunnel' })).toBeUndefined();
  });
});

describe('state metrics', () => {
  it('reads cache, pool, OPTIONS, CA, spool, socket and alert stats at scrape time', async () => {
    let hits = 5;
    const fetchedAt = Date.now() - 30_000;
    const m = (metrics = createMetrics({
      cache: { stats: async () => ({ hits, misses: 2, joins: 7, inflight: 1, storeErrors: 0, entries: 3, bytes: 900, evictions: 4 }) },
      services: new Map([
        ['dlp', { icap: { stats: () => [{ server: 'a:1344', connected: 3, idle: 1, busy: 2, queued: 0 }, { server: 'b:1344', connected: 1, idle: 1, busy: 0, queued: 5 }], options: async () => ({ fetchedAt }) } }],
        ['av', { icap: { stats: () => [{ server: 'c:1344', connected: 0, idle: 0, busy: 0, queued: 0 }], options: () => Promise.reject(new Error('down')) } }],
      ]),
      ca: { stats: () => ({ hits: 11, misses: 3, issued: 3, size: 3 }) },
      spool: () => ({ spools: 2, memoryBytes: 4096, diskBytes: 1_048_576, files: 1 }),
      front: { stats: () => ({ openSockets: 6, clientConnections: 4 }) },
      alerts: { stats: () => [{ name: 'soc', queued: 9 }] },
    }));
    expect(await value(m, 'dlp_proxy_verdict_cache_hits_total')).toBe(5);
    hits = 8;
    await new Promise((r) => setImmediate(r)); // the next scrape
    expect(await value(m, 'dlp_proxy_verdict_cache_hits_total')).toBe(8);
    expect(await value(m, 'dlp_proxy_verdict_cache_joins_total')).toBe(7);
    expect(await value(m, 'dlp_proxy_verdict_cache_bytes')).toBe(900);
    expect(await value(m, 'dlp_proxy_verdict_cache_evictions_total')).toBe(4);
    expect(await value(m, 'dlp_proxy_icap_pool_busy', { service: 'dlp', server: 'a:1344' })).toBe(2);
    expect(await value(m, 'dlp_proxy_icap_pool_queued', { service: 'dlp', server: 'b:1344' })).toBe(5);
    expect(await value(m, 'dlp_proxy_icap_options_age_seconds', { service: 'dlp' })).toBeCloseTo(30, 0);
    expect(await value(m, 'dlp_proxy_icap_service_up', { service: 'dlp' })).toBe(1);
    expect(await value(m, 'dlp_proxy_icap_service_up', { service: 'av' })).toBe(0);
    expect(await value(m, 'dlp_proxy_ca_cert_cache_hits_total')).toBe(11);
    expect(await value(m, 'dlp_proxy_spool_disk_bytes')).toBe(1_048_576);
    expect(await value(m, 'dlp_proxy_connect_sockets_open')).toBe(6);
    expect(await value(m, 'dlp_proxy_client_connections')).toBe(4);
    expect(await value(m, 'dlp_proxy_alert_queue_length', { webhook: 'soc' })).toBe(9);
  });

  it('asks the cache once per scrape whatever the number of cache metrics', async () => {
    let calls = 0;
    const m = (metrics = createMetrics({ cache: { stats: async () => (calls++, { hits: 0, misses: 0, joins: 0, inflight: 0, storeErrors: 0, entries: 0, bytes: 0, evictions: 0 }) } }));
    await m.text();
    expect(calls).toBe(1);
    await new Promise((r) => setImmediate(r));
    await m.text();
    expect(calls).toBe(2);
  });
});
