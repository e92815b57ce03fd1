// squid 5.7 (squid-openssl) as a real peer proxy, in the foreground on a free port in its own temp
// dir, pinned to loopback as PEERS.md lists, optionally adapting through ICAP services (REQMOD
// and RESPMOD, with preview). Known defect of 5.7: RESPMOD of a body of 64 KiB or more stalls when
// the service reads the whole body before answering (squid bug 5352), so tests keep RESPMOD
// bodies small.
import fs from 'node:fs';
import path from 'node:path';
import { ensureBinary, freePort, startDaemon, tempDir, waitForPort } from './common.js';

export interface SquidOptions {
  /** icap:// URL of the REQMOD service (uploads) */
  reqmod?: string;
  /** icap:// URL of the RESPMOD service (downloads) */
  respmod?: string;
  previewBytes?: number;
  icapIoTimeoutSeconds?: number;
  /** extra squid.conf lines */
  extraConfig?: string[];
}

export interface Squid {
  port: number;
  /** http://127.0.0.1:PORT, for an HTTP client's proxy setting */
  url: string;
  dir: string;
  /** squid's cache.log tail, for failure messages */
  log(): string;
  stop(): Promise<void>;
}

export async function startSquid(options: SquidOptions = {}): Promise<Squid> {
  const bin = ensureBinary('squid', ['squid-openssl']);
  const dir = tempDir('squid');
  // squid drops to user "proxy": its logs and pid file must be writable by it.
  fs.chmodSync(dir, 0o777);
  const port = await freePort();
  const lines = [
    `http_port 127.0.0.1:${port}`,
    `pid_filename ${path.join(dir, 'squid.pid')}`,
    `cache_log ${path.join(dir, 'cache.log')}`,
    `access_log stdio:${path.join(dir, 'access.log')}`,
    'cache_store_log none',
    `coredump_dir ${dir}`,
    'cache deny all',
    'cache_mem 8 MB',
    'dns_nameservers 127.0.0.1',
    'udp_incoming_address 127.0.0.1',
    'udp_outgoing_address 127.0.0.1',
    'pinger_enable off',
    'shutdown_lifetime 1 seconds',
    'http_access allow localhost',
    'http_access deny all',
  ];
  if (options.reqmod !== undefined || options.respmod !== undefined) {
    lines.push(
      'icap_enable on',
      'icap_preview_enable on',
      `icap_preview_size ${options.previewBytes ?? 1024}`,
      'icap_persistent_connections on',
      'adaptation_send_client_ip on',
      `icap_io_timeout ${options.icapIoTimeoutSeconds ?? 15} seconds`,
    );
    if (options.reqmod !== undefined) lines.push(`icap_service svc_req reqmod_precache bypass=0 ${options.reqmod}`, 'adaptation_access svc_req allow all');
    if (options.respmod !== undefined) lines.push(`icap_service svc_resp respmod_precache bypass=0 ${options.respmod}`, 'adaptation_access svc_resp allow all');
  }
  lines.push(...(options.extraConfig ?? []));
  const conf = path.join(dir, 'squid.conf');
  fs.writeFileSync(conf, lines.join('\n') + '\n');
  fs.chmodSync(conf, 0o644);
  const daemon = startDaemon('squid', bin, ['-N', '-f', conf], { cwd: dir });
  const log = () => {
    try {
      return fs.readFileSync(path.join(dir, 'cache.log'), 'utf8').slice(-4000);
    } catch {
      return daemon.output();
    }
  };
  try {
    await waitForPort(port, 20_000);
  } catch (err) {
    const output = `${daemon.output()}\n${log()}`;
    await daemon.stop();
    throw new Error(`squid did not start: ${output}`, { cause: err });
  }
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    dir,
    log,
    async stop() {
      await daemon.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
