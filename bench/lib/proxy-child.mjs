// dlp-proxy under test, in its own process so that /proc shows its memory and CPU alone. It loads
// the config file the scenario wrote, logs JSON lines to a file through pino's asynchronous
// destination (an access line per exchange, as `dlp-proxy start` would with stdout to a file),
// says `ready` with its port (and its admin listener's) and answers IPC requests: `memory` (process.memoryUsage()),
// `profile-start` and `profile-stop` (a V8 CPU profile of the window between them, and V8's
// sampling heap profile of what was allocated in it, collected objects included).
// usage (forked by bench/lib/dlp-proxy.ts): proxy-child.mjs CONFIG.yaml LOGFILE
//
// It runs the compiled build (dist/, made by startDlpProxy before the first fork, or the build named
// by BENCH_PROXY_DIST: `npm run bench -- --ab DIR` compares two builds), as `npm start`
// does: through tsx every function of the sources carries esbuild's __name wrapper, which showed
// in profiles as our own cost. It is JavaScript itself, so that no tsx loader (and no esbuild
// service process beside it) runs in the process under test: one process, as squid's.
import { createRequire } from 'node:module';
import { Session } from 'node:inspector/promises';
import { pathToFileURL } from 'node:url';

const dist = process.env.BENCH_PROXY_DIST ? pathToFileURL(`${process.env.BENCH_PROXY_DIST}/src/`) : new URL('../../dist/src/', import.meta.url);
// pino (and so the log destination) as the build under test resolves it: an A/B of a patched
// dependency compares the two copies, not this tree's twice
const { default: pino } = await import(pathToFileURL(createRequire(new URL('app.js', dist)).resolve('pino')).href);
const { startApp } = await import(new URL('app.js', dist).href);
const { loadConfig } = await import(new URL('config/index.js', dist).href);
const { createLogger } = await import(new URL('log/index.js', dist).href);

const [configFile, logFile] = process.argv.slice(2);
if (!configFile || !logFile || !process.send) {
  process.stderr.write('usage: proxy-child.mjs CONFIG.yaml LOGFILE (forked with IPC)\n');
  process.exit(2);
}

const { config } = loadConfig({ file: configFile });
// the destination `dlp-proxy start` makes for stdout (log/logger.ts), to a file
const destination = pino.destination({ dest: logFile, sync: false });
// createLogger hands the destination to pino, which takes a SonicBoom as it is
const logger = createLogger(config.log, destination);
const app = await startApp(config, { logger });
process.send({ type: 'ready', port: app.proxyPort, adminPort: app.adminPort });

// CPU profile of a window (the measured phase), not of start-up: V8's profiler through the
// inspector, the same data --cpu-prof writes. Allocations are sampled beside it, one sample per
// 32 KiB on average (V8's default interval: its cost does not show in the CPU profile); objects
// the garbage collector already took count too, so the samples are what the window allocated,
// not what it left alive.
const session = new Session();
const answer = (id, body) => process.send?.({ id, ...body });
process.on('message', (msg) => {
  if (msg.type === 'memory') answer(msg.id, process.memoryUsage());
  else if (msg.type === 'profile-start') {
    session.connect();
    void session
      .post('Profiler.enable')
      .then(() => session.post('Profiler.start'))
      .then(() => session.post('HeapProfiler.startSampling', { samplingInterval: 32 * 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true }))
      .then(() => answer(msg.id, { ok: true }), (err) => answer(msg.id, { error: err.message }));
  } else if (msg.type === 'profile-stop') {
    void Promise.all([session.post('Profiler.stop'), session.post('HeapProfiler.stopSampling')]).then(
      ([{ profile }, { profile: heap }]) => {
        session.disconnect();
        answer(msg.id, { profile, heap });
      },
      (err) => answer(msg.id, { error: err.message }),
    );
  }
});

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await app.close();
  destination.flushSync();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
process.once('disconnect', () => void stop());
