// c-icap 0.5 as a real ICAP peer, in its own temp dir on a free port: srv_cfg_filter as "dlp"
// (a TOP-SECRET keyword rule and a card-number rule, as PEERS.md describes), virus_scan as "av"
// (through a private clamd with the offline test DB), and echo. Each service is also reachable
// under its module name (srv_cfg_filter, virus_scan) through ServiceAlias.
import fs from 'node:fs';
import path from 'node:path';
import { startClamd, type Clamd } from './clamd.js';
import { ensureBinary, freePort, startDaemon, tempDir, waitForPort } from './common.js';

export type CicapService = 'dlp' | 'av' | 'echo';

export interface CicapOptions {
  services?: CicapService[];
  /** use this clamd socket for "av" instead of starting one */
  clamdSocket?: string;
  /** c-icap's MaxKeepAliveRequests (its default is 100) */
  maxKeepAliveRequests?: number;
  /** extra srv_content_filtering.Match lines for "dlp" (score name DLP blocks above 50) */
  extraDlpRules?: string[];
}

export interface Cicap {
  port: number;
  host: string;
  dir: string;
  /** c-icap's main process (it forks its servers: their CPU is under this tree) */
  pid: number | undefined;
  url(service: string): string;
  /** c-icap's server log, for failure messages */
  log(): string;
  stop(): Promise<void>;
}

const MODULES = '/usr/lib/x86_64-linux-gnu/c_icap';

/** Card numbers of 16 digits starting 4 or 5, optionally grouped by blanks or dashes. */
export const CARD_RULE = String.raw`/[45][0-9]{3}([-\x20]?[0-9]{4}){3}/`;

export async function startCicap(options: CicapOptions = {}): Promise<Cicap> {
  const bin = ensureBinary('c-icap', ['c-icap', 'libc-icap-mod-contentfiltering', 'libc-icap-mod-virus-scan']);
  const services = options.services ?? ['dlp', 'av', 'echo'];
  let clamd: Clamd | undefined;
  let clamdSocket = options.clamdSocket;
  if (services.includes('av') && !clamdSocket) {
    clamd = await startClamd();
    clamdSocket = clamd.socket;
  }
  const dir = tempDir('cicap');
  const port = await freePort();
  const lines = [
    `PidFile ${path.join(dir, 'c-icap.pid')}`,
    `CommandsSocket ${path.join(dir, 'c-icap.ctl')}`,
    `Port 127.0.0.1:${port}`,
    `ServerLog ${path.join(dir, 'server.log')}`,
    `AccessLog ${path.join(dir, 'access.log')}`,
    `TmpDir ${dir}`,
    `ModulesDir ${MODULES}`,
    `ServicesDir ${MODULES}`,
    'TemplateDir /usr/share/c_icap/templates',
    'StartServers 1',
    'MaxServers 2',
    'MinSpareThreads 5',
    'MaxSpareThreads 20',
    'ThreadsPerChild 20',
    `MaxKeepAliveRequests ${options.maxKeepAliveRequests ?? 100}`,
    'DebugLevel 1',
  ];
  if (services.includes('echo')) lines.push('Service echo srv_echo.so');
  if (services.includes('dlp')) {
    lines.push(
      'Service dlp srv_content_filtering.so',
      'ServiceAlias srv_cfg_filter dlp',
      'srv_content_filtering.Match DLP body /TOP-SECRET/i score=100',
      `srv_content_filtering.Match DLP body ${CARD_RULE} score=100`,
      ...(options.extraDlpRules ?? []),
      'srv_content_filtering.Profile dlp block score{DLP>50}',
      'srv_content_filtering.ProfileOption dlp AnyContentType',
      'acl ALL type REQMOD RESPMOD',
      'srv_content_filtering.ProfileAccess dlp ALL',
    );
  }
  if (services.includes('av')) {
    lines.push(
      'Module common clamd_mod.so',
      `clamd_mod.ClamdSocket ${clamdSocket}`,
      'Service av virus_scan.so',
      'ServiceAlias virus_scan av',
      'virus_scan.ScanFileTypes TEXT DATA EXECUTABLE ARCHIVE',
      'virus_scan.DefaultEngine clamd',
      'virus_scan.SendPercentData 0',
      'virus_scan.MaxObjectSize 5M',
      // Scan the whole object before answering: a clean 204 or a block page, never a truncation.
      'virus_scan.StartSendPercentDataAfter 5M',
    );
  }
  const conf = path.join(dir, 'c-icap.conf');
  fs.writeFileSync(conf, lines.join('\n') + '\n');
  const daemon = startDaemon('c-icap', bin, ['-N', '-f', conf], { cwd: dir });
  try {
    await waitForPort(port, 20_000);
  } catch (err) {
    const stale = lockFilesOf(daemon.child.pid);
    await daemon.stop();
    await clamd?.stop();
    removeLockFiles(stale);
    throw new Error(`c-icap did not start: ${daemon.output()}`, { cause: err });
  }
  const locks = lockFilesOf(daemon.child.pid);
  return {
    port,
    host: '127.0.0.1',
    dir,
    pid: daemon.child.pid,
    url: (service) => `icap://127.0.0.1:${port}/${service}`,
    log: () => {
      try {
        return fs.readFileSync(path.join(dir, 'server.log'), 'utf8').slice(-4000);
      } catch {
        return daemon.output();
      }
    },
    async stop() {
      await daemon.stop();
      await clamd?.stop();
      removeLockFiles(locks);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * c-icap 0.5 makes its lock files in /tmp whatever its configuration says (icap_lock_accept.*,
 * icap_lock_children-queue.*) and removes them only when it shuts down in time; one the stop had
 * to kill leaves them behind. They are read from its open descriptors once it listens, and go with it.
 */
function lockFilesOf(pid: number | undefined): string[] {
  if (pid === undefined) return [];
  try {
    return fs
      .readdirSync(`/proc/${pid}/fd`)
      .map((fd) => {
        try {
          return fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
        } catch {
          return '';
        }
      })
      .filter((target) => /^\/tmp\/icap_lock_[\w-]+\.\w+$/.test(target));
  } catch {
    return [];
  }
}

function removeLockFiles(files: readonly string[]): void {
  for (const file of files) fs.rmSync(file, { force: true });
}
