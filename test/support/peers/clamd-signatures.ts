// A signature update for the test clamd, as freshclam makes one: a `daily` database with its own
// version number (an unsigned .cud built by sigtool, so nothing binary is committed and no key is
// needed), put in clamd's database directory, then RELOAD. clamd's VERSION then names it
// (`ClamAV 1.4.6/27481/...`), which is what the built-in service's av ISTag follows.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Clamd } from './clamd.js';
import { ensureBinary } from './common.js';

/** One z-command to clamd over its socket; its answer without the NUL. */
export function clamdCommand(socket: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const conn = net.connect(socket);
    let answer = '';
    conn.on('data', (chunk: Buffer) => (answer += chunk.toString('utf8')));
    conn.on('close', () => resolve(answer.replace(/\0$/, '').trim()));
    conn.on('error', reject);
    conn.setTimeout(10_000, () => conn.destroy(new Error(`clamd did not answer ${command}`)));
    conn.write(`z${command}\0`);
  });
}

/** Install daily database `version` in the running clamd and wait until VERSION names it. */
export async function publishSignatures(clamd: Clamd, version: number): Promise<void> {
  const sigtool = ensureBinary('sigtool', ['clamav']);
  const build = fs.mkdtempSync(path.join(clamd.dir, 'build-'));
  try {
    // sigtool builds from the files of its working directory and wants a COPYING file there
    fs.writeFileSync(path.join(build, 'COPYING'), 'test signatures of dlp-proxy\n');
    const hex = execFileSync(sigtool, ['--hex-dump'], { input: `dlp-proxy signature set ${version}`, encoding: 'utf8' }).trim();
    fs.writeFileSync(path.join(build, 'daily.ndb'), `DlpProxy.Set${version}:0:*:${hex}\n`);
    const empty = path.join(build, 'none');
    fs.mkdirSync(empty);
    // the builder's name is asked on standard input
    execFileSync(sigtool, ['--build=daily.cud', '--unsigned', `--cvd-version=${version}`, '--no-cdiff', `--datadir=${empty}`], { cwd: build, input: 'dlp-proxy\n', stdio: ['pipe', 'ignore', 'ignore'] });
    fs.copyFileSync(path.join(build, 'daily.cud'), path.join(clamd.dir, 'db', 'daily.cud'));
  } finally {
    fs.rmSync(build, { recursive: true, force: true });
  }
  await clamdCommand(clamd.socket, 'RELOAD');
  const deadline = Date.now() + 20_000;
  while (!(await clamdCommand(clamd.socket, 'VERSION')).includes(`/${version}/`)) {
    if (Date.now() > deadline) throw new Error(`clamd did not load daily ${version}: ${await clamdCommand(clamd.socket, 'VERSION')}`);
    await sleep(100);
  }
}
