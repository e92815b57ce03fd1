// dlp-proxy started as `npm start` runs it: `node dist/src/main.js start --config FILE`, the bench's
// base config with the scenario's document over it. With `workers: N` > 1 that is a node:cluster
// primary (CA, admin listener and built-in ICAP service once) and N worker processes sharing the
// proxy port; with 1 it is startApp in one process. Its JSON log (every process's, stdout) goes to
// a file, which is also how readiness is known: the primary's `cluster started` once every worker
// listens, or `proxy listening` for one process. Stopped with SIGTERM to its process group (the
// cluster drains), SIGKILL after a grace period; registered with the run's stop-all.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import YAML from 'yaml';
import { freePort } from '../../test/support/peers/common.js';
import { onStopAll, repoRoot, stopProcessGroup } from './children.js';
import { baseConfig, ensureBuilt, mergeConfig, type ProxyRunFiles } from './dlp-proxy.js';
import type { ConfigDoc, SetupContext } from './types.js';

export interface CliProxy {
  /** The primary (or the one process). */
  pid: number;
  port: number;
  adminPort: number;
  logFile: string;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 60_000;
/** The cluster drains its workers on SIGTERM: the bench's connections are closed by then. */
const DRAIN_TIMEOUT_MS = 2_000;

/** True once `logText` (JSON lines) holds the line that says a proxy of `workers` processes serves. */
export function cliProxyReady(logText: string, workers: number): boolean {
  const msg = workers > 1 ? '"msg":"cluster started"' : '"msg":"proxy listening"';
  return logText.split('\n').some((line) => line.startsWith('{') && line.includes(msg));
}

export async function startDlpProxyCli(name: string, files: ProxyRunFiles, over: ConfigDoc): Promise<CliProxy> {
  ensureBuilt();
  const [port, adminPort] = [await freePort(), await freePort()];
  const doc = mergeConfig(mergeConfig(baseConfig(files), { proxy: { port }, admin: { port: adminPort }, shutdown: { drainTimeoutMs: DRAIN_TIMEOUT_MS } }), over);
  const workers = typeof doc.workers === 'number' ? doc.workers : 1;
  const configFile = path.join(files.workDir, `${name}.yaml`);
  const logFile = path.join(files.workDir, `${name}.log`);
  fs.writeFileSync(configFile, YAML.stringify(doc));
  fs.writeFileSync(logFile, '');
  const out = fs.openSync(logFile, 'a');
  const child = spawn(process.execPath, [path.join(repoRoot, 'dist/src/main.js'), 'start', '--config', configFile], { cwd: repoRoot, detached: true, stdio: ['ignore', out, 'pipe'] });
  fs.closeSync(out);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-16 * 1024);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    unregister();
    await stopProcessGroup(child, exited, DRAIN_TIMEOUT_MS + 3_000);
  };
  const unregister = onStopAll(stop);

  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!cliProxyReady(fs.readFileSync(logFile, 'utf8'), workers)) {
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      await stop();
      const why = child.exitCode !== null || child.signalCode !== null ? `exited (${child.signalCode ?? child.exitCode})` : `not ready after ${READY_TIMEOUT_MS / 1000} s`;
      throw new Error(`dlp-proxy start (${name}, workers: ${workers}) ${why}: ${stderr.trim().split('\n').slice(-3).join(' / ')}`);
    }
    await sleep(50);
  }
  return { pid: child.pid!, port, adminPort, logFile, stop };
}

/** A scenario config with `workers: n` over `config` (the bench base when absent). */
export function withWorkers(n: number, config?: (ctx: SetupContext) => ConfigDoc | Promise<ConfigDoc>): (ctx: SetupContext) => Promise<ConfigDoc> {
  return async (ctx) => ({ ...(config ? await config(ctx) : {}), workers: n });
}
