// One proxy worker process under the cluster primary: it asks for the validated config, runs
// startApp with the built-in ICAP service switched off (the primary runs that one, once for the
// machine), reports its port, and drains when told to or on SIGTERM (a primary that is gone
// without a word makes node:cluster exit the worker at once). SIGINT and SIGHUP reach the whole
// process group from a terminal: only the primary acts on them, so the worker ignores both.
import cluster from 'node:cluster';
import { startApp, type App } from '../app.js';
import { parseConfigText, type Config } from '../config/index.js';
import { createLogger } from '../log/index.js';
import { isPrimaryMessage, type ConfigMessage, type WorkerMessage } from './messages.js';

function send(message: WorkerMessage): void {
  if (process.connected) process.send?.(message);
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
  const configReceived = new Promise<ConfigMessage>((resolve) => {
    process.on('message', (message: unknown) => {
      if (!isPrimaryMessage(message)) return;
      if (message.type === 'config') resolve(message);
      else drainRequested();
    });
  });
  process.once('SIGTERM', () => drainRequested());
  send({ type: 'hello' });

  const message = await Promise.race([configReceived, drainSignal.then(() => undefined)]);
  if (!message) return 0;
  let app: App;
  let config: Config;
  try {
    config = parseConfigText(message.text, message.source);
    const logger = createLogger(config.log).child({ worker: cluster.worker?.id ?? process.pid });
    app = await startApp(workerConfig(config), { logger, workerCount: message.workerCount });
  } catch (err) {
    send({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
    process.disconnect?.();
    return 1;
  }
  send({ type: 'ready', port: app.proxyPort });
  await drainSignal;
  app.logger.info({ log: 'cluster', deadlineMs: config.shutdown.drainTimeoutMs }, 'draining');
  const drained = await app.drain(config.shutdown.drainTimeoutMs);
  app.logger.info({ log: 'cluster', drained }, drained ? 'drained' : 'drain deadline passed: remaining connections cut');
  // node:cluster exits a worker whose IPC channel closes; everything is closed by now.
  if (process.connected) process.disconnect();
  return 0;
}
