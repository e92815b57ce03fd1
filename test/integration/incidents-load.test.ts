// Load (issue 15): 1,000 violations per second for 30 s into a proxy that records incidents, timed
// against a baseline proxy that does not: two `dlp-proxy start` processes (one worker each; lifecycle
// events are per process, so the baseline's violations cannot reach the other's store) under the
// same open-loop load from this process (10 requests every 10 ms, whatever the answers do). The
// two take turns in 1 s slices for 60 s, so whatever else the machine does falls on both alike. Each violation is a policy block (no ICAP,
// no origin): the cheapest exchange there is, so the recording's own cost is the largest share it
// can be. Asserted: no record lost (every 403 is in the store after the SIGTERM drain), and the latency
// with incidents within the baseline's own noise: the median over slices of each slice's p50 (p99)
// no higher than the baseline's 90th percentile of its slices' p50s (p99s), plus 1 ms (2 ms). On a
// quiet machine the baseline's slices agree closely, so a real cost shows; on a busy one (CI runs
// other test files beside this one) the bound widens with the baseline's own spread.
// The figures are written to test-artifacts/incidents-load.json.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/config/index.js';
import { IncidentStore } from '../../src/incidents/index.js';
import { freePort } from '../support/peers/common.js';
import { prebuiltMain } from '../support/prebuilt-proxy.js';
import { tempDir } from '../support/temp-dir.js';

const RATE_PER_S = 1_000;
const TICK_MS = 10;
const SLICE_MS = 1_000;
const SLICES = 60;
const WARMUP_SLICES = 4;
const POLICY = [{ name: 'no-exfil', match: { hosts: ['exfil.example'] }, action: 'block' }];

interface Target {
  name: 'baseline' | 'incidents';
  port: number;
  child: ChildProcess;
  exited: Promise<number | null>;
  agent: http.Agent;
  /** per slice: latencies in ms */
  slices: number[][];
  sent: number;
  blocked: number;
  failed: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

const median = (values: number[]) => percentile([...values].sort((a, b) => a - b), 0.5);

function send(target: Target, slice: number[]): Promise<void> {
  const started = performance.now();
  target.sent++;
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port: target.port, method: 'POST', path: 'http://exfil.example/upload', agent: target.agent, headers: { 'content-type': 'text/plain', 'content-length': '5' } }, (res) => {
      res.resume();
      res.on('end', () => {
        slice.push(performance.now() - started);
        if (res.statusCode === 403) target.blocked++;
        else target.failed++;
        resolve();
      });
    });
    req.on('error', () => {
      target.failed++;
      resolve();
    });
    req.end('bytes');
  });
}

/** `dlp-proxy start` in one process, answering once it listens. */
async function startProxy(name: Target['name'], caDir: string, incidents: Record<string, unknown>): Promise<Target> {
  const port = await freePort();
  const file = path.join(tempDir('dlp-proxy-incidents-load-'), 'config.yaml');
  const doc = { workers: 1, proxy: { port }, admin: { enabled: false }, icapServer: { enabled: false }, services: {}, policy: POLICY, ca: { dir: caDir }, incidents, log: { level: 'warn', format: 'json' } };
  fs.writeFileSync(file, YAML.stringify(doc));
  // from the run's transpiled build (prebuilt-proxy.ts), as `npm start` runs it: no tsx loader
  const child = spawn(process.execPath, [await prebuiltMain(), 'start', '--config', file], { cwd: packageRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString('utf8')));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'GET', path: 'http://exfil.example/' }, (res) => {
        res.resume();
        resolve(res.statusCode === 403);
      });
      req.on('error', () => resolve(false));
      req.end();
    });
    if (up) break;
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`${name} proxy did not start: ${output}`);
    await sleep(100);
  }
  // the probe that answered 403 was a violation too
  return { name, port, child, exited, agent: new http.Agent({ keepAlive: true, maxSockets: 64 }), slices: [], sent: 0, blocked: 1, failed: 0 };
}

describe('incidents under load', () => {
  const caDir = tempDir('dlp-proxy-incidents-load-ca-');
  const dir = tempDir('dlp-proxy-incidents-load-');
  const targets: Target[] = [];
  beforeAll(async () => {
    targets.push(await startProxy('baseline', caDir, { enabled: false }), await startProxy('incidents', caDir, { dir }));
  });
  afterAll(async () => {
    for (const t of targets) {
      t.agent.destroy();
      if (t.child.exitCode === null && t.child.signalCode === null) t.child.kill('SIGKILL');
      await t.exited;
    }
  });

  it('records 1,000 violations per second for 30 s with no record lost and no effect on latency beyond noise', { timeout: 180_000 }, async () => {
    const [baseline, recorded] = targets as [Target, Target];
    const inFlight: Array<Promise<void>> = [];
    const perTick = (RATE_PER_S * TICK_MS) / 1000;
    /** One slice of open-loop load: each tick's requests go out on schedule, late ticks catch up at once. */
    const runSlice = async (target: Target, slice: number[]) => {
      const sliceStart = performance.now();
      for (let tick = 0; tick < SLICE_MS / TICK_MS; tick++) {
        const wait = sliceStart + tick * TICK_MS - performance.now();
        if (wait > 1) await sleep(wait);
        for (let i = 0; i < perTick; i++) inFlight.push(send(target, slice));
      }
      await sleep(Math.max(0, sliceStart + SLICE_MS - performance.now()));
    };
    // warm both at the same rate (JIT, sockets, the store's first pages), unmeasured
    for (let s = 0; s < WARMUP_SLICES; s++) await runSlice(s % 2 === 0 ? recorded : baseline, []);
    await Promise.all(inFlight.splice(0));
    const warmed = { recorded: recorded.sent, baseline: baseline.sent };

    for (let s = 0; s < SLICES; s++) {
      const target = s % 2 === 0 ? recorded : baseline;
      const slice: number[] = [];
      target.slices.push(slice);
      await runSlice(target, slice);
    }
    await Promise.all(inFlight);

    // the SIGTERM drain writes what is queued; then the file is read as the next start would
    for (const t of targets) {
      t.agent.destroy();
      t.child.kill('SIGTERM');
      expect(await t.exited).toBe(0);
    }
    const store = new IncidentStore({ dir, retentionDays: 90, maxBytes: 1 << 30 });
    const stored = store.count();
    const storeBytes = store.sizeBytes();
    store.close();
    const summary = (t: Target) => {
      const all = t.slices.flat().sort((a, b) => a - b);
      const sliceP50 = t.slices.map((s) => percentile([...s].sort((a, b) => a - b), 0.5));
      const sliceP99 = t.slices.map((s) => percentile([...s].sort((a, b) => a - b), 0.99));
      const round = (v: number) => Math.round(v * 100) / 100;
      return {
        requests: t.slices.flat().length,
        blocked: t.blocked,
        failed: t.failed,
        p50Ms: round(percentile(all, 0.5)),
        p99Ms: round(percentile(all, 0.99)),
        medianSliceP50Ms: round(median(sliceP50)),
        p90SliceP50Ms: round(percentile([...sliceP50].sort((a, b) => a - b), 0.9)),
        medianSliceP99Ms: round(median(sliceP99)),
        p90SliceP99Ms: round(percentile([...sliceP99].sort((a, b) => a - b), 0.9)),
        sliceP50Ms: sliceP50.map(round),
      };
    };
    const figures = { ratePerS: RATE_PER_S, slices: SLICES, sliceMs: SLICE_MS, baseline: summary(baseline), incidents: { ...summary(recorded), stored, storeBytes } };
    fs.mkdirSync(path.join(packageRoot, 'test-artifacts'), { recursive: true });
    fs.writeFileSync(path.join(packageRoot, 'test-artifacts', 'incidents-load.json'), `${JSON.stringify(figures, null, 2)}\n`);

    // the load was what it says: 30 s at 1,000 violations per second, every one answered 403
    expect(recorded.sent - warmed.recorded).toBe((SLICES / 2) * RATE_PER_S);
    expect(baseline.sent - warmed.baseline).toBe((SLICES / 2) * RATE_PER_S);
    expect(recorded.failed).toBe(0);
    expect(baseline.failed).toBe(0);
    // no record lost (the warm-up's included)
    expect(stored).toBe(recorded.blocked);
    // latency within noise of the baseline
    const b = figures.baseline;
    const r = figures.incidents;
    expect(r.medianSliceP50Ms).toBeLessThanOrEqual(b.p90SliceP50Ms + 1);
    expect(r.medianSliceP99Ms).toBeLessThanOrEqual(b.p90SliceP99Ms + 2);
  });
});
