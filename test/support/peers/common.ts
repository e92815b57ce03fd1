// Shared plumbing for real third-party peers (c-icap, clamd, stunnel, squid, redis): install the
// Debian package when its binary is missing, pick free ports, run a daemon in the foreground in
// its own temp dir, wait until it answers, and stop it (and everything it spawned) afterwards.
// Under CI=true a peer that cannot be installed or started is a test failure, never a skip.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { tempDir as removedAfterFile } from '../temp-dir.js';

export const isCI = process.env.CI === 'true' || process.env.CI === '1';

const installed = new Set<string>();

/** Ensure `binary` exists, installing the Debian packages that provide it when it does not. */
export function ensureBinary(binary: string, packages: string[]): string {
  const found = which(binary);
  if (found) return found;
  if (!installed.has(packages.join(' '))) {
    installed.add(packages.join(' '));
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    let r = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { env, stdio: 'ignore' });
    if (r.status !== 0) {
      spawnSync('apt-get', ['update', '-qq'], { env, stdio: 'ignore' });
      r = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { env, stdio: 'ignore' });
    }
  }
  const after = which(binary);
  if (!after) throw new Error(`peer binary ${binary} is missing and apt-get install ${packages.join(' ')} did not provide it`);
  return after;
}

export function which(binary: string): string | undefined {
  for (const dir of ['/usr/sbin', '/usr/bin', '/sbin', '/bin', '/usr/local/bin', '/usr/local/sbin', ...(process.env.PATH ?? '').split(':')]) {
    const candidate = path.join(dir, binary);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      /* keep looking */
    }
  }
  return undefined;
}

/** A free TCP port on 127.0.0.1 (bind to 0, read it, close). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A temp dir for one peer; removed after the test file even when the peer's stop() never ran. */
export function tempDir(prefix: string): string {
  return removedAfterFile(`dlp-proxy-${prefix}-`);
}

/** Resolve once `host:port` accepts a TCP connection, or reject after `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs = 20_000, host = '127.0.0.1'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ port, host });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface Daemon {
  name: string;
  child: ChildProcess;
  /** Everything the daemon printed, for error messages. */
  output(): string;
  stop(): Promise<void>;
}

/** Run a daemon in the foreground in its own process group; `stop()` kills the whole group. */
export function startDaemon(name: string, command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Daemon {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (chunk: Buffer) => {
    out += chunk.toString('utf8');
    if (out.length > 64 * 1024) out = out.slice(-32 * 1024);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  daemons.add(child);
  return {
    name,
    child,
    output: () => out,
    async stop() {
      daemons.delete(child);
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGTERM');
        } catch {
          /* already gone */
        }
        const timer = setTimeout(() => {
          try {
            if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
          } catch {
            /* already gone */
          }
        }, 3000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

const daemons = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of daemons) {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
});
