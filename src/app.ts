// Composition root: builds every module from the validated Config, wires the lifecycle-event
// subscribers, and closes everything in reverse order. Nothing else reads the whole Config.
import path from 'node:path';
import type { Logger } from 'pino';
import { AdminServer, checkReadiness, incidentLinkBase, incidentReportsOptions } from './admin/index.js';
import { mailViolations, openEmailAlerts, startViolationAlerts } from './alerts/index.js';
import { spoolStats } from './body/index.js';
import { CertificateAuthority } from './ca/index.js';
import { isLoopback, type Config } from './config/index.js';
import type { ErrorCode } from './core/errors.js';
import { configurePages, linkIncidents, renderPage } from './enforce/index.js';
import { IcapService } from './icap/index.js';
import { IncidentRecorder, type IncidentReader, type IncidentRecord } from './incidents/index.js';
import { startIcapServer } from './icap-server/index.js';
import { createLogger, subscribeIcapLog, subscribeAccessLog, subscribeViolationLog } from './log/index.js';
import { createMetrics, type Metrics } from './metrics/index.js';
import { Delivery, ExchangePipeline, type Page, type ScanService } from './pipeline/index.js';
import { compilePolicy } from './policy/index.js';
import { ProxyFront } from './proxy/index.js';
import { OriginClient } from './upstream/index.js';
import { VerdictCache, createVerdictStore, storeStateChannel, type StoreStateEvent, type VerdictStore } from './verdict/index.js';

export interface App {
  config: Config;
  logger: Logger;
  ca: CertificateAuthority;
  proxyPort: number;
  /** the built-in ICAP service's port, when it runs */
  icapServerPort: number | undefined;
  /** a cluster worker with a patience rule: its relay listener on 127.0.0.1 (pipeline/patience-relay.ts) */
  patienceRelayPort: number | undefined;
  /** The live workers' relay ports by worker id (the primary's patience-relays message). */
  setPatienceRelays(ports: Readonly<Record<string, number>>): void;
  /**
   * Re-read the built-in ICAP service's data sets (icapServer.edm, icapServer.fingerprints) and
   * clamd's signature version (SIGHUP in a single process); resolves with the ISTags in force once
   * the services using it fetched OPTIONS again, so no verdict of the old tags is used after it.
   * Undefined when the built-in service is off. Rejects (the data sets in force stay) when a file
   * cannot be read.
   */
  reloadIcapServer(): Promise<Record<string, string> | undefined>;
  /**
   * The built-in ICAP service changed its ISTag (here, or in the cluster primary: icap-istags):
   * the services that use it fetch OPTIONS now instead of at their Options-TTL (RFC 3507 §4.7).
   */
  refreshBuiltinServices(): Promise<void>;
  /** the admin listener's port (metrics, readiness, CA, PAC), when it runs */
  adminPort: number | undefined;
  /** this process's metrics, when admin.enabled (a cluster worker's are read by the primary) */
  metrics: Metrics | undefined;
  services: ReadonlyMap<string, ScanService>;
  cache: VerdictCache;
  /** the incident store's reader (admin reports); undefined when incidents are off or this is a cluster worker */
  incidents: IncidentReader | undefined;
  /** what records this process's violations (flush, stats); undefined when incidents are off */
  incidentRecorder: IncidentRecorder | undefined;
  /**
   * Stop accepting, let in-flight exchanges finish for up to `deadlineMs`, then close everything.
   * Resolves true when nothing had to be cut.
   */
  drain(deadlineMs: number): Promise<boolean>;
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  /** processes sharing each ICAP server's Max-Connections (cluster mode) */
  workerCount?: number;
  /** false in a cluster worker: the primary runs the one admin listener and gathers the workers' metrics */
  adminListener?: boolean;
  /** listeners of another process of this proxy (a cluster primary's admin and ICAP service): never forwarded to */
  ownListeners?: ReadonlyArray<{ role: 'admin' | 'icap-server'; host: string; port: number }>;
  /** a cluster worker: its incident records go to the primary (over IPC) instead of a store of its own */
  incidentSink?: { write(records: IncidentRecord[]): Promise<unknown> };
  /** false in a cluster worker: the primary sends the alert mails of every worker's violations */
  emailAlerts?: boolean;
  /** a cluster worker with cache.store: memory: the primary's store, over IPC (instead of one of its own) */
  verdictStore?: VerdictStore;
  /** a cluster worker: its id (named in its patience links) and the secret its relay listener asks of other workers */
  patienceRelay?: { workerId: number; secret: string };
}

export async function startApp(config: Config, options: StartOptions = {}): Promise<App> {
  const logger = options.logger ?? createLogger(config.log);
  const closers: Array<() => Promise<void> | void> = [];
  let closing: Promise<void> | undefined;
  // Once only: drain() ends in close(), and a caller may close again.
  const close = () =>
    (closing ??= (async () => {
      for (const fn of closers.reverse()) await fn();
    })());
  try {
    closers.push(subscribeAccessLog(logger, { caCertFile: path.join(config.ca.dir, 'ca.pem') }), subscribeViolationLog(logger), subscribeIcapLog(logger));
    const alerts = await startViolationAlerts(config.alerts.webhooks);
    closers.push(() => alerts.close());
    // Subscribed before the proxy listens and closed after it: the last exchanges' violations are written.
    // A cluster worker forwards its violations also when only e-mail needs them: the primary mails them.
    const incidents = config.incidents.enabled || (options.incidentSink !== undefined && config.alerts.email !== undefined)
      ? await IncidentRecorder.open(config.incidents, {
          ...(options.incidentSink ? { forward: options.incidentSink } : {}),
          onError: (err, what) => logger.error({ log: 'incidents', err }, what),
        })
      : undefined;
    if (incidents) {
      incidents.subscribe();
      closers.push(() => incidents.close());
    }
    const email = options.emailAlerts === false ? undefined : await openEmailAlerts(config, logger);
    if (email) closers.push(() => email.close(), mailViolations(email));

    const { ca, created, warnings } = await CertificateAuthority.loadOrCreate({
      dir: path.resolve(config.ca.dir),
      leafValidityDays: config.ca.leafValidityDays,
      certCacheSize: config.ca.certCacheSize,
    });
    for (const warning of warnings) logger.warn({ log: 'ca' }, warning);
    logger.info({ log: 'ca', dir: path.resolve(config.ca.dir), created, fingerprint256: ca.fingerprint256 }, created ? 'CA created' : 'CA loaded');

    let icapServerPort: number | undefined;
    let reloadIcapServer: App['reloadIcapServer'] = () => Promise.resolve(undefined);
    if (config.icapServer.enabled) {
      const icapServer = await startIcapServer({ config: config.icapServer });
      closers.push(() => icapServer.close());
      const port = (icapServerPort = icapServer.port);
      logger.info({ log: 'icap-server', host: config.icapServer.host, port, istags: icapServer.istags }, 'built-in ICAP service listening');
      // Its ISTag changed (a reload, a clamd signature update): the services that use it ask OPTIONS now,
      // not at their Options-TTL, so no exchange is answered from a verdict of the old tag (RFC 3507 §4.7).
      let refreshed: Promise<unknown> = Promise.resolve();
      icapServer.onIstagChange((istags) => {
        logger.info({ log: 'icap-server', istags }, 'built-in ICAP service ISTag changed');
        refreshed = refreshBuiltinServices();
      });
      reloadIcapServer = async () => {
        const istags = await icapServer.reload();
        await refreshed;
        return istags;
      };
    }

    const services = new Map<string, ScanService>();
    for (const [name, service] of Object.entries(config.services)) {
      const icap = new IcapService({
        name,
        servers: service.urls.map((u) => (typeof u === 'string' ? { url: u, weight: 1 } : u)),
        ...(service.tls ? { tls: service.tls } : {}),
        maxConnections: service.maxConnections,
        connectTimeoutMs: service.connectTimeoutMs,
        previewTimeoutMs: service.previewTimeoutMs,
        skipPreviewUpToBytes: service.skipPreviewUpToBytes,
        readIdleTimeoutMs: service.readIdleTimeoutMs,
        queueTimeoutMs: service.queueTimeoutMs,
        idleTimeoutMs: service.idleTimeoutMs,
        health: service.health,
        workerCount: options.workerCount ?? 1,
      });
      icap.onIstagChange((istag, previous) => {
        if (previous !== undefined) logger.info({ log: 'icap', service: name, istag, previous }, 'ISTag changed: cached verdicts of the old tag no longer apply');
      });
      services.set(name, { name, config: service, icap });
      closers.push(() => icap.close());
    }

    // the built-in service's listeners: this process's, or the cluster primary's
    const builtin = [
      ...(icapServerPort === undefined ? [] : [{ host: config.icapServer.host, port: icapServerPort }]),
      ...(options.ownListeners ?? []).filter((l) => l.role === 'icap-server'),
    ];
    const refreshBuiltinServices = async (): Promise<void> => {
      const own = [...services.values()].filter((s) => s.config.urls.some((u) => builtin.some((l) => usesListener(typeof u === 'string' ? u : u.url, l.host, l.port))));
      await Promise.all(own.map((s) => s.icap.refreshOptions())).catch((err: unknown) => logger.error({ log: 'icap', err }, 'OPTIONS refresh after an ISTag change failed'));
    };

    const policy = compilePolicy([...config.policy], { ...config.services }, [...config.proxy.tunnel]);
    // the store says it is up while it is created, before the metrics exist: they start from this
    let storeState: StoreStateEvent | undefined;
    closers.push(
      storeStateChannel.subscribe((e) => {
        storeState = e;
        if (e.state === 'up') logger.info({ log: 'verdict', ...e }, 'shared verdict store up');
        else logger.warn({ log: 'verdict', ...e }, 'shared verdict store down: local cache only');
      }),
    );
    const store = options.verdictStore ?? (await createVerdictStore(config.cache));
    closers.push(() => store.close());
    const cache = new VerdictCache(store, config.cache.ttlMs);
    const upstream = new OriginClient(config.upstream, { listensOffLoopback: !isLoopback(config.proxy.host) });
    if (icapServerPort !== undefined) upstream.addOwnListener('icap-server', config.icapServer.host, icapServerPort);
    for (const own of options.ownListeners ?? []) upstream.addOwnListener(own.role, own.host, own.port);
    closers.push(() => upstream.close());

    await configurePages(config.blockPage);
    const page = (status: number, code: ErrorCode, host: string | undefined, accept: string | undefined, incidentId?: string): Page =>
      status === 503
        ? renderPage('unavailable', { code, status, ...(host ? { host } : {}), ...(incidentId ? { incidentId } : {}) }, accept)
        : renderPage('error', { status, code, ...(host ? { host } : {}), ...(incidentId ? { incidentId } : {}) }, accept);

    // how scanned downloads reach the client (policy[].delivery); held patience files go at close
    const patienceWorker = options.patienceRelay ? { id: options.patienceRelay.workerId, relaySecret: options.patienceRelay.secret } : undefined;
    const delivery = new Delivery(config.policy, config.scan, patienceWorker);
    closers.push(() => delivery.close());
    const patienceRelayPort = await delivery.relay?.listen();
    if (patienceRelayPort !== undefined) upstream.addOwnListener('patience-relay', '127.0.0.1', patienceRelayPort);
    const setPatienceRelays = (ports: Readonly<Record<string, number>>): void => {
      delivery.relay?.setPeers(ports);
      // the live workers' relays (this one's always among them): never forwarded to
      upstream.setOwnListeners('patience-relay', '127.0.0.1', [...Object.values(ports), ...(patienceRelayPort !== undefined ? [patienceRelayPort] : [])]);
    };
    const pipeline = new ExchangePipeline({
      delivery,
      viaName: config.proxy.viaName,
      upstream,
      policy,
      scanner: { scan: config.scan, cache, policyVersion: policy.version, services },
      oversizeAction: config.scan.oversizeAction,
      websocket: { maxMessageBytes: Math.min(config.scan.maxWebSocketMessageBytes, config.scan.maxScanBytes), oversizeAction: config.scan.oversizeAction, idleTimeoutMs: config.proxy.tunnelIdleTimeoutMs },
      page,
      blockPage: (exchange, direction, verdict, rule, accept) =>
        renderPage(
          'block',
          { host: exchange.host, direction, incidentId: exchange.id, violations: verdict.violations, ...(verdict.reason ? { reason: verdict.reason } : {}), rule, time: exchange.startTime },
          accept,
        ),
    });
    const front = new ProxyFront(
      {
        host: config.proxy.host,
        port: config.proxy.port,
        allowedClients: config.proxy.allowedClients,
        auth: config.proxy.auth,
        clientHeadersTimeoutMs: config.proxy.clientHeadersTimeoutMs,
        clientIdleTimeoutMs: config.proxy.clientIdleTimeoutMs,
        maxHeaderBytes: config.proxy.maxHeaderBytes,
        maxHeaderCount: config.proxy.maxHeaderCount,
        connectFirstByteTimeoutMs: config.proxy.connectFirstByteTimeoutMs,
        tlsHandshakeTimeoutMs: config.proxy.tlsHandshakeTimeoutMs,
        tunnelIdleTimeoutMs: config.proxy.tunnelIdleTimeoutMs,
        maxConnectionsPerClient: config.proxy.maxConnectionsPerClient,
        tunnelConnectTimeoutMs: config.upstream.connectTimeoutMs,
      },
      {
        secureContext: (host) => ca.getSecureContext(host),
        decideConnect: (target, client, req) => pipeline.decideConnect(target, client, req),
        openTunnel: (target) => upstream.connectTunnel(target),
        exchange: (req, res, origin, client, intercepted) => pipeline.handle(req, res, origin, client, intercepted),
        upgrade: (req, socket, head, origin, client, intercepted) => pipeline.upgrade(req, socket, head, origin, client, intercepted),
        page,
      },
    );
    const proxyPort = await front.listen();
    upstream.addOwnListener('proxy', config.proxy.host, proxyPort);
    closers.push(() => front.close());
    logger.info({ log: 'proxy', host: config.proxy.host, port: proxyPort, policyVersion: policy.version }, 'proxy listening');

    const metrics = config.admin.enabled
      ? createMetrics({ cache, services, ca, spool: spoolStats, front, alerts, ...(incidents ? { incidents } : {}), optionsTimeoutMs: config.admin.readyTimeoutMs, verdictStore: () => storeState })
      : undefined;
    if (metrics) closers.push(() => metrics.close());
    let adminPort: number | undefined;
    if (metrics && options.adminListener !== false) {
      const admin = new AdminServer({
        host: config.admin.host,
        port: config.admin.port,
        allowedClients: config.proxy.allowedClients,
        metrics: { text: metrics.text, contentType: metrics.registry.contentType },
        ca,
        proxy: { host: config.proxy.host, port: proxyPort, bypass: config.proxy.bypass, tunnel: config.proxy.tunnel, pacProxy: config.admin.pacProxy },
        contact: config.blockPage.contact,
        readiness: () => checkReadiness({ proxyHost: config.proxy.host, proxyPort, services, timeoutMs: config.admin.readyTimeoutMs }),
        incidents: incidentReportsOptions(() => config, incidents?.reader),
        tls: config.admin.tls,
      });
      adminPort = await admin.listen();
      upstream.addOwnListener('admin', config.admin.host, adminPort);
      closers.push(() => admin.close());
      logger.info({ log: 'admin', host: config.admin.host, port: adminPort }, 'admin listening: /metrics /healthz /readyz /ca.pem /proxy.pac /incidents');
    }
    // The block page's incident number links to the incident page (in a cluster worker: the primary's admin listener).
    const incidentPagesAt = adminPort ?? options.ownListeners?.find((l) => l.role === 'admin')?.port;
    linkIncidents(config.incidents.enabled && incidentPagesAt !== undefined ? incidentLinkBase(config.admin, incidentPagesAt) : undefined);

    const drain = async (deadlineMs: number) => {
      const drained = await front.drain(deadlineMs);
      await close();
      return drained;
    };
    return { config, logger, ca, proxyPort, icapServerPort, patienceRelayPort, setPatienceRelays, reloadIcapServer, refreshBuiltinServices, adminPort, metrics, services, cache, incidents: incidents?.reader, incidentRecorder: incidents, drain, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** An ICAP URL that reaches the built-in service listening on `host`:`port`. */
function usesListener(url: string, host: string, port: number): boolean {
  try {
    const u = new URL(url);
    const hostname = u.hostname.replace(/^\[|\]$/g, '');
    return Number(u.port || 1344) === port && (hostname === host || isLoopback(hostname));
  } catch {
    return false;
  }
}
