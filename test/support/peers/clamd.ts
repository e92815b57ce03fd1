// A private clamd for tests: its own temp dir, a UNIX socket, and an offline signature database
// generated at start with sigtool (nothing binary is committed): the EICAR test file by MD5 and a
// body marker as an .ndb hex pattern. Loads in about a second because the DB has two entries.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ensureBinary, startDaemon, tempDir, type Daemon } from './common.js';

/** The EICAR anti-virus test file (68 bytes), assembled so no scanner flags this source file. */
export const EICAR = ['X5O!P%@AP[4\\PZX54(P^)7CC)7}$', 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'].join('');
/** A body marker the test DB flags as `DlpProxy.TestMarker.UNOFFICIAL` wherever it appears. */
export const VIRUS_MARKER = 'DLP-PROXY-TEST-VIRUS-MARKER-7f3a';
export const EICAR_NAME = 'Eicar-Test-Signature.UNOFFICIAL';
export const MARKER_NAME = 'DlpProxy.TestMarker.UNOFFICIAL';

export interface Clamd {
  socket: string;
  dir: string;
  stop(): Promise<void>;
}

export async function startClamd(): Promise<Clamd> {
  const clamd = ensureBinary('clamd', ['clamav-daemon', 'clamav']);
  const sigtool = ensureBinary('sigtool', ['clamav']);
  const dir = tempDir('clamd');
  const db = path.join(dir, 'db');
  fs.mkdirSync(db);
  fs.writeFileSync(path.join(dir, 'eicar.com'), EICAR);
  const md5 = execFileSync(sigtool, ['--md5', path.join(dir, 'eicar.com')], { encoding: 'utf8' }).trim();
  // sigtool names the entry after the file; give it the conventional EICAR name.
  fs.writeFileSync(path.join(db, 'test.hdb'), md5.replace(/:[^:]*$/, ':Eicar-Test-Signature') + '\n');
  fs.writeFileSync(path.join(dir, 'marker.txt'), VIRUS_MARKER);
  const hex = execFileSync(sigtool, ['--hex-dump'], { input: VIRUS_MARKER, encoding: 'utf8' }).trim();
  fs.writeFileSync(path.join(db, 'test.ndb'), `DlpProxy.TestMarker:0:*:${hex}\n`);
  const socket = path.join(dir, 'clamd.sock');
  const conf = path.join(dir, 'clamd.conf');
  fs.writeFileSync(
    conf,
    [
      'Foreground yes',
      `LocalSocket ${socket}`,
      `DatabaseDirectory ${db}`,
      `LogFile ${path.join(dir, 'clamd.log')}`,
      `PidFile ${path.join(dir, 'clamd.pid')}`,
      `TemporaryDirectory ${dir}`,
      'User root',
      'StreamMaxLength 20M',
      'MaxThreads 4',
      'SelfCheck 0',
      'Bytecode no',
      '',
    ].join('\n'),
  );
  const daemon = startDaemon('clamd', clamd, ['-c', conf], { cwd: dir });
  try {
    await waitForPing(socket, daemon, 30_000);
  } catch (err) {
    await daemon.stop();
    throw err;
  }
  return {
    socket,
    dir,
    async stop() {
      await daemon.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitForPing(socket: string, daemon: Daemon, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (daemon.child.exitCode !== null) throw new Error(`clamd exited: ${daemon.output()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(socket);
      let got = '';
      s.on('connect', () => s.write('zPING\0'));
      s.on('data', (d) => (got += d.toString()));
      s.on('close', () => resolve(got.startsWith('PONG')));
      s.on('error', () => resolve(false));
      s.setTimeout(1000, () => s.destroy());
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`clamd did not answer PING within ${timeoutMs} ms: ${daemon.output()}`);
}
