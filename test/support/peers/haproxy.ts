// haproxy (Debian) as the load balancer in front of several proxy instances, in TCP mode as
// docs/scale-out.md recommends: connections are spread round-robin, CONNECT tunnels and TLS pass
// through untouched, and a health check takes a dead instance out of rotation.
import fs from 'node:fs';
import path from 'node:path';
import { ensureBinary, freePort, startDaemon, tempDir, waitForPort } from './common.js';

export interface HaproxyOptions {
  /** proxy instances, as 127.0.0.1 ports */
  backends: number[];
  /** health check interval (default 500 ms) */
  checkIntervalMs?: number;
}

export interface Haproxy {
  port: number;
  /** the configuration it runs, for the docs and for failure messages */
  config: string;
  output(): string;
  stop(): Promise<void>;
}

/** The haproxy.cfg of the scale-out recipe, for loopback ports. */
export function haproxyConfig(port: number, backends: number[], checkIntervalMs = 500): string {
  return [
    'global',
    '  maxconn 4096',
    'defaults',
    '  mode tcp',
    '  option dontlognull',
    '  timeout connect 2s',
    '  timeout client 130s',
    '  timeout server 130s',
    '  retries 2',
    '  option redispatch',
    'frontend dlp_proxy',
    `  bind 127.0.0.1:${port}`,
    '  default_backend dlp_proxies',
    'backend dlp_proxies',
    '  balance roundrobin',
    ...backends.map((p, i) => `  server proxy${i + 1} 127.0.0.1:${p} check inter ${checkIntervalMs} fall 2 rise 1`),
    '',
  ].join('\n');
}

export async function startHaproxy(options: HaproxyOptions): Promise<Haproxy> {
  const bin = ensureBinary('haproxy', ['haproxy']);
  const dir = tempDir('haproxy');
  const port = await freePort();
  const config = haproxyConfig(port, options.backends, options.checkIntervalMs);
  const file = path.join(dir, 'haproxy.cfg');
  fs.writeFileSync(file, config);
  // -db: foreground, not a daemon, so stop() ends it
  const daemon = startDaemon('haproxy', bin, ['-db', '-f', file]);
  try {
    await waitForPort(port, 10_000);
  } catch (err) {
    await daemon.stop();
    throw new Error(`haproxy did not start: ${(err as Error).message}\n${daemon.output()}`);
  }
  return { port, config, output: daemon.output, stop: () => daemon.stop() };
}
