// dlp-proxy under test, in its own process so that /proc shows its memory and CPU alone. It loads
// the config file the scenario wrote, logs JSON lines to a file through pino's asynchronous
// destination (an access line per exchange, as `dlp-proxy start` would with stdout to a file),
// says `ready` with its port and answers `memory` requests with process.memoryUsage().
// usage (forked by bench/lib/dlp-proxy.ts): proxy-child.ts CONFIG.yaml LOGFILE
import pino from 'pino';
import { startApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/log/index.js';

const [configFile, logFile] = process.argv.slice(2);
if (!configFile || !logFile || !process.send) {
  process.stderr.write('usage: proxy-child.ts CONFIG.yaml LOGFILE (forked with IPC)\n');
  process.exit(2);
}

const { config } = loadConfig({ file: configFile });
const destination = pino.destination({ dest: logFile, sync: false, minLength: 4096 });
// createLogger hands the destination to pino, which takes a SonicBoom as it is
const logger = createLogger(config.log, destination as unknown as NodeJS.WritableStream);
const app = await startApp(config, { logger });
process.send({ type: 'ready', port: app.proxyPort });

process.on('message', (msg: { id: number; type: string }) => {
  if (msg.type === 'memory') process.send?.({ id: msg.id, ...process.memoryUsage() });
});

let stopping = false;
const stop = async (): Promise<void> => {
  if (stopping) return;
  stopping = true;
  await app.close();
  destination.flushSync();
  // a normal exit, so that --cpu-prof writes its profile
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
process.once('disconnect', () => void stop());
