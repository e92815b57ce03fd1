// The cluster primary: `workers` proxy processes sharing the proxy port (node:cluster hands each
// accepted connection to a worker, round-robin), and the machine-wide parts run once, here:
// the CA is created (or loaded) before any worker starts, so workers never race to create it,
// the built-in ICAP service runs in the primary's worker thread, so the proxy workers share
// one service on one port instead of each trying to bind it, and the admin listener runs here
// (cluster-admin.ts), so /metrics and /readyz speak for every worker at once. The incident store
// is opened here too: workers send their records over IPC, the primary queues them for the store
// and closes it (writing what is queued) only after the last worker has drained and exited.
// With cache.store: memory the host's one verdict store and cross-worker single-flight live here
// too (verdict/VerdictHub): a body scanned by one worker is a hit on every other, and outlives a
// reload; a worker that dies while it scans hands its claim to the next worker waiting for it.
//
// Signals: SIGHUP re-reads the built-in ICAP service's data sets (EDM, fingerprints), then re-reads
// and validates the config file; an invalid one is refused with every
// error and its path, and the running config stays; a valid one replaces the workers one at a
// time (the new one listening before the old one drains, so no connection is refused or cut).
// SIGTERM or SIGINT drains every worker up to shutdown.drainTimeoutMs and exits 0. A worker
// that dies unexpectedly is replaced, with a backoff when it keeps dying.
import { randomBytes } from 'node:crypto';
import cluster, { type Worker } from 'node:cluster';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { openEmailAlerts, type EmailAlerts } from '../alerts/index.js';
import { CertificateAuthority } from '../ca/index.js';
import { ConfigError, parseConfigText, type Config } from '../config/index.js';
import type { IcapServerHandle } from '../icap-server/index.js';
import { startIcapServer } from '../icap-server/index.js';
import { IncidentRecorder, isIncidentRecord, type IncidentReader } from '../incidents/index.js';
import { VerdictHub } from '../verdict/index.js';
import { ClusterAdmin } from './cluster-admin.js';
import { isWorkerMessage, type OwnListener, type PrimaryMessage, type WorkerMessage } from './messages.js';

export interface ClusterPrimaryOptions {
  /** the config file, re-read on SIGHUP */
  file: string;
  text: string;
  config: Config;
  logger: Logger;
}

interface Generation {
  text: string;
  config: Config;
}

/** A worker that has not reported ready within this long is taken as failed. */
const WORKER_START_TIMEOUT_MS = 60_000;
/** After its drain deadline a worker gets this long to exit before it is killed. */
const EXIT_GRACE_MS = 5_000;

export class ClusterPrimary {
  readonly #file: string;
  readonly #logger: Logger;
  #current: Generation;
  readonly #live = new Set<Worker>();
  /** workers told to drain: their exit is expected */
  readonly #retiring = new WeakSet<Worker>();
  #icap: IcapServerHandle | undefined;
  #admin: ClusterAdmin | undefined;
  /** the host's verdict store, for workers with cache.store: memory */
  readonly #verdicts: VerdictHub;
  #incidents: IncidentRecorder | undefined;
  /** the alert mails go out from here, once, whatever worker saw the violation */
  #email: EmailAlerts | undefined;
  /** listeners of the primary that the workers must refuse to forward to */
  readonly #ownListeners: OwnListener[] = [];
  /** what the workers' patience relay listeners ask of each other (pipeline/patience-relay.ts) */
  readonly #relaySecret = randomBytes(32).toString('base64url');
  /** the live workers' patience relay ports by worker id */
  readonly #relays = new Map<number, number>();
  /** the port the workers reported (config.proxy.port, or the one picked for port 0) */
  #proxyPort: number;
  #reloading: Promise<void> | undefined;
  #stopping = false;
  #crashes: number[] = [];
  #stopped!: () => void;
  readonly #done = new Promise<void>((resolve) => (this.#stopped = resolve));

  constructor(options: ClusterPrimaryOptions) {
    this.#file = options.file;
    this.#logger = options.logger;
    this.#current = { text: options.text, config: options.config };
    this.#proxyPort = options.config.proxy.port;
    const { cache } = options.config;
    this.#verdicts = new VerdictHub({
      maxBytes: cache.maxBytes,
      ttlMs: cache.ttlMs,
      claimTimeoutMs: cache.shared.claimTimeoutMs,
      send: (id, message) => {
        const worker = cluster.workers?.[id];
        if (worker) send(worker, message);
      },
    });
  }

  /** Start the CA, the built-in ICAP service, every worker and the admin listener; resolves once all listen. */
  async start(): Promise<void> {
    const { config } = this.#current;
    const { ca, created } = await CertificateAuthority.loadOrCreate({ dir: path.resolve(config.ca.dir), leafValidityDays: config.ca.leafValidityDays, certCacheSize: 1 });
    if (created) this.#logger.info({ log: 'ca', dir: path.resolve(config.ca.dir), created, fingerprint256: ca.fingerprint256 }, 'CA created');
    if (config.icapServer.enabled) {
      this.#icap = await startIcapServer({ config: config.icapServer });
      this.#ownListeners.push({ role: 'icap-server', host: config.icapServer.host, port: this.#icap.port });
      this.#logger.info({ log: 'icap-server', host: config.icapServer.host, port: this.#icap.port, istags: this.#icap.istags }, 'built-in ICAP service listening (in the primary)');
      this.#icap.onIstagChange((istags) => {
        this.#logger.info({ log: 'icap-server', istags }, 'built-in ICAP service ISTag changed');
        // Every worker's services that use it ask OPTIONS now, not at their Options-TTL: with one
        // verdict cache per host, a worker still on the old tag would find its entries (RFC 3507 §4.7).
        for (const worker of this.#live) send(worker, { type: 'icap-istags', istags });
      });
    }
    try {
      if (config.incidents.enabled) this.#incidents = await IncidentRecorder.open(config.incidents, { onError: (err, what) => this.#logger.error({ log: 'incidents', err }, what) });
      this.#email = await openEmailAlerts(config, this.#logger);
    } catch (err) {
      await this.stop();
      throw err;
    }
    if (config.admin.enabled) {
      this.#admin = new ClusterAdmin({
        ca,
        config: () => this.#current.config,
        serving: () => [...this.#live],
        proxyPort: () => this.#proxyPort,
        incidents: this.#incidents?.reader,
        incidentStats: this.#incidents,
        verdicts: () => this.#verdicts.stats(),
      });
    }
    try {
      // The admin listener first: workers learn its port, and never forward to it.
      if (this.#admin) {
        const port = await this.#admin.listen();
        this.#ownListeners.push({ role: 'admin', host: config.admin.host, port });
        this.#logger.info({ log: 'admin', host: config.admin.host, port }, 'admin listening (in the primary, for every worker): /metrics /healthz /readyz /ca.pem /proxy.pac');
      }
      await Promise.all(Array.from({ length: config.workers }, () => this.#spawn(this.#current)));
    } catch (err) {
      await this.stop();
      throw err;
    }
    this.#logger.info({ log: 'cluster', workers: config.workers, port: config.proxy.port }, 'cluster started');
  }

  /** The incident store's reader (the admin reports); undefined when incidents are off. */
  get incidents(): IncidentReader | undefined {
    return this.#incidents?.reader;
  }

  /** The incident recorder: counts for the metrics, flush for tests. */
  get incidentRecorder(): IncidentRecorder | undefined {
    return this.#incidents;
  }

  /** Resolves when stop() finished. */
  done(): Promise<void> {
    return this.#done;
  }

  /** SIGHUP: validate the file again; replace the workers one at a time when it is valid. */
  reload(): Promise<void> {
    if (this.#stopping) return Promise.resolve();
    if (this.#reloading) {
      this.#logger.warn({ log: 'cluster' }, 'reload already running: this SIGHUP is ignored');
      return this.#reloading;
    }
    this.#reloading = this.#reload().finally(() => (this.#reloading = undefined));
    return this.#reloading;
  }

  /** SIGTERM/SIGINT: drain every worker (each up to shutdown.drainTimeoutMs), then stop the ICAP service. */
  async stop(): Promise<void> {
    if (this.#stopping) return this.#done;
    this.#stopping = true;
    await this.#reloading?.catch(() => undefined);
    await this.#admin?.close();
    this.#logger.info({ log: 'cluster', workers: this.#live.size, deadlineMs: this.#current.config.shutdown.drainTimeoutMs }, 'draining workers');
    await Promise.all([...this.#live].map((w) => this.#retire(w)));
    // every worker has exited, so every record it sent is queued: written now, then the file closed
    await this.#incidents?.close();
    // ...and mailed, with the open digests
    await this.#email?.close();
    await this.#icap?.close();
    this.#verdicts.close();
    this.#logger.info({ log: 'cluster' }, 'stopped');
    this.#stopped();
    return this.#done;
  }

  async #reload(): Promise<void> {
    // The built-in service's data sets first, whatever the config file holds: the workers started
    // below then fetch OPTIONS with the new ISTag and use no verdict of the old one (RFC 3507 §4.7).
    await this.#reloadDataSets();
    let next: Generation;
    try {
      const text = await fsp.readFile(this.#file, 'utf8');
      next = { text, config: parseConfigText(text, this.#file) };
    } catch (err) {
      const errors = err instanceof ConfigError ? err.issues : [{ path: '(file)', message: err instanceof Error ? err.message : String(err) }];
      this.#logger.error({ log: 'cluster', file: this.#file, errors }, `reload refused, the running config stays: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`);
      return;
    }
    if (JSON.stringify(next.config.icapServer) !== JSON.stringify(this.#current.config.icapServer)) {
      this.#logger.warn({ log: 'cluster' }, 'icapServer changed: the built-in ICAP service keeps its settings until the next start');
    }
    if (JSON.stringify(next.config.incidents) !== JSON.stringify(this.#current.config.incidents)) {
      this.#logger.warn({ log: 'cluster' }, 'incidents changed: the store keeps its directory, retention and size cap until the next start (workers take the new queueSize and batchMs)');
    }
    const hub = (c: Config) => JSON.stringify([c.cache.maxBytes, c.cache.ttlMs, c.cache.shared.claimTimeoutMs]);
    if (hub(next.config) !== hub(this.#current.config)) {
      this.#logger.warn({ log: 'cluster' }, 'cache.maxBytes, cache.ttlMs or cache.shared.claimTimeoutMs changed: the host verdict store keeps its settings until the next start');
    }
    const listener = (c: Config) => JSON.stringify([c.admin.enabled, c.admin.host, c.admin.port, c.proxy.allowedClients]);
    if (listener(next.config) !== listener(this.#current.config)) {
      this.#logger.warn({ log: 'cluster' }, 'admin listener changed (enabled, host, port or allowed clients): it keeps its settings until the next start');
    }
    this.#logger.info({ log: 'cluster', file: this.#file, workers: next.config.workers }, 'reloading: replacing workers one at a time');
    const old = [...this.#live];
    const count = next.config.workers;
    for (let i = 0; i < Math.max(old.length, count); i++) {
      if (this.#stopping) return;
      if (i < count) {
        try {
          await this.#spawn(next);
        } catch (err) {
          this.#logger.error({ log: 'cluster', err: (err as Error).message, replaced: i }, 'reload stopped: a new worker failed to start; the remaining workers keep the config they run');
          return;
        }
      }
      const retiring = old[i];
      if (retiring) await this.#retire(retiring);
    }
    const mail = (c: Config) => JSON.stringify([c.alerts.email, c.admin.publicUrl]);
    if (mail(next.config) !== mail(this.#current.config)) await this.#reloadEmail(next.config);
    this.#current = next;
    this.#logger.info({ log: 'cluster', workers: this.#live.size }, 'reload done');
  }

  /** SIGHUP: the built-in service re-reads icapServer.edm and icapServer.fingerprints (and asks clamd its signature version). */
  async #reloadDataSets(): Promise<void> {
    if (!this.#icap) return;
    try {
      const istags = await this.#icap.reload();
      this.#logger.info({ log: 'icap-server', istags }, 'built-in ICAP service data sets reloaded');
    } catch (err) {
      this.#logger.error({ log: 'icap-server', err: err instanceof Error ? err.message : String(err) }, 'built-in ICAP service data sets not reloaded; those in force stay');
    }
  }

  /** The new alerts.email takes over; the old one sends what it holds (its open digests too). */
  async #reloadEmail(config: Config): Promise<void> {
    let next: EmailAlerts | undefined;
    try {
      next = await openEmailAlerts(config, this.#logger);
    } catch (err) {
      this.#logger.error({ log: 'alerts', err: (err as Error).message }, 'alerts.email not reloaded: the running e-mail alerts stay');
      return;
    }
    const old = this.#email;
    this.#email = next;
    await old?.close();
  }

  /** Fork a worker for `gen` and resolve once it listens (reject if it fails or exits first). */
  #spawn(gen: Generation): Promise<Worker> {
    const worker = cluster.fork();
    // its claims pass on as soon as its channel closes (a crash mid-scan included), not at a timeout
    worker.once('disconnect', () => {
      this.#verdicts.ownerGone(worker.id);
      // its patience files went with it: its links answer 404 wherever they arrive
      if (this.#relays.delete(worker.id)) this.#announceRelays();
    });
    return new Promise<Worker>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`worker ${worker.id} did not start within ${WORKER_START_TIMEOUT_MS} ms`)), WORKER_START_TIMEOUT_MS);
      const fail = (err: Error) => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('exit', onEarlyExit);
        if (!worker.isDead()) worker.kill('SIGKILL');
        reject(err);
      };
      const onEarlyExit = (code: number | null, signal: string | null) => fail(new Error(`worker ${worker.id} exited (${signal ?? code}) before listening`));
      const onMessage = (message: unknown) => {
        if (!isWorkerMessage(message)) return;
        this.#handle(worker, message, gen, () => {
          clearTimeout(timer);
          worker.off('exit', onEarlyExit);
          this.#live.add(worker);
          worker.once('exit', (code, signal) => this.#onExit(worker, code, signal));
          resolve(worker);
        }, fail);
      };
      worker.on('message', onMessage);
      worker.once('exit', onEarlyExit);
    });
  }

  #handle(worker: Worker, message: WorkerMessage, gen: Generation, ready: () => void, fail: (err: Error) => void): void {
    switch (message.type) {
      case 'hello':
        send(worker, { type: 'config', text: gen.text, source: this.#file, workerCount: gen.config.workers, ownListeners: this.#ownListeners, relaySecret: this.#relaySecret });
        return;
      case 'ready':
        this.#logger.info({ log: 'cluster', worker: worker.id, pid: worker.process.pid, port: message.port, ...(message.relayPort !== undefined ? { relayPort: message.relayPort } : {}) }, 'worker listening');
        this.#proxyPort = message.port;
        this.#admin?.workerReady(worker);
        ready();
        if (message.relayPort !== undefined) this.#relays.set(worker.id, message.relayPort);
        this.#announceRelays();
        return;
      case 'failed':
        fail(new Error(`worker ${worker.id}: ${message.message}`));
        return;
      case 'metrics':
      case 'readiness':
        this.#admin?.answer(message);
        return;
      case 'last-metrics':
        this.#admin?.lastWords(worker, message.metrics);
        return;
      case 'verdict-ops':
        this.#verdicts.receive(worker.id, message);
        return;
      case 'incidents':
        // queued (or dropped and counted) before the acknowledgement, so a draining worker that
        // has its answer can exit: the records are the primary's to write
        this.#incidents?.recordBatch(message.records);
        if (this.#email) for (const record of Array.isArray(message.records) ? message.records : []) if (isIncidentRecord(record)) this.#email.notify(record);
        send(worker, { type: 'incidents-ack', id: message.id });
    }
  }

  /** Every live worker learns where the others' patience files are (and a new one, where all are). */
  #announceRelays(): void {
    const ports = Object.fromEntries(this.#relays);
    for (const worker of this.#live) send(worker, { type: 'patience-relays', ports });
  }

  /** Tell a worker to drain and wait for it to exit (killing it past its deadline and a grace). */
  async #retire(worker: Worker): Promise<void> {
    this.#retiring.add(worker);
    this.#live.delete(worker);
    if (worker.isDead()) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    send(worker, { type: 'drain' });
    const timer = setTimeout(() => worker.kill('SIGKILL'), this.#current.config.shutdown.drainTimeoutMs + EXIT_GRACE_MS);
    await exited;
    clearTimeout(timer);
  }

  #onExit(worker: Worker, code: number | null, signal: string | null): void {
    this.#live.delete(worker);
    if (this.#retiring.has(worker) || this.#stopping) return;
    const now = Date.now();
    this.#crashes = [...this.#crashes.filter((t) => now - t < 60_000), now];
    const delayMs = Math.min(10_000, 100 * 2 ** (this.#crashes.length - 1));
    this.#logger.error({ log: 'cluster', worker: worker.id, code, signal, restartInMs: delayMs }, 'worker died: starting a replacement');
    setTimeout(() => {
      if (this.#stopping) return;
      this.#spawn(this.#current).catch((err: Error) => this.#logger.error({ log: 'cluster', err: err.message }, 'replacement worker failed to start'));
    }, delayMs).unref();
  }
}

function send(worker: Worker, message: PrimaryMessage): void {
  if (worker.isConnected()) worker.send(message);
}
