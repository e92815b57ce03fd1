// stunnel in front of an ICAP server, the setup external-DLP guides describe for secure ICAP:
// TLS on a free port, a server certificate, and (with a CA file) verify = 2, which requires and
// verifies a client certificate. Runs in the foreground in its own temp dir.
import fs from 'node:fs';
import path from 'node:path';
import { ensureBinary, freePort, startDaemon, tempDir, waitForPort } from './common.js';

export interface StunnelOptions {
  /** where to forward plaintext (the ICAP server) */
  connectPort: number;
  cert: string;
  key: string;
  /** CA that client certificates must chain to; omit to accept clients without certificates */
  clientCa?: string;
}

export interface Stunnel {
  port: number;
  url(service: string): string;
  stop(): Promise<void>;
}

export async function startStunnel(options: StunnelOptions): Promise<Stunnel> {
  const bin = ensureBinary('stunnel4', ['stunnel4']);
  const dir = tempDir('stunnel');
  const port = await freePort();
  const conf = path.join(dir, 'stunnel.conf');
  const lines = [
    'foreground = yes',
    `pid = ${path.join(dir, 'stunnel.pid')}`,
    `output = ${path.join(dir, 'stunnel.log')}`,
    'debug = 4',
    '[secure-icap]',
    `accept = 127.0.0.1:${port}`,
    `connect = 127.0.0.1:${options.connectPort}`,
    'client = no',
    `cert = ${options.cert}`,
    `key = ${options.key}`,
  ];
  if (options.clientCa) lines.push(`CAfile = ${options.clientCa}`, 'verify = 2');
  fs.writeFileSync(conf, lines.join('\n') + '\n');
  const daemon = startDaemon('stunnel', bin, [conf], { cwd: dir });
  try {
    await waitForPort(port, 10_000);
  } catch (err) {
    await daemon.stop();
    throw new Error(`stunnel did not start: ${daemon.output()}`, { cause: err });
  }
  return {
    port,
    url: (service) => `icaps://localhost:${port}/${service}`,
    async stop() {
      await daemon.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
