// Every process a bench run starts (origin, proxy, squid) is registered here and stopped at the
// end, on an error, or on SIGINT/SIGTERM. Node children run in their own process group with an
// IPC channel: they say `ready` with their ports, and answer requests such as `memory`.
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

const stoppers = new Set<() => Promise<void>>();

/** Register a stop function; the returned function unregisters it. */
export function onStopAll(stop: () => Promise<void>): () => void {
  stoppers.add(stop);
  return () => stoppers.delete(stop);
}

/** Stop everything still registered, newest first. */
export async function stopAll(): Promise<void> {
  for (const stop of [...stoppers].reverse()) {
    stoppers.delete(stop);
    await stop().catch(() => undefined);
  }
}

/**
 * SIGTERM to the process group of `child` (started detached: it leads its group, so helpers and
 * cluster workers go too), SIGKILL to the group after `graceMs`; resolves once `child` has exited.
 */
export async function stopProcessGroup(child: ChildProcess, exited: Promise<void>, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const pid = child.pid;
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }, graceMs);
  await exited;
  clearTimeout(timer);
}

export interface NodeChild<Ready> {
  pid: number;
  ready: Ready;
  /** Ask the child something over IPC; it answers with the same `id`. */
  request<T>(type: string, timeoutMs?: number): Promise<T>;
  /** SIGTERM to the group (the child closes and exits), SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  output(): string;
}

export interface ForkOptions {
  /** Extra node flags, e.g. --cpu-prof. */
  execArgv?: string[];
  /** File for the child's stdout (its logs); stderr is kept for error messages. */
  stdoutFile?: string;
  readyTimeoutMs?: number;
}

/**
 * Fork `script` (TypeScript through tsx; JavaScript as it is, with no loader and no esbuild
 * service process beside it) and wait for its `{ type: 'ready' }` message.
 */
export async function forkChild<Ready>(name: string, script: string, args: string[], options: ForkOptions = {}): Promise<NodeChild<Ready>> {
  const out = options.stdoutFile ? fs.openSync(options.stdoutFile, 'a') : 'ignore';
  const child: ChildProcess = fork(script, args, {
    cwd: repoRoot,
    execArgv: [...(script.endsWith('.ts') ? ['--import', 'tsx'] : []), ...(options.execArgv ?? [])],
    detached: true,
    stdio: ['ignore', out, 'pipe', 'ipc'],
  });
  if (typeof out === 'number') fs.closeSync(out);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-16 * 1024);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const pending = new Map<number, (value: unknown) => void>();
  let nextId = 1;
  child.on('message', (msg: { id?: number }) => {
    if (msg.id !== undefined) pending.get(msg.id)?.(msg);
  });

  const stop = async (graceMs = 5000): Promise<void> => {
    unregister();
    await stopProcessGroup(child, exited, graceMs);
  };
  const unregister = onStopAll(() => stop(2000));

  const ready = await new Promise<Ready>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} not ready after ${options.readyTimeoutMs ?? 30_000} ms: ${stderr.trim()}`)), options.readyTimeoutMs ?? 30_000);
    child.on('message', (msg: { type?: string }) => {
      if (msg.type === 'ready') {
        clearTimeout(timer);
        resolve(msg as Ready);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${signal ?? code}) before it was ready: ${stderr.trim()}`));
    });
  }).catch(async (err: unknown) => {
    await stop(500);
    throw err;
  });

  return {
    pid: child.pid!,
    ready,
    output: () => stderr,
    stop,
    request<T>(type: string, timeoutMs = 2000): Promise<T> {
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${name} did not answer ${type} within ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, (value) => {
          clearTimeout(timer);
          pending.delete(id);
          resolve(value as T);
        });
        child.send({ id, type });
      });
    },
  };
}
