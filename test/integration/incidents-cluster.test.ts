// The incident store in cluster mode, as an operator runs it: `dlp-proxy start` with
// workers: 2 as a child process. Card-number uploads are blocked through both workers; each block's
// incident id (x-dlp-incident) must be in the primary's store after a SIGHUP reload (the old
// workers drained and flushed their queues to the primary) and after a SIGTERM drain (queued
// records written before the exit, exit code 0). batchMs is long on purpose: at each signal the
// workers still hold records that only their flush can deliver. The two writers of this test are
// the two worker processes; they send to the primary, the store's one owner (a second process
// opening the file would be a second writer SQLite would serialise, and the reload would briefly
// have four).
import crypto from 'node:crypto';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { STORE_FILE } from '../../src/incidents/index.js';
import { CARD } from '../support/enforcement-suite.js';
import { startOrigin, type Origin } from '../support/origin.js';
import { proxyRequest } from '../support/proxy-client.js';
import { clusterConfig, startProxyProcess, type ProxyProcess } from '../support/proxy-process.js';
import { tempDir } from '../support/temp-dir.js';

const caDir = tempDir('dlp-proxy-incidents-ca-');
let proc: ProxyProcess | undefined;

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
    await proc?.kill();
  });
  afterAll(async () => {
    await origin?.close();
  });

  it('keeps every block of both workers through a SIGHUP reload and a SIGTERM drain', { timeout: 120_000 }, async () => {
    const dir = path.join(tempDir('dlp-proxy-incidents-'), 'store');
    const doc = await clusterConfig(caDir, { admin: { enabled: false }, incidents: { dir, batchMs: 4_000 } });
    proc = await startProxyProcess(doc, 'cluster started');
    const { lines } = proc;
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
    // the violation lines come through the process' stdout, which may trail its replies
    await expect.poll(() => new Set(lines.filter((l) => l.log === 'violation').map((l) => l.worker)).size).toBe(2);

    // SIGHUP: violations keep coming while the workers are replaced one at a time
    proc.child.kill('SIGHUP');
    let reloading = true;
    const during = (async () => {
      while (reloading) await upload();
    })();
    await proc.waitFor((l) => l.msg === 'reload done', 60_000);
    reloading = false;
    await during;
    expect(await proc.waitFor((l) => l.msg === 'drained', 10_000, 2)).toHaveLength(2);
    const beforeTerm = [...blocked];
    // the replaced workers flushed at their drain; the new ones write within batchMs
    await eventually(() => beforeTerm.every((id) => storedIds(dir).has(id)), 10_000);
    const afterReload = storedIds(dir);
    expect(beforeTerm.filter((id) => !afterReload.has(id))).toEqual([]);

    // SIGTERM right after a burst: the records are still in the workers' queues (batchMs 4 s)
    for (let i = 0; i < 20; i++) await upload();
    const burst = blocked.slice(beforeTerm.length);
    expect(burst.filter((id) => storedIds(dir).has(id)).length).toBeLessThan(burst.length);
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
    const final = storedIds(dir);
    expect(blocked.filter((id) => !final.has(id))).toEqual([]);
    expect(final.size).toBe(new Set(blocked).size);
    expect(lines.filter((l) => l.log === 'incidents')).toEqual([]);
  });
});
