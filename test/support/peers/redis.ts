// redis-server as a real peer: in the foreground on a free port, nothing persisted, loopback
// only (PEERS.md). `restart()` brings it back on the same port, empty, for outage tests.
import { spawnSync } from 'node:child_process';
import { ensureBinary, freePort, startDaemon, tempDir, waitForPort, type Daemon } from './common.js';

export interface RedisPeer {
  port: number;
  url: string;
  /** stop the server (SIGTERM to its process group), keeping the port for restart() */
  kill(): Promise<void>;
  /** start it again on the same port */
  restart(): Promise<void>;
  /** one redis-cli command, its output trimmed */
  cli(...args: string[]): string;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<RedisPeer> {
  const bin = ensureBinary('redis-server', ['redis-server']);
  const cliBin = ensureBinary('redis-cli', ['redis-tools']);
  const port = await freePort();
  const dir = tempDir('redis');
  let daemon: Daemon | undefined;
  const launch = async () => {
    daemon = startDaemon('redis-server', bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--dir', dir]);
    try {
      await waitForPort(port, 10_000);
    } catch (err) {
      throw new Error(`redis-server did not start: ${(err as Error).message}\n${daemon.output()}`);
    }
  };
  await launch();
  const kill = async () => {
    await daemon?.stop();
    daemon = undefined;
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill,
    restart: launch,
    cli: (...args) => spawnSync(cliBin, ['-p', String(port), ...args], { encoding: 'utf8' }).stdout.trim(),
    stop: kill,
  };
}
