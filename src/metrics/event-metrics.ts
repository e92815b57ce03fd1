// Counters and histograms fed by the lifecycle events (core/events.ts) and the ICAP, CA, spool and
// alert channels. Every label value comes from a fixed set: directions, actions, sources, error
// codes, configured service, server and webhook names, ICAP status codes. Never a host, a path or
// a user. Subscribers only increment: no I/O, no allocation beyond a new label combination's handle.
import dc from 'node:diagnostics_channel';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { events } from '../core/events.js';
import { CounterSeries, HistogramSeries, SeriesTable } from './series.js';

/** Channel names owned by other modules (kept as strings: metrics/ imports only core/). */
export const CHANNELS = {
  icapTransaction: 'dlp-proxy:icap:transaction',
  icapIstag: 'dlp-proxy:icap:istag',
  caIssue: 'dlp-proxy:ca:issue',
  spool: 'dlp-proxy:spool',
  alert: 'dlp-proxy:alert',
  emailAlert: 'dlp-proxy:alert:email',
  verdictStoreState: 'dlp-proxy:verdict:store-state',
} as const;

/** A shared verdict store's reachability, as verdict/ publishes it on every change. */
export interface StoreState {
  store: string;
  state: 'up' | 'down';
}

interface IcapTransaction {
  service: string;
  server: string;
  method: string;
  status: number;
  durationMs: number;
  previewUsed: boolean;
  outcome: string;
  errorCode?: string;
}

// ICAP answers in milliseconds to seconds; a DLP server scanning a large upload may take longer.
const ICAP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const EXCHANGE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const ISSUE_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

function statusClass(status: number | undefined): string {
  return status === undefined || status < 100 || status > 599 ? 'none' : `${Math.floor(status / 100)}xx`;
}

function icapStatus(status: number): string {
  return Number.isInteger(status) && status >= 100 && status <= 999 ? String(status) : 'none';
}

/**
 * Register the event-fed metrics on `registry`; returns the unsubscribe function. `storeState` is
 * the shared verdict store's state before this subscription existed (the store connects, and
 * says so, before the app builds its metrics).
 */
export function subscribeEventMetrics(registry: Registry, storeState?: StoreState): () => void {
  const registers = [registry];
  const exchanges = new Counter({ name: 'dlp_proxy_exchanges_total', help: 'Policy decisions per exchange side, by direction (upload = request body, download = response body) and decision', labelNames: ['direction', 'decision'], registers });
  const inFlight = new Gauge({ name: 'dlp_proxy_exchanges_in_flight', help: 'Exchanges begun and not yet over', registers });
  const exchangeDuration = new Histogram({ name: 'dlp_proxy_exchange_duration_seconds', help: 'Exchange duration from request head to end, by response status class', labelNames: ['status_class'], buckets: EXCHANGE_BUCKETS, registers });
  const verdicts = new Counter({ name: 'dlp_proxy_verdicts_total', help: 'Body verdicts by direction, source (cache, icap, fail-open, fail-closed, policy) and action (pass, replace, block, monitor)', labelNames: ['direction', 'source', 'action'], registers });
  const scanned = new Counter({ name: 'dlp_proxy_scanned_bytes_total', help: 'Body bytes judged by an ICAP transaction (not from the cache), by direction', labelNames: ['direction'], registers });
  const errors = new Counter({ name: 'dlp_proxy_errors_total', help: 'Failed hops by stable error code and hop', labelNames: ['code', 'hop'], registers });
  const connects = new Counter({ name: 'dlp_proxy_connects_total', help: 'CONNECT requests by outcome (tunnel, intercept, refused)', labelNames: ['outcome'], registers });
  const tunnelsClosed = new Counter({ name: 'dlp_proxy_tunnels_closed_total', help: 'Tunnels and intercepted TLS connections closed, by mode', labelNames: ['mode'], registers });
  const tunnelBytes = new Counter({ name: 'dlp_proxy_tunnel_bytes_total', help: 'Bytes relayed by closed tunnels and intercepted connections, by mode and direction (up = client to origin)', labelNames: ['mode', 'direction'], registers });
  const icapTransactions = new Counter({ name: 'dlp_proxy_icap_transactions_total', help: 'ICAP REQMOD/RESPMOD transactions by service, server, method and ICAP status (204 unmodified, 200 modified, none = no answer)', labelNames: ['service', 'server', 'method', 'status'], registers });
  const icapDuration = new Histogram({ name: 'dlp_proxy_icap_transaction_duration_seconds', help: 'ICAP transaction duration by service, server and method', labelNames: ['service', 'server', 'method'], buckets: ICAP_BUCKETS, registers });
  const icapPreviews = new Counter({ name: 'dlp_proxy_icap_previews_total', help: 'ICAP transactions that sent a Preview (RFC 3507 §4.5)', labelNames: ['service', 'server', 'method'], registers });
  const icapErrors = new Counter({ name: 'dlp_proxy_icap_transaction_errors_total', help: 'Failed ICAP transactions by service, server and error code (failovers included)', labelNames: ['service', 'server', 'code'], registers });
  const istagChanges = new Counter({ name: 'dlp_proxy_icap_istag_changes_total', help: 'ISTag changes per service (RFC 3507 §4.7): cached verdicts of the old tag no longer apply', labelNames: ['service'], registers });
  const caIssue = new Histogram({ name: 'dlp_proxy_ca_issue_duration_seconds', help: 'Leaf certificate issuance time, by host kind (dns, ipv4, ipv6)', labelNames: ['kind'], buckets: ISSUE_BUCKETS, registers });
  const spills = new Counter({ name: 'dlp_proxy_spool_spills_total', help: 'Bodies that outgrew the memory threshold and moved to a temp file', registers });
  // min across workers: 0 as soon as one process has lost the shared store
  const storeUp = new Gauge({ name: 'dlp_proxy_verdict_store_up', help: 'Shared verdict store reachable (1) or not (0: that process runs on its local cache alone), by store', labelNames: ['store'], aggregator: 'min', registers });
  const setStoreState = (s: StoreState) => storeUp.set({ store: s.store }, s.state === 'up' ? 1 : 0);
  if (storeState) setStoreState(storeState);
  const alerts = new Counter({ name: 'dlp_proxy_alerts_total', help: 'Violation alerts per webhook by outcome (sent, retried, failed = gave up after retries, dropped = queue full or shutdown)', labelNames: ['webhook', 'outcome'], registers });

  // the updates every exchange or transaction makes go through series handles (series.ts)
  const exchangeSeries = new SeriesTable(2, ([direction, decision]) => new CounterSeries(exchanges, { direction, decision }));
  const verdictSeries = new SeriesTable(3, ([direction, source, action]) => new CounterSeries(verdicts, { direction, source, action }));
  const scannedSeries = new SeriesTable(1, ([direction]) => new CounterSeries(scanned, { direction }));
  const durationSeries = new SeriesTable(1, ([status_class]) => new HistogramSeries(exchangeDuration, { status_class }));
  const icapSeries = new SeriesTable(4, ([service, server, method, status]) => new CounterSeries(icapTransactions, { service, server, method, status }));
  const icapDurationSeries = new SeriesTable(3, ([service, server, method]) => new HistogramSeries(icapDuration, { service, server, method }));
  const icapPreviewSeries = new SeriesTable(3, ([service, server, method]) => new CounterSeries(icapPreviews, { service, server, method }));

  const unsubscribe: Array<() => void> = [
    events.exchangeStart.subscribe(() => inFlight.inc()),
    events.decision.subscribe(({ direction, decision }) => exchangeSeries.get(direction, decision.action).inc()),
    events.verdict.subscribe(({ direction, verdict, monitored, sizeBytes }) => {
      verdictSeries.get(direction, verdict.source, monitored ? 'monitor' : verdict.action).inc();
      if (verdict.source === 'icap' && sizeBytes > 0) scannedSeries.get(direction).inc(sizeBytes);
    }),
    events.exchangeEnd.subscribe(({ exchange, durationMs }) => {
      inFlight.dec();
      durationSeries.get(statusClass(exchange.status)).observe(durationMs / 1000);
    }),
    events.error.subscribe(({ error }) => errors.inc({ code: error.code, hop: error.hop })),
    events.connect.subscribe(({ outcome }) => connects.inc({ outcome })),
    events.tunnelEnd.subscribe(({ mode, bytesUp, bytesDown }) => {
      tunnelsClosed.inc({ mode });
      if (bytesUp > 0) tunnelBytes.inc({ mode, direction: 'up' }, bytesUp);
      if (bytesDown > 0) tunnelBytes.inc({ mode, direction: 'down' }, bytesDown);
    }),
    channel(CHANNELS.icapTransaction, (m: IcapTransaction) => {
      icapSeries.get(m.service, m.server, m.method, icapStatus(m.status)).inc();
      icapDurationSeries.get(m.service, m.server, m.method).observe(m.durationMs / 1000);
      if (m.previewUsed) icapPreviewSeries.get(m.service, m.server, m.method).inc();
      if (m.errorCode) icapErrors.inc({ service: m.service, server: m.server, code: m.errorCode });
    }),
    channel(CHANNELS.icapIstag, (m: { service: string; previous: string | undefined }) => {
      if (m.previous !== undefined) istagChanges.inc({ service: m.service });
    }),
    channel(CHANNELS.caIssue, (m: { kind: string; durationMs: number }) => caIssue.observe({ kind: m.kind }, m.durationMs / 1000)),
    channel(CHANNELS.spool, (m: { type: string }) => {
      if (m.type === 'spill') spills.inc();
    }),
    channel(CHANNELS.alert, (m: { webhook: string; outcome: string }) => alerts.inc({ webhook: m.webhook, outcome: m.outcome })),
    subscribeEmailMetrics(registry),
    channel(CHANNELS.verdictStoreState, setStoreState),
  ];
  return () => unsubscribe.forEach((fn) => fn());
}

/**
 * The e-mail alert counters (alerts/email-sender.ts publishes): on an app's registry, and on the
 * cluster primary's, where the mail goes out in cluster mode.
 */
export function subscribeEmailMetrics(registry: Registry): () => void {
  const registers = [registry];
  const mails = new Counter({ name: 'dlp_proxy_email_alerts_total', help: 'Alert mails per e-mail rule by outcome (sent; retried = an attempt failed and another follows; failed = given up after retries or refused with a 5xx)', labelNames: ['email_rule', 'outcome'], registers });
  const dropped = new Counter({ name: 'dlp_proxy_email_alerts_dropped_incidents_total', help: 'Incidents no alert mail carries, per e-mail rule (alerts.email.queueSize reached, or still queued at shutdown)', labelNames: ['email_rule'], registers });
  return channel(CHANNELS.emailAlert, (m: { route: string; outcome: string; incidents: number }) => {
    if (m.outcome === 'dropped') dropped.inc({ email_rule: m.route }, m.incidents);
    else mails.inc({ email_rule: m.route, outcome: m.outcome });
  });
}

function channel<T>(name: string, fn: (message: T) => void): () => void {
  const handler = (message: unknown) => fn(message as T);
  dc.subscribe(name, handler);
  return () => dc.unsubscribe(name, handler);
}
