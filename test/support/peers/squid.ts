// squid 5.7 (squid-openssl) as a real peer proxy, for the interop tests and the benchmark (the one
// squid launcher of the project): in the foreground on a free port in its own temp dir, pinned to
// loopback as PEERS.md lists, no cache, optionally adapting through ICAP services (REQMOD and
// RESPMOD, with preview) and optionally bumping TLS (peek at step 1, stare at step 2, bump; leaves
// minted by security_file_certgen from a CA the caller gives). Known defect of 5.7: RESPMOD of a
// body of 64 KiB or more stalls when the service reads the whole body before answering (squid bug
// 5352), so tests keep RESPMOD bodies small.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ensureBinary, freePort, startDaemon, tempDir, waitForPort } from './common.js';

/** squid-openssl's certificate generator; plain `squid` lacks it and cannot ssl-bump. */
export const SQUID_CERTGEN = '/usr/lib/squid/security_file_certgen';

export interface SquidBump {
  /** CA certificate and key (PEM files) squid signs its leaves with; squid reads private copies. */
  caCertFile: string;
  caKeyFile: string;
  /** CA squid verifies origins against (tls_outgoing_options cafile=). */
  originCaFile: string;
}

export interface SquidOptions {
  /** icap:// URL of the REQMOD service (uploads) */
  reqmod?: string;
  /** icap:// URL of the RESPMOD service (downloads) */
  respmod?: string;
  previewBytes?: number;
  icapIoTimeoutSeconds?: number;
  /** ssl-bump CONNECT tunnels with this CA */
  bump?: SquidBump;
  /** extra squid.conf lines */
  extraConfig?: string[];
}

export interface Squid {
  /** squid's main process (its helpers are its descendants) */
  pid: number;
  port: number;
  /** http://127.0.0.1:PORT, for an HTTP client's proxy setting */
  url: string;
  dir: string;
  /** squid's cache.log tail, for failure messages */
  log(): string;
  stop(): Promise<void>;
}

/** `squid -v`'s version, or why there is none. */
export function squidVersion(): string {
  try {
    const bin = ensureBinary('squid', ['squid-openssl']);
    return /Version (\S+)/.exec(execFileSync(bin, ['-v'], { encoding: 'utf8' }))?.[1] ?? 'unknown';
  } catch {
    return 'not installed';
  }
}

function bumpLines(dir: string, port: number, bump: SquidBump): string[] {
  if (!fs.existsSync(SQUID_CERTGEN)) throw new Error(`${SQUID_CERTGEN} is missing (squid-openssl provides it)`);
  // squid reads the CA key as user proxy: private copies it can own
  const own = (name: string, from: string) => {
    const to = path.join(dir, name);
    fs.copyFileSync(from, to);
    fs.chmodSync(to, 0o600);
    return to;
  };
  const caCert = own('bump-ca.pem', bump.caCertFile);
  const caKey = own('bump-ca.key', bump.caKeyFile);
  const originCa = own('origin-ca.pem', bump.originCaFile);
  const db = path.join(dir, 'ssl_db');
  execFileSync(SQUID_CERTGEN, ['-c', '-s', db, '-M', '4MB'], { stdio: 'ignore' });
  return [
    `http_port 127.0.0.1:${port} ssl-bump tls-cert=${caCert} tls-key=${caKey} generate-host-certificates=on dynamic_cert_mem_cache_size=4MB`,
    `sslcrtd_program ${SQUID_CERTGEN} -s ${db} -M 4MB`,
    'sslcrtd_children 4 startup=1 idle=1',
    'acl step1 at_step SslBump1',
    'acl step2 at_step SslBump2',
    'ssl_bump peek step1',
    'ssl_bump stare step2',
    'ssl_bump bump all',
    `tls_outgoing_options cafile=${originCa}`,
  ];
}

export async function startSquid(options: SquidOptions = {}): Promise<Squid> {
  const bin = ensureBinary('squid', ['squid-openssl']);
  const dir = tempDir('squid');
  // squid drops to user "proxy": its logs and pid file must be writable by it.
  fs.chmodSync(dir, 0o777);
  const port = await freePort();
  const lines = [
    ...(options.bump ? bumpLines(dir, port, options.bump) : [`http_port 127.0.0.1:${port}`]),
    `pid_filename ${path.join(dir, 'squid.pid')}`,
    `cache_log ${path.join(dir, 'cache.log')}`,
    `access_log stdio:${path.join(dir, 'access.log')}`,
    'cache_store_log none',
    'logfile_rotate 0',
    `coredump_dir ${dir}`,
    'netdb_filename none',
    'cache deny all',
    'cache_mem 8 MB',
    'dns_nameservers 127.0.0.1',
    'udp_incoming_address 127.0.0.1',
    'udp_outgoing_address 127.0.0.1',
    'icp_port 0',
    'htcp_port 0',
    'snmp_port 0',
    'pinger_enable off',
    'shutdown_lifetime 1 seconds',
    'visible_hostname squid-peer',
    'max_filedescriptors 4096',
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
  // the certificate DB and the key copies were made by us; squid and its helpers run as proxy
  if (options.bump && process.getuid?.() === 0) execFileSync('chown', ['-R', 'proxy:proxy', dir]);
  const daemon = startDaemon('squid', bin, ['-N', '-f', conf], { cwd: dir });
  const log = () => {
    try {
      return fs.readFileSync(path.join(dir, 'cache.log'), 'utf8').slice(-4000);
    } catch {
      return daemon.output();
    }
  };
  try {
    await Promise.race([
      waitForPort(port, 20_000),
      new Promise((_, reject) => daemon.child.once('exit', (code) => reject(new Error(`squid exited (${code})`)))),
    ]);
  } catch (err) {
    const output = `${daemon.output()}\n${log()}`;
    await daemon.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`squid did not start: ${output}`, { cause: err });
  }
  return {
    pid: daemon.child.pid!,
    port,
    url: `http://127.0.0.1:${port}`,
    dir,
    log,
    async stop() {
      // SIGINT is squid's immediate shutdown (`squid -k interrupt`); on SIGTERM it waits
      // shutdown_lifetime for clients and then some, about 3 s in all
      try {
        process.kill(-daemon.child.pid!, 'SIGINT');
      } catch {
        /* already gone */
      }
      await daemon.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
