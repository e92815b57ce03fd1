// squid-openssl as the competitor, with PEERS.md's settings: foreground (`squid -N -f CONF`), its
// own dirs owned by user proxy, loopback only, no cache (`cache deny all`), persistent connections
// on both sides, an access log like dlp-proxy's. With `bump`, ssl-bump as PEERS.md describes:
// peek at step 1, stare at step 2, bump; leaves minted by security_file_certgen from the run's
// squid CA; the origin verified against the run's origin CA.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ensureBinary, freePort, startDaemon, waitForPort, type Daemon } from '../../test/support/peers/common.js';
import { onStopAll } from './children.js';
import type { TlsMaterial } from './tls-material.js';

export const CERTGEN = '/usr/lib/squid/security_file_certgen';

export interface SquidProcess {
  pid: number;
  port: number;
  version: string;
  stop(): Promise<void>;
}

export function squidVersion(): string {
  try {
    const bin = ensureBinary('squid', ['squid-openssl']);
    return /Version (\S+)/.exec(execFileSync(bin, ['-v'], { encoding: 'utf8' }))?.[1] ?? 'unknown';
  } catch {
    return 'not installed';
  }
}

function config(dir: string, port: number, tls: TlsMaterial | undefined): string {
  const lines = [
    tls
      ? `http_port 127.0.0.1:${port} ssl-bump tls-cert=${tls.squidCaFile} tls-key=${tls.squidCaKeyFile} generate-host-certificates=on dynamic_cert_mem_cache_size=4MB`
      : `http_port 127.0.0.1:${port}`,
    'acl bench_clients src 127.0.0.1/32',
    'http_access allow bench_clients',
    'http_access deny all',
    'cache deny all',
    'cache_mem 8 MB',
    'dns_nameservers 127.0.0.1',
    'udp_incoming_address 127.0.0.1',
    'udp_outgoing_address 127.0.0.1',
    'pinger_enable off',
    'shutdown_lifetime 1 seconds',
    'visible_hostname dlp-proxy-bench',
    'icp_port 0',
    'htcp_port 0',
    'snmp_port 0',
    `pid_filename ${dir}/squid.pid`,
    `cache_log ${dir}/cache.log`,
    `access_log stdio:${dir}/access.log`,
    'logfile_rotate 0',
    `coredump_dir ${dir}`,
    'netdb_filename none',
    'client_persistent_connections on',
    'server_persistent_connections on',
    'max_filedescriptors 4096',
  ];
  if (tls) {
    lines.push(
      `sslcrtd_program ${CERTGEN} -s ${dir}/ssl_db -M 4MB`,
      'sslcrtd_children 4 startup=1 idle=1',
      'acl step1 at_step SslBump1',
      'acl step2 at_step SslBump2',
      'ssl_bump peek step1',
      'ssl_bump stare step2',
      'ssl_bump bump all',
      `tls_outgoing_options cafile=${tls.originCaFile}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Start squid in `dir` (created, then handed to user proxy); `bumpTls` turns on ssl-bump. */
export async function startSquid(dir: string, bumpTls?: TlsMaterial): Promise<SquidProcess> {
  const bin = ensureBinary('squid', ['squid-openssl']);
  fs.mkdirSync(dir, { recursive: true });
  const port = await freePort();
  if (bumpTls) {
    if (!fs.existsSync(CERTGEN)) throw new Error(`${CERTGEN} is missing (squid-openssl provides it)`);
    // squid reads the CA key as user proxy: a private copy it owns
    const own = (name: string, from: string) => {
      const to = path.join(dir, name);
      fs.copyFileSync(from, to);
      fs.chmodSync(to, 0o600);
      return to;
    };
    bumpTls = { ...bumpTls, squidCaFile: own('squid-ca.pem', bumpTls.squidCaFile), squidCaKeyFile: own('squid-ca.key', bumpTls.squidCaKeyFile), originCaFile: own('origin-ca.pem', bumpTls.originCaFile) };
    execFileSync(CERTGEN, ['-c', '-s', path.join(dir, 'ssl_db'), '-M', '4MB'], { stdio: 'ignore' });
  }
  const conf = path.join(dir, 'squid.conf');
  fs.writeFileSync(conf, config(dir, port, bumpTls));
  execFileSync('chown', ['-R', 'proxy:proxy', dir]);
  fs.chmodSync(dir, 0o755);
  fs.chmodSync(path.dirname(dir), 0o755);

  const daemon: Daemon = startDaemon('squid', bin, ['-N', '-f', conf], { cwd: dir });
  const stop = async () => {
    unregister();
    await daemon.stop();
  };
  const unregister = onStopAll(stop);
  try {
    await Promise.race([
      waitForPort(port, 20_000),
      new Promise((_, reject) => daemon.child.once('exit', (code) => reject(new Error(`squid exited (${code}): ${daemon.output().trim() || readLog(dir)}`)))),
    ]);
  } catch (err) {
    await stop();
    throw err;
  }
  return { pid: daemon.child.pid!, port, version: squidVersion(), stop };
}

function readLog(dir: string): string {
  try {
    return fs.readFileSync(path.join(dir, 'cache.log'), 'utf8').split('\n').filter((l) => /FATAL|ERROR/.test(l)).slice(-5).join(' | ');
  } catch {
    return '';
  }
}
