// One proxy worker process under the cluster primary: it asks for the validated config, runs
// startApp with the built-in ICAP service and the admin listener switched off (the primary runs
// both, once for the machine), reports its port, answers the primary's metrics and readiness
// requests, sends its incident records to the primary (which owns the store), and drains when told
// to or on SIGTERM (a primary that is gone without a word makes node:cluster exit the worker at
// once): the app's close writes its last incident records to the primary and waits for the
// acknowledgement, then the worker sends its final counters so the machine's totals keep them. SIGINT and SIGHUP reach the whole process group from a terminal: only the primary
// acts on them, so the worker ignores both. With cache.store: memory the worker's verdict store is
// the primary's, asked over IPC through a small local LRU (verdict/IpcVerdictStore).
import cluster from 'node:cluster';
import { checkServicesReadiness } from '../admin/index.js';
import { startApp, type App } from '../app.js';
import { parseConfigText, type Config } from '../config/index.js';
import { IpcIncidentSink } from '../incidents/index.js';
import { createLogger } from '../log/index.js';
import { monotonicSnapshot } from '../metrics/index.js';
import { createSharedVerdictStore, type IpcVerdictStore, type VerdictOpsMessage } from '../verdict/index.js';
import { isPrimaryMessage, type ConfigMessage, type PrimaryMessage, type WorkerMessage } from './messages.js';

/** Send to the primary; resolves once the message is written (or cannot be). */
function send(message: WorkerMessage): Promise<void> {
  if (!process.connected || !process.send) return Promise.resolve();
  return new Promise((resolve) => process.send!(message, undefined, {}, () => resolve()));
}

/** Send to the primary; rejects when the channel is closed or the message cannot be written. */
function sendOrFail(message: WorkerMessage): Promise<void> {
  if (!process.connected || !process.send) return Promise.reject(new Error('no IPC channel to the primary'));
  return new Promise((resolve, reject) => process.send!(message, undefined, {}, (err: Error | null) => (err ? reject(err) : resolve())));
}

/** Write a verdict batch to the primary; false when the channel is gone. */
function sendVerdictOps(message: VerdictOpsMessage): boolean {
  if (!process.connected || !process.send) return false;
  // a write that fails is a lookup that times out: counted there, the exchange scans
  process.send(message, undefined, {}, () => undefined);
  return true;
}

/** The worker's slice of a config: everything but the built-in ICAP service. */
export function workerConfig(config: Config): Config {
  return Object.freeze({ ...config, icapServer: Object.freeze({ ...config.icapServer, enabled: false }) });
}

export async function runClusterWorker(): Promise<number> {
  process.on('SIGINT', () => undefined);
  process.on('SIGHUP', () => undefined);
  let drainRequested!: () => void;
  const drainSignal = new Promise<void>((resolve) => (drainRequested = resolve));
  let app: App | undefined;
  let verdictStore: IpcVerdictStore | undefined;
  /**
   * Set when the drain starts: the app closes its parts at the end of the drain, and reading a
   * gauge of a closed part could reopen it (an ICAP OPTIONS fetch restarts its probes), so from
   * here on only counters and histograms are reported.
   */
  let draining = false;
  const incidentSink = new IpcIncidentSink(sendOrFail);
  /** the live workers' patience relay ports, the primary's last word (kept for an app not started yet) */
  let relays: Record<string, number> = {};
  const configReceived = new Promise<ConfigMessage>((resolve) => {
    process.on('message', (message: unknown) => {
      if (!isPrimaryMessage(message)) return;
      if (message.type === 'config') resolve(message);
      else if (message.type === 'drain') drainRequested();
      else if (message.type === 'incidents-ack') incidentSink.acknowledge(message);
      else if (message.type === 'verdict-answers') verdictStore?.receive(message);
      else if (message.type === 'icap-istags') void app?.refreshBuiltinServices();
      else if (message.type === 'patience-relays') {
        relays = message.ports;
        app?.setPatienceRelays(relays);
      }
      else if (app) void answer(app, message, draining);
    });
  });
  process.once('SIGTERM', () => drainRequested());
  void send({ type: 'hello' });

  const message = await Promise.race([configReceived, drainSignal.then(() => undefined)]);
  if (!message) return 0;
  let config: Config;
  try {
    config = parseConfigText(message.text, message.source);
    const logger = createLogger(config.log).child({ worker: cluster.worker?.id ?? process.pid });
    verdictStore = createSharedVerdictStore(config.cache, sendVerdictOps);
    app = await startApp(workerConfig(config), {
      logger,
      workerCount: message.workerCount,
      adminListener: false,
      ownListeners: message.ownListeners,
      incidentSink,
      emailAlerts: false,
      ...(verdictStore ? { verdictStore } : {}),
      ...(cluster.worker ? { patienceRelay: { workerId: cluster.worker.id, secret: message.relaySecret } } : {}),
    });
    app.setPatienceRelays(relays);
  } catch (err) {
    await send({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
    process.disconnect?.();
    return 1;
  }
  void send({ type: 'ready', port: app.proxyPort, ...(app.patienceRelayPort !== undefined ? { relayPort: app.patienceRelayPort } : {}) });
  await drainSignal;
  draining = true;
  app.logger.info({ log: 'cluster', deadlineMs: config.shutdown.drainTimeoutMs }, 'draining');
  const drained = await app.drain(config.shutdown.drainTimeoutMs);
  app.logger.info({ log: 'cluster', drained }, drained ? 'drained' : 'drain deadline passed: remaining connections cut');
  if (app.metrics) await send({ type: 'last-metrics', metrics: await monotonicSnapshot(app.metrics.registry) });
  // node:cluster exits a worker whose IPC channel closes; everything is closed by now.
  if (process.connected) process.disconnect();
  return 0;
}

/** Answer a metrics or readiness request (a draining worker serves no more: no readiness); a failure goes unanswered. */
async function answer(app: App, request: Extract<PrimaryMessage, { type: 'metrics-request' | 'readiness-request' }>, draining: boolean): Promise<void> {
  try {
    if (request.type === 'metrics-request') {
      // no registry (admin.enabled turned off by a reload): an empty answer, not a timeout
      const registry = app.metrics?.registry;
      const metrics = !registry ? [] : draining ? await monotonicSnapshot(registry) : await registry.getMetricsAsJSON();
      await send({ type: 'metrics', id: request.id, metrics });
    } else if (!draining) {
      await send({ type: 'readiness', id: request.id, services: await checkServicesReadiness(app.services, request.timeoutMs) });
    }
  } catch (err) {
    app.logger.warn({ log: 'cluster', request: request.type, err: err instanceof Error ? err.message : String(err) }, 'could not answer the primary');
  }
}
