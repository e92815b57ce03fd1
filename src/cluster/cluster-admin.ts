// The admin listener in cluster mode: once, in the primary (workers binding admin.port each would
// let node:cluster hand every scrape to a different worker, so /metrics would show one worker's
// numbers and go backwards from one scrape to the next). The primary has the CA and the config,
// so /, /ca.pem, /ca.der, /proxy.pac and /healthz need no worker; /metrics asks every worker for
// its registry over IPC and aggregates (metrics/ClusterMetrics); /readyz asks every worker serving
// the proxy port for its ICAP services' readiness (admin/checkClusterReadiness). The incident
// reports read the primary's store directly, and sign-in sessions live here, once for all workers.
// The host's verdict store (cache.store: memory) is the primary's too: its size and evictions are
// the primary's series (the workers report zeros for them), so /metrics shows the store once.
//
// The address, client list and TLS files of the admin listener are read at start; a reload keeps
// them. Admin users, the session lifetime and the public URL follow a reload.
import type { Worker } from 'node:cluster';
import { AdminServer, checkClusterReadiness, incidentReportsOptions, type ServiceReadiness } from '../admin/index.js';
import type { Config } from '../config/index.js';
import type { IncidentReader } from '../incidents/index.js';
import { ClusterMetrics, registerIncidentMetrics, type IncidentMetricSource, type MetricsSnapshot } from '../metrics/index.js';
import type { VerdictHubStats } from '../verdict/index.js';
import { registerHubMetrics } from './hub-metrics.js';
import type { PrimaryMessage, WorkerAnswerMessage } from './messages.js';

export interface ClusterAdminOptions {
  ca: { certPem: string; certDer: Buffer };
  /** the config in force (a SIGHUP reload replaces it) */
  config(): Config;
  /** the workers serving the proxy port now (not those draining) */
  serving(): readonly Worker[];
  /** the proxy port the workers listen on */
  proxyPort(): number;
  /** the incident store the primary owns; undefined when incidents.enabled is false */
  incidents?: IncidentReader | undefined;
  /**
   * the counts of that store's recorder: records written, deleted, the store's bytes (the workers
   * forward theirs and report only their queues and drops under the same names, which sum)
   */
  incidentStats?: IncidentMetricSource | undefined;
  /** the host's verdict store held by the primary */
  verdicts?: () => VerdictHubStats;
}

/** On top of a worker's own OPTIONS wait (admin.readyTimeoutMs), for the IPC round trip. */
const IPC_MARGIN_MS = 1_000;

type Request = { type: 'metrics-request' } | { type: 'readiness-request'; timeoutMs: number };

export class ClusterAdmin {
  readonly #options: ClusterAdminOptions;
  readonly #metrics = new ClusterMetrics();
  /** workers from `ready` until exit, draining ones included: all of them hold counts */
  readonly #members = new Set<Worker>();
  readonly #pending = new Map<number, (answer: WorkerAnswerMessage) => void>();
  #nextId = 0;
  readonly #server: AdminServer;

  constructor(options: ClusterAdminOptions) {
    this.#options = options;
    if (options.incidentStats) registerIncidentMetrics(this.#metrics.registry, options.incidentStats);
    if (options.verdicts) registerHubMetrics(this.#metrics.registry, options.verdicts);
    const config = options.config;
    const started = config();
    this.#server = new AdminServer({
      host: started.admin.host,
      port: started.admin.port,
      allowedClients: started.proxy.allowedClients,
      metrics: { text: () => this.#metricsText(), contentType: this.#metrics.contentType },
      ca: options.ca,
      // read per request, so the PAC file and the onboarding page follow a reload
      proxy: {
        get host() {
          return config().proxy.host;
        },
        get port() {
          return options.proxyPort();
        },
        get bypass() {
          return config().proxy.bypass;
        },
        get tunnel() {
          return config().proxy.tunnel;
        },
        get pacProxy() {
          return config().admin.pacProxy;
        },
      },
      get contact() {
        return config().blockPage.contact;
      },
      readiness: () => this.#readiness(),
      incidents: incidentReportsOptions(config, options.incidents),
      tls: started.admin.tls,
    });
  }

  listen(): Promise<number> {
    return this.#server.listen();
  }

  close(): Promise<void> {
    this.#metrics.close();
    return this.#server.close();
  }

  /**
   * The worker listens on the proxy port: from now on its counts are part of /metrics. When its
   * IPC channel closes (it exited, drained or not) its counters stay in the totals: 'disconnect'
   * rather than 'exit', because node emits it after every message read from the channel, so
   * the final totals a draining worker sends are in by then.
   */
  workerReady(worker: Worker): void {
    this.#members.add(worker);
    worker.once('disconnect', () => {
      this.#members.delete(worker);
      this.#metrics.workerGone(worker.id);
    });
  }

  /** A worker's final totals, sent after it drained. */
  lastWords(worker: Worker, metrics: MetricsSnapshot): void {
    this.#metrics.lastWords(worker.id, metrics);
  }

  /** A worker's answer to one of our requests. */
  answer(message: WorkerAnswerMessage): void {
    this.#pending.get(message.id)?.(message);
  }

  async #metricsText(): Promise<string> {
    const timeoutMs = this.#options.config().admin.readyTimeoutMs + IPC_MARGIN_MS;
    const answers = await Promise.all(
      [...this.#members].map(async (worker) => {
        const answer = await this.#ask(worker, { type: 'metrics-request' }, timeoutMs);
        return { worker: worker.id, metrics: answer?.type === 'metrics' ? answer.metrics : undefined };
      }),
    );
    return this.#metrics.text(answers);
  }

  #readiness() {
    const config = this.#options.config();
    const timeoutMs = config.admin.readyTimeoutMs;
    return checkClusterReadiness({
      proxyHost: config.proxy.host,
      proxyPort: this.#options.proxyPort(),
      timeoutMs,
      workers: this.#options.serving().map((worker) => ({
        worker: worker.id,
        pid: worker.process.pid,
        services: this.#ask(worker, { type: 'readiness-request', timeoutMs }, timeoutMs + IPC_MARGIN_MS).then((a): Record<string, ServiceReadiness> | undefined =>
          a?.type === 'readiness' ? a.services : undefined,
        ),
      })),
    });
  }

  /** Send a request to one worker; its answer, or undefined when it cannot or does not answer in time. */
  #ask(worker: Worker, request: Request, timeoutMs: number): Promise<WorkerAnswerMessage | undefined> {
    if (!worker.isConnected()) return Promise.resolve(undefined);
    const id = ++this.#nextId;
    return new Promise((resolve) => {
      const finish = (answer: WorkerAnswerMessage | undefined) => {
        clearTimeout(timer);
        this.#pending.delete(id);
        resolve(answer);
      };
      const timer = setTimeout(() => finish(undefined), timeoutMs);
      this.#pending.set(id, finish);
      const message: PrimaryMessage = { ...request, id };
      worker.send(message, (err: Error | null) => {
        if (err) finish(undefined);
      });
    });
  }
}
