// One scenario from start to stop: check what it needs, start its target (nothing, dlp-proxy,
// squid or the bare node:http reference proxy) against the run's origin, probe, warm up, measure the load while sampling the target's
// process tree, stop the target. Whatever happens, the target is stopped before this returns.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, which } from '../../test/support/peers/common.js';
import { forkChild } from './children.js';
import { startDlpProxy, type ProxyRunFiles } from './dlp-proxy.js';
import { runHttpLoad } from './http-load.js';
import { runNodeLoad } from './node-load.js';
import type { OriginProcess } from './origin.js';
import { ProcSampler, snapshot } from './proc-stats.js';
import { CERTGEN, startSquid } from './squid.js';
import type { TlsMaterial } from './tls-material.js';
import type { LoadResult, Scenario, ScenarioResult } from './types.js';

export interface RunEnv {
  origin: OriginProcess;
  tls: TlsMaterial;
  proxyCaPem: string;
  files: ProxyRunFiles;
  durationMs: number;
  warmupMs: number;
  signal: AbortSignal;
  /** When set, the measured phase of a dlp-proxy scenario is CPU-profiled into this .cpuprofile file. */
  cpuProfileFile?: string;
}

interface Started {
  pid?: number;
  proxyPort?: number;
  /** The CA the client must trust for HTTPS. */
  clientCa: string;
  /** IPC to the proxy child (dlp-proxy only). */
  request?<T>(type: string, timeoutMs?: number): Promise<T>;
  stop(): Promise<void>;
}

interface OriginStats {
  connections: number;
  requests: number;
}

function message(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 300);
}

/** Why the scenario cannot run on this machine at all, checked before anything is started. */
function missing(scenario: Scenario): string | undefined {
  if (scenario.target.kind !== 'squid') return undefined;
  if (!which('squid')) return 'squid is not installed (apt-get install squid-openssl)';
  if (scenario.target.bump && !fs.existsSync(CERTGEN)) return `this squid cannot ssl-bump (${CERTGEN} missing: install squid-openssl, not squid)`;
  return undefined;
}

async function start(scenario: Scenario, env: RunEnv): Promise<Started> {
  const target = scenario.target;
  switch (target.kind) {
    case 'direct':
      return { clientCa: env.tls.originCaPem, stop: async () => undefined };
    case 'dlp-proxy': {
      const doc = target.config ? await target.config({ freePort }) : {};
      const proxy = await startDlpProxy(scenario.name, env.files, doc);
      return { pid: proxy.pid, proxyPort: proxy.port, clientCa: env.proxyCaPem, request: (type, timeoutMs) => proxy.request(type, timeoutMs), stop: () => proxy.stop() };
    }
    case 'node-proxy': {
      const proxy = await forkChild<{ port: number }>('node-proxy', fileURLToPath(new URL('./node-proxy-child.ts', import.meta.url)), []);
      return { pid: proxy.pid, proxyPort: proxy.ready.port, clientCa: env.tls.originCaPem, stop: () => proxy.stop() };
    }
    case 'squid': {
      const squid = await startSquid(path.join(env.files.workDir, `squid-${scenario.name}`), target.bump ? env.tls : undefined);
      return { pid: squid.pid, proxyPort: squid.port, clientCa: env.tls.squidCaPem, stop: () => squid.stop() };
    }
  }
}

function load(scenario: Scenario, env: RunEnv, started: Started, durationMs: number): Promise<LoadResult> {
  const common = { proxyPort: started.proxyPort, path: scenario.load.path, connections: scenario.load.connections, durationMs, signal: env.signal };
  const { protocol } = scenario.load;
  if (generatorOf(scenario) === 'autocannon') return runHttpLoad({ ...common, originPort: env.origin.ready.httpPort });
  return runNodeLoad({ ...common, protocol, originPort: protocol === 'http' ? env.origin.ready.httpPort : env.origin.ready.httpsPort, ca: started.clientCa });
}

function generatorOf(scenario: Scenario): 'autocannon' | 'node' {
  return scenario.load.protocol === 'https' ? 'node' : (scenario.load.generator ?? 'autocannon');
}

export async function runScenario(scenario: Scenario, env: RunEnv): Promise<ScenarioResult> {
  const row: ScenarioResult = { name: scenario.name, title: scenario.title, target: scenario.target.kind, status: 'ok', baseline: scenario.baseline };
  const absent = missing(scenario);
  if (absent) return { ...row, status: 'not-available', reason: absent };

  let started: Started;
  try {
    started = await start(scenario, env);
  } catch (err) {
    return { ...row, status: 'failed', reason: `setup: ${message(err)}` };
  }
  try {
    const why = scenario.probe ? await scenario.probe({ proxyPort: started.proxyPort, originHttpPort: env.origin.ready.httpPort }) : undefined;
    if (why) return { ...row, status: 'not-available', reason: why };

    if (env.warmupMs > 0) await load(scenario, env, started, env.warmupMs);
    const profiling = env.cpuProfileFile !== undefined && started.request !== undefined;
    if (profiling) await started.request!('profile-start', 5000);
    const originBefore = await env.origin.request<OriginStats>('stats');
    const sampler = started.pid !== undefined ? new ProcSampler(started.pid) : undefined;
    const originCpu = snapshot(env.origin.pid).cpuSeconds;
    const loadgenCpu = process.cpuUsage();
    const result = await load(scenario, env, started, env.durationMs);
    const used = sampler?.stop();
    const loadgen = process.cpuUsage(loadgenCpu);
    const originAfter = await env.origin.request<OriginStats>('stats');
    row.origin = { connections: originAfter.connections - originBefore.connections, requests: originAfter.requests - originBefore.requests };
    if (profiling) {
      const { profile, error } = await started.request!<{ profile?: unknown; error?: string }>('profile-stop', 30_000);
      if (!profile) throw new Error(`CPU profile: ${error}`);
      fs.writeFileSync(env.cpuProfileFile!, JSON.stringify(profile));
    }

    row.load = { ...result, connections: scenario.load.connections, protocol: scenario.load.protocol, path: scenario.load.path, generator: generatorOf(scenario) };
    if (used) row.proxy = { rssPeakBytes: used.rssPeakBytes, cpuSeconds: used.cpuSeconds };
    row.originCpuSeconds = snapshot(env.origin.pid).cpuSeconds - originCpu;
    row.loadgenCpuSeconds = (loadgen.user + loadgen.system) / 1e6;
    row.loadAverage = Math.round(os.loadavg()[0]! * 100) / 100;
    if (env.signal.aborted) return { ...row, status: 'failed', reason: 'interrupted' };
    if (result.requests === 0) return { ...row, status: 'failed', reason: `no request completed (${result.errors} errors)` };
    return row;
  } catch (err) {
    return { ...row, status: 'failed', reason: message(err) };
  } finally {
    await started.stop();
  }
}
