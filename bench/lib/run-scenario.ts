// One scenario from start to stop: check what it needs, start its target (bench/lib/targets.ts)
// against the run's origin, probe, warm up, measure the load (or the one large transfer, the
// repeated uploads, the slow-origin download) while sampling the target's process tree and
// counting ICAP transactions, stop the target. Whatever happens, the target is stopped before this
// returns.
import fs from 'node:fs';
import os from 'node:os';
import { heapProfileFile } from './cpu-profile.js';
import { accessLinesPerWorker, AppendedText, CicapLogCounter, counterDelta, scrapeProxyCounters, type ProxyCounters } from './icap-count.js';
import { runHttpLoad } from './http-load.js';
import { runNodeLoad } from './node-load.js';
import type { OriginProcess } from './origin.js';
import { ProcSampler, processTree, snapshot } from './proc-stats.js';
import { RepeatUploads } from './repeat-upload-load.js';
import { modeNotInEffect, runSlowDownload } from './slow-download.js';
import { missing, startTarget, type Started, type TargetEnv } from './targets.js';
import { runTransfer } from './transfer-load.js';
import type { DeliveryTiming, IcapCount, LoadResult, Scenario, ScenarioResult } from './types.js';

export interface RunEnv extends TargetEnv {
  origin: OriginProcess;
  durationMs: number;
  /** One warm-up cycle: a load of its own connections, closed at its end. */
  warmupMs: number;
  /** Warm-up cycles at most (1: one cycle, whatever the CPU says). */
  warmupCycles: number;
  /** Transfers larger than this are cut to it (quick runs). */
  transferMaxBytes: number;
  /** Repeated-upload scenarios send at most this many distinct bodies (quick runs). */
  repeatBodiesMax: number;
  signal: AbortSignal;
  /** When set, the measured phase of a dlp-proxy scenario is CPU-profiled into this .cpuprofile file. */
  cpuProfileFile?: string;
}

interface OriginStats {
  connections: number;
  requests: number;
}

/**
 * The load generator stops with requests in flight, which the proxy still finishes (origin fetch,
 * ICAP transaction, c-icap's log line): let them land so both counts of the phase include them.
 */
const settle = () => new Promise((r) => setTimeout(r, 200));

function message(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 300);
}

function load(scenario: Scenario, env: RunEnv, started: Started, durationMs: number): Promise<LoadResult> {
  const common = { proxyPort: started.proxyPort, path: scenario.load.path, connections: scenario.load.connections, durationMs, signal: env.signal };
  const { protocol, upload } = scenario.load;
  if (generatorOf(scenario) === 'autocannon') return runHttpLoad({ ...common, upload, originPort: env.origin.ready.httpPort });
  return runNodeLoad({ ...common, protocol, requestTimeoutMs: scenario.load.requestTimeoutMs, originPort: protocol === 'http' ? env.origin.ready.httpPort : env.origin.ready.httpsPort, ca: started.clientCa });
}

/** The last warm-up cycle was no cheaper per request than 90 % of the best cycle before it. */
export function warmedUp(cpuUsPerRequest: readonly number[]): boolean {
  if (cpuUsPerRequest.length < 2) return false;
  return cpuUsPerRequest.at(-1)! >= 0.9 * Math.min(...cpuUsPerRequest.slice(0, -1));
}

/**
 * Warm up until the JIT has settled. A Node process spends its first seconds under load compiling
 * (TurboFan on V8's background threads: 24 % of dlp-proxy's CPU in a scanned scenario measured
 * after 1 s), and each time the clients' connections close and new ones open, code optimised for
 * the objects of the first ones is thrown away and compiled again. A proxy runs for days: the
 * measured phase is its steady state. So the warm-up is cycles of `warmupMs`, each with
 * connections of its own closed at its end, until a cycle's CPU per request is no longer 10 %
 * below the best cycle before it (squid and the origin settle at the second), at most
 * `warmupCycles`. The row keeps each cycle's CPU per request: the cost of a cold start stays
 * visible.
 */
async function warmUp(scenario: Scenario, env: RunEnv, started: Started): Promise<NonNullable<ScenarioResult['warmup']>> {
  const cpuUsPerRequest: number[] = [];
  for (let cycle = 0; cycle < env.warmupCycles && !env.signal.aborted; cycle++) {
    const before = started.pid !== undefined ? snapshot(started.pid).cpuSeconds : 0;
    const result = await load(scenario, env, started, env.warmupMs);
    await settle();
    if (started.pid === undefined || result.requests === 0) break;
    cpuUsPerRequest.push(Math.round(((snapshot(started.pid).cpuSeconds - before) * 1e6) / result.requests));
    if (warmedUp(cpuUsPerRequest)) break;
  }
  return { cycles: Math.max(1, cpuUsPerRequest.length), cpuUsPerRequest };
}

function generatorOf(scenario: Scenario): 'autocannon' | 'node' {
  return scenario.load.protocol === 'https' ? 'node' : (scenario.load.generator ?? 'autocannon');
}

/** ICAP transactions of the measured phase: the proxy's counters, or c-icap's log for squid. */
class IcapCounting {
  private constructor(
    private readonly started: Started,
    private readonly before: ProxyCounters | undefined,
    private readonly log: CicapLogCounter | undefined,
  ) {}

  static async begin(started: Started): Promise<IcapCounting> {
    const before = started.adminPort !== undefined ? await scrapeProxyCounters(started.adminPort) : undefined;
    return new IcapCounting(started, before, started.cicapAccessLog ? new CicapLogCounter(started.cicapAccessLog) : undefined);
  }

  /** `requests`: what the origin served in the phase, one body each (the load generator's count misses those cut off at the end). */
  async end(requests: number): Promise<IcapCount | undefined> {
    const per = (n: number) => (requests > 0 ? n / requests : 0);
    if (this.before && this.started.adminPort !== undefined) {
      const d = counterDelta(this.before, await scrapeProxyCounters(this.started.adminPort));
      const looked = d.hits + d.misses + d.joins;
      if (d.transactions === 0 && looked === 0) return undefined; // nothing was scanned: passthrough
      const cache = { ...d, hitRate: looked > 0 ? d.hits / looked : 0 };
      return { transactions: d.transactions, perRequest: per(d.transactions), source: 'proxy metrics', cache: { hits: cache.hits, misses: cache.misses, joins: cache.joins, hitRate: cache.hitRate } };
    }
    if (this.log) {
      const n = this.log.count();
      return { transactions: n, perRequest: per(n), source: 'c-icap access log' };
    }
    return undefined;
  }
}

export async function runScenario(scenario: Scenario, env: RunEnv): Promise<ScenarioResult> {
  const row = await measure(scenario, env);
  return row.status === 'failed' && scenario.knownDefect && !env.signal.aborted ? { ...row, reason: `${row.reason}: ${scenario.knownDefect}` } : row;
}

async function measure(scenario: Scenario, env: RunEnv): Promise<ScenarioResult> {
  const row: ScenarioResult = { name: scenario.name, title: scenario.title, target: scenario.target.kind, status: 'ok', baseline: scenario.baseline };
  const absent = missing(scenario) ?? (await scenario.requires?.());
  if (absent) return { ...row, status: 'not-available', reason: absent };
  const transfer = scenario.load.transfer ? { ...scenario.load.transfer, sizeBytes: Math.min(scenario.load.transfer.sizeBytes, env.transferMaxBytes) } : undefined;
  if (transfer) row.transfer = transfer;
  const slow = scenario.load.slowDownload ? { ...scenario.load.slowDownload, sizeBytes: Math.min(scenario.load.slowDownload.sizeBytes, env.transferMaxBytes) } : undefined;
  if (slow) row.slowDownload = slow;

  let started: Started;
  try {
    started = await startTarget(scenario, env);
  } catch (err) {
    return { ...row, status: 'failed', reason: `setup: ${message(err)}` };
  }
  try {
    const why = scenario.probe ? await scenario.probe({ proxyPort: started.proxyPort, originHttpPort: env.origin.ready.httpPort }) : undefined;
    if (why) return { ...row, status: 'not-available', reason: why };

    const repeated = scenario.load.repeatUploads;
    const repeats = repeated ? new RepeatUploads({ ...repeated, bodies: Math.min(repeated.bodies, env.repeatBodiesMax), proxyPort: started.proxyPort!, originPort: env.origin.ready.httpPort, connections: scenario.load.connections, signal: env.signal }) : undefined;
    if (repeats) {
      // the first upload of every body, unmeasured: each is scanned once, by one worker
      const primed = await repeats.prime();
      if (primed.errors + primed.non2xx > 0) return { ...row, status: 'failed', reason: `priming: ${primed.errors} errors, ${primed.non2xx} non-2xx answers` };
      await settle();
    } else if (env.warmupMs > 0 && !transfer && !slow) {
      row.warmup = await warmUp(scenario, env, started);
    }
    const profiling = env.cpuProfileFile !== undefined && started.request !== undefined;
    if (profiling) await started.request!('profile-start', 5000);
    const counting = await IcapCounting.begin(started);
    const originBefore = await env.origin.request<OriginStats>('stats');
    const sampler = started.pid !== undefined ? new ProcSampler(started.pid) : undefined;
    const serviceSampler = started.icapServicePid !== undefined ? new ProcSampler(started.icapServicePid) : undefined;
    const cicapSampler = started.cicapPid !== undefined ? new ProcSampler(started.cicapPid) : undefined;
    if (started.pid !== undefined) row.processes = processTree(started.pid).length;
    const workerLog = started.logFile ? new AppendedText(started.logFile) : undefined;
    const originCpu = snapshot(env.origin.pid).cpuSeconds;
    const loadgenCpu = process.cpuUsage();
    let delivery: DeliveryTiming | undefined;
    let slowError: string | undefined;
    let result: LoadResult;
    if (transfer) {
      result = await runTransfer({ ...transfer, proxyPort: started.proxyPort!, originPort: env.origin.ready.httpPort, deadlineMs: 30_000 + (transfer.sizeBytes / (2 * 1024 * 1024)) * 1000, signal: env.signal });
    } else if (slow) {
      // the origin's own pace, and as long again for the scan and the patience polls
      const deadlineMs = 30_000 + 2 * (slow.sizeBytes / slow.rateBytesPerSec) * 1000;
      const downloaded = await runSlowDownload({ ...slow, proxyPort: started.proxyPort!, originPort: env.origin.ready.httpPort, deadlineMs, signal: env.signal });
      result = downloaded.load;
      slowError = downloaded.error;
      delivery = downloaded.timing;
    } else {
      result = repeats ? await repeats.repeat() : await load(scenario, env, started, env.durationMs);
    }
    const used = sampler?.stop();
    const serviceUsed = serviceSampler?.stop();
    const cicapUsed = cicapSampler?.stop();
    const loadgen = process.cpuUsage(loadgenCpu);
    await settle();
    const originAfter = await env.origin.request<OriginStats>('stats');
    row.origin = { connections: originAfter.connections - originBefore.connections, requests: originAfter.requests - originBefore.requests };
    row.icap = await counting.end(row.origin.requests);
    const perWorker = workerLog ? accessLinesPerWorker(workerLog.text()) : [];
    if (perWorker.length > 0) row.exchangesPerWorker = perWorker;
    if (profiling) {
      const { profile, heap, error } = await started.request!<{ profile?: unknown; heap?: unknown; error?: string }>('profile-stop', 30_000);
      if (!profile || !heap) throw new Error(`CPU profile: ${error}`);
      fs.writeFileSync(env.cpuProfileFile!, JSON.stringify(profile));
      fs.writeFileSync(heapProfileFile(env.cpuProfileFile!), JSON.stringify(heap));
    }

    row.load = { ...result, connections: scenario.load.connections, protocol: scenario.load.protocol, path: scenario.load.path, generator: generatorOf(scenario) };
    if (used) row.proxy = { rssStartBytes: used.rssStartBytes, rssPeakBytes: used.rssPeakBytes, cpuSeconds: used.cpuSeconds, systemSeconds: used.systemSeconds };
    if (cicapUsed) row.cicapCpuSeconds = cicapUsed.cpuSeconds;
    if (serviceUsed) row.icapService = { rssStartBytes: serviceUsed.rssStartBytes, rssPeakBytes: serviceUsed.rssPeakBytes, cpuSeconds: serviceUsed.cpuSeconds };
    row.originCpuSeconds = snapshot(env.origin.pid).cpuSeconds - originCpu;
    row.loadgenCpuSeconds = (loadgen.user + loadgen.system) / 1e6;
    row.loadAverage = Math.round(os.loadavg()[0]! * 100) / 100;
    if (delivery) row.delivery = delivery;
    if (env.signal.aborted) return { ...row, status: 'failed', reason: 'interrupted' };
    if (slowError) return { ...row, status: 'failed', reason: slowError };
    const notInEffect = slow && delivery ? modeNotInEffect(slow, delivery) : undefined;
    if (notInEffect) return { ...row, status: 'not-available', reason: notInEffect };
    if (result.requests === 0) return { ...row, status: 'failed', reason: `no request completed (${result.errors} errors)` };
    if (transfer && result.non2xx > 0) return { ...row, status: 'failed', reason: `the ${transfer.direction} of ${transfer.sizeBytes} bytes did not complete with HTTP 200` };
    return row;
  } catch (err) {
    return { ...row, status: 'failed', reason: message(err) };
  } finally {
    await started.stop();
  }
}
