// The incident store in cluster mode, as an operator runs it: `node src/main.ts start` with
// workers: 2 as a child process. Card-number uploads are blocked through both workers; each block's
// incident id (x-dlp-incident) must be in the primary's store after a SIGHUP reload (the old
// workers drained and flushed their queues to the primary) and after a SIGTERM drain (queued
// records written before the exit, exit code 0). batchMs is long on purpose: at each signal the
// workers still hold records that only their flush can deliver. The two writers of this test are
// the two worker processes; they send to the primary, the store's one owner (a second process
// opening the file would be a second writer SQLite would serialise, and the reload would briefly
// have four).
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import YAML from 'yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/config/index.js';
import { STORE_FILE } from '../../src/incidents/index.js';
import { CARD } from '../support/enforcement-suite.js';
import { startOrigin, type Origin } from '../support/origin.js';
import { proxyRequest } from '../support/proxy-client.js';
import { freePort } from '../support/peers/common.js';
import { tempDir } from '../support/temp-dir.js';

type Line = Record<string, unknown>;

const caDir = tempDir('dlp-proxy-incidents-ca-');
let child: ChildProcess | undefined;

async function start(doc: Record<string, unknown>) {
  const file = path.join(tempDir('dlp-proxy-incidents-cluster-'), 'config.yaml');
  fs.writeFileSync(file, YAML.stringify(doc));
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'start', '--config', file], { cwd: packageRoot, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  child = proc;
  const lines: Line[] = [];
  let stderr = '';
  let rest = '';
  proc.stdout!.on('data', (chunk: Buffer) => {
    const parts = (rest + chunk.toString('utf8')).split('\n');
    rest = parts.pop() ?? '';
    for (const part of parts) if (part.startsWith('{')) lines.push(JSON.parse(part) as Line);
  });
  proc.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const waitFor = async (text: string, timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!lines.some((l) => l.msg === text)) {
      if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`"${text}" not logged (exit ${proc.exitCode}); stderr: ${stderr}`);
      await sleep(25);
    }
  };
  await waitFor('cluster started');
  return { proc, lines, exited, waitFor };
}

/** Incident ids in the store file, read as an operator's sqlite3 would while the proxy writes (WAL). */
function storedIds(dir: string): Set<string> {
  const db = new Database(path.join(dir, STORE_FILE), { readonly: true, fileMustExist: true });
  try {
    return new Set((db.prepare('SELECT incident FROM incidents').all() as Array<{ incident: string }>).map((r) => r.incident));
  } finally {
    db.close();
  }
}

async function eventually(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return;
    await sleep(100);
  }
}

describe('incident store in cluster mode (workers: 2)', () => {
  let origin: Origin;
  beforeAll(async () => {
    origin = await startOrigin();
  });
  afterEach(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      process.kill(-child.pid!, 'SIGKILL');
      await new Promise((resolve) => child!.once('exit', resolve));
    }
  });
  afterAll(async () => {
    await origin?.close();
  });

  it('keeps every block of both workers through a SIGHUP reload and a SIGTERM drain', { timeout: 120_000 }, async () => {
    const icapPort = await freePort();
    const dir = path.join(tempDir('dlp-proxy-incidents-'), 'store');
    const doc = {
      workers: 2,
      proxy: { port: await freePort() },
      admin: { enabled: false },
      ca: { dir: caDir },
      icapServer: { port: icapPort },
      services: { dlp: { urls: [`icap://127.0.0.1:${icapPort}/dlp`] }, av: { urls: [`icap://127.0.0.1:${icapPort}/av`] } },
      incidents: { dir, batchMs: 4_000 },
      log: { format: 'json', level: 'info' },
    };
    const { proc, lines, exited, waitFor } = await start(doc);
    const port = doc.proxy.port;
    const blocked: string[] = [];
    const upload = async () => {
      const body = `card ${CARD} sent by ${crypto.randomUUID()}\n`;
      const reply = await proxyRequest(port, `${origin.url}/upload`, { method: 'POST', body, headers: { 'content-type': 'text/plain' } });
      expect(reply.status).toBe(403);
      blocked.push(String(reply.headers['x-dlp-incident']));
    };

    // a new connection per request: node:cluster hands them to both workers in turn
    for (let i = 0; i < 20; i++) await upload();
    const workers = new Set(lines.filter((l) => l.log === 'violation').map((l) => l.worker));
    expect(workers.size).toBe(2);

    // SIGHUP: violations keep coming while the workers are replaced one at a time
    proc.kill('SIGHUP');
    let reloading = true;
    const during = (async () => {
      while (reloading) await upload();
    })();
    await waitFor('reload done');
    reloading = false;
    await during;
    expect(lines.filter((l) => l.msg === 'drained')).toHaveLength(2);
    const beforeTerm = [...blocked];
    // the replaced workers flushed at their drain; the new ones write within batchMs
    await eventually(() => beforeTerm.every((id) => storedIds(dir).has(id)), 10_000);
    const afterReload = storedIds(dir);
    expect(beforeTerm.filter((id) => !afterReload.has(id))).toEqual([]);

    // SIGTERM right after a burst: the records are still in the workers' queues (batchMs 4 s)
    for (let i = 0; i < 20; i++) await upload();
    const burst = blocked.slice(beforeTerm.length);
    expect(burst.filter((id) => storedIds(dir).has(id)).length).toBeLessThan(burst.length);
    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    const final = storedIds(dir);
    expect(blocked.filter((id) => !final.has(id))).toEqual([]);
    expect(final.size).toBe(new Set(blocked).size);
    expect(lines.filter((l) => l.log === 'incidents')).toEqual([]);
  });
});
