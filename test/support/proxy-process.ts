// `dlp-proxy start --config FILE` as an operator runs it (from JavaScript, as `npm start` does:
// prebuilt-proxy.ts), in a child process of its own process group (a cluster's workers
// included), with its JSON log lines parsed as they come, so a test can send it signals and wait
// for what it logs. kill() ends the whole group; tests call it in afterEach so nothing outlives a
// failed test.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import YAML from 'yaml';
import { packageRoot } from '../../src/config/index.js';
import { freePort } from './peers/common.js';
import { prebuiltMain } from './prebuilt-proxy.js';
import { tempDir } from './temp-dir.js';

export type LogLine = Record<string, unknown>;

export interface ProxyProcess {
  child: ChildProcess;
  /** its config file: a test rewrites it before a SIGHUP */
  file: string;
  lines: LogLine[];
  /** resolves with the exit code (null when a signal ended it) */
  exited: Promise<number | null>;
  /** resolves with the lines matching once there are `count` of them; rejects on exit or timeout */
  waitFor(match: (line: LogLine) => boolean, timeoutMs?: number, count?: number): Promise<LogLine[]>;
  /** SIGKILL to the process group, when it still runs */
  kill(): Promise<void>;
}

/**
 * A config as the cluster tests start it, on free ports: workers: 2, the built-in ICAP service
 * (dlp, av) in the primary, JSON log lines at info; the keys of `extra` replace these.
 */
export async function clusterConfig<T extends Record<string, unknown>>(caDir: string, extra: T) {
  const icapPort = await freePort();
  return {
    workers: 2,
    proxy: { port: await freePort() },
    ca: { dir: caDir },
    icapServer: { port: icapPort },
    services: { dlp: { urls: [`icap://127.0.0.1:${icapPort}/dlp`] }, av: { urls: [`icap://127.0.0.1:${icapPort}/av`] } },
    log: { format: 'json', level: 'info' },
    ...extra,
  };
}

/** Start with `doc` as its config file; resolves once it logged `readyMessage`. */
export async function startProxyProcess(doc: Record<string, unknown>, readyMessage: string): Promise<ProxyProcess> {
  const file = path.join(tempDir('dlp-proxy-process-'), 'config.yaml');
  // The process runs in the checkout: an incident store the doc does not place goes to a temp dir,
  // not to the checkout's incidents/.
  const incidents = { dir: path.join(path.dirname(file), 'incidents'), ...(doc['incidents'] as Record<string, unknown> | undefined) };
  fs.writeFileSync(file, YAML.stringify({ ...doc, incidents }));
  const child = spawn(process.execPath, [await prebuiltMain(), 'start', '--config', file], { cwd: packageRoot, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const lines: LogLine[] = [];
  let stderr = '';
  let rest = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    const parts = (rest + chunk.toString('utf8')).split('\n');
    rest = parts.pop() ?? '';
    for (const part of parts) if (part.startsWith('{')) lines.push(JSON.parse(part) as LogLine);
  });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  // 'exit' can come before the last of its stdout did: a line logged just before it ended counts
  let stdoutClosed = false;
  child.stdout!.once('close', () => (stdoutClosed = true));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const waitFor = async (match: (line: LogLine) => boolean, timeoutMs = 30_000, count = 1) => {
    const deadline = Date.now() + timeoutMs;
    while (lines.filter(match).length < count) {
      if (Date.now() > deadline || ((child.exitCode !== null || child.signalCode !== null) && stdoutClosed)) throw new Error(`log line not seen (exit ${child.exitCode ?? child.signalCode}); stderr: ${stderr}\n${lines.map((l) => l.msg).join('\n')}`);
      await sleep(25);
    }
    return lines.filter(match);
  };
  const proc: ProxyProcess = {
    child,
    file,
    lines,
    exited,
    waitFor,
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      process.kill(-child.pid!, 'SIGKILL');
      await exited;
    },
  };
  try {
    await waitFor((l) => l.msg === readyMessage, 60_000);
  } catch (err) {
    await proc.kill();
    throw err;
  }
  return proc;
}
