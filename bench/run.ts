// The load suite: `npm run bench` runs every scenario of bench/scenarios/ against one origin in one
// run (so the results are ratios), then the slow/fast-client memory check, and writes
// bench/results/<date>.json, bench/RESULTS.md and bench/results/throughput.svg.
//   npm run bench -- --quick            smoke run (0.75 s a scenario, 16 MiB transfers, 40 bodies uploaded
//                                       again, 128 MiB memory check; CI)
//   npm run bench -- --only REGEX       only the scenarios whose name matches
//   npm run bench -- --no-memory        skip the slow/fast-client check
//   npm run bench -- --profile A,B      run dlp-proxy scenarios A and B once more, CPU-profiled
//                                       (V8 profiler over the measured phase, and its allocations
//                                       sampled: bytes per request; summary in RESULTS.md);
//                                       a full run profiles the pass and the scan path by default
//                                       (passthrough-http-1k, scanned-upload-cicap-cold); --profile ''
//                                       profiles nothing
//   npm run bench -- --warmup-ms N      one warm-up cycle lasts N ms (default 2500; quick: 250)
//   npm run bench -- --warmup-cycles N  warm up in cycles until the target's CPU per request settles
//                                       (no longer 10 % below the best cycle before), at most N
//                                       (default 8; quick: 1)
//   npm run bench -- --transfer-size S  cut the large transfers to S (e.g. 16MiB; quick: 16 MiB)
//   npm run bench -- --render FILE      only write RESULTS.md and the chart again from a results JSON
//   npm run bench -- --ab DIR --only REGEX [--rounds N]
//                                       this tree's build against another build's dist DIR, in
//                                       alternating rounds (default 6); writes bench/results/ab.md
//   BENCH_PROXY_NODE_FLAGS='--trace-opt --trace-deopt' BENCH_PROXY_STDOUT=FILE npm run bench -- ...
//                                       node flags for each proxy under test (dlp-proxy, the bare
//                                       node:http proxy), dlp-proxy's stdout to FILE
// Load goes to 127.0.0.1 only; every scenario stops by itself; everything started is stopped at the
// end, on an error, and on SIGINT/SIGTERM.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startCicap, type Cicap } from '../test/support/peers/cicap.js';
import { runAbRounds } from './lib/ab-rounds.js';
import { onStopAll, repoRoot, stopAll } from './lib/children.js';
import { heapProfileFile, summariseCpuProfile, summariseHeapProfile, type ProfileSummary } from './lib/cpu-profile.js';
import { ensureBuilt, prepareProxyCa } from './lib/dlp-proxy.js';
import { machineFacts } from './lib/machine.js';
import { startOrigin } from './lib/origin.js';
import { formatRow, renderResultsMarkdown, type RunResults } from './lib/report.js';
import { runScenario, type RunEnv } from './lib/run-scenario.js';
import { renderThroughputSvg } from './lib/svg-chart.js';
import { makeTlsMaterial } from './lib/tls-material.js';
import { scenarios } from './scenarios/index.js';
import { parseBytes, runMemoryCheck, type MemoryCheckResult } from './slow-client.js';

const MiB = 1024 * 1024;

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    'no-memory': { type: 'boolean', default: false },
    profile: { type: 'string' },
    'duration-ms': { type: 'string' },
    'warmup-ms': { type: 'string' },
    'warmup-cycles': { type: 'string' },
    'transfer-size': { type: 'string' },
    render: { type: 'string' },
    ab: { type: 'string' },
    rounds: { type: 'string' },
  },
});
const quick = args.quick;
// 5 s measured per scenario (the warm-up before it: see warmUp in bench/lib/run-scenario.ts); quick: under 90 s in CI
const durationMs = Number(args['duration-ms'] ?? (quick ? 750 : 5000));
const warmupMs = Number(args['warmup-ms'] ?? (quick ? 250 : 2500));
const warmupCycles = Number(args['warmup-cycles'] ?? (quick ? 1 : 8));
const only = args.only ? new RegExp(args.only) : undefined;
/** The pass and the scan path (issue 12 keeps their profiles in the results). */
const DEFAULT_PROFILES = ['passthrough-http-1k', 'scanned-upload-cicap-cold'];
const profiled = args.profile !== undefined ? args.profile.split(',').filter((name) => name !== '') : quick || only ? [] : DEFAULT_PROFILES;
const transferMaxBytes = args['transfer-size'] ? parseBytes(args['transfer-size']) : quick ? 16 * MiB : Number.MAX_SAFE_INTEGER;
const benchDir = path.join(repoRoot, 'bench');
const resultsDir = path.join(benchDir, 'results');

const controller = new AbortController();
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write(`\n${signal}: stopping the current scenario and everything started\n`);
    controller.abort();
  });
}

/** One c-icap (dlp and av, with its clamd) for every scenario that needs it, started on first use. */
function sharedCicap(): () => Promise<Cicap> {
  let starting: Promise<Cicap> | undefined;
  return () => {
    starting ??= startCicap({ services: ['dlp', 'av'] }).then((cicap) => {
      onStopAll(() => cicap.stop());
      return cicap;
    });
    return starting;
  };
}

function writeReport(results: RunResults, jsonFile: string): void {
  const standalone = fs
    .readdirSync(resultsDir)
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => ({ file: `results/${f}`, title: /^# (.+)$/m.exec(fs.readFileSync(path.join(resultsDir, f), 'utf8'))?.[1] ?? f }));
  fs.writeFileSync(path.join(benchDir, 'RESULTS.md'), renderResultsMarkdown(results, path.relative(benchDir, jsonFile), standalone));
  fs.writeFileSync(path.join(resultsDir, 'throughput.svg'), renderThroughputSvg(results));
  process.stdout.write(`wrote bench/RESULTS.md, bench/results/throughput.svg and ${path.relative(repoRoot, jsonFile)}\n`);
}

async function main(): Promise<number> {
  if (args.render) {
    writeReport(JSON.parse(fs.readFileSync(args.render, 'utf8')) as RunResults, path.resolve(args.render));
    return 0;
  }
  const started = Date.now();
  const machine = machineFacts();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'dlp-proxy-bench-'));
  try {
    process.stdout.write(`dlp-proxy bench (${quick ? 'quick' : 'full'}): ${machine.cores} cores, Node ${machine.node}, kernel ${machine.kernel}, squid ${machine.squid}\n`);
    const tls = makeTlsMaterial(path.join(work, 'tls'));
    const caDir = path.join(work, 'proxy-ca');
    const proxyCaPem = await prepareProxyCa(caDir);
    // the build (tsc, ~15 s of both cores) before anything is measured: run inside the first
    // dlp-proxy scenario, it left that scenario's numbers far below the same scenario run again
    ensureBuilt();
    const origin = await startOrigin(tls);
    const env: RunEnv = {
      origin,
      tls,
      proxyCaPem,
      files: { caDir, originCaFile: tls.originCaFile, workDir: work },
      cicap: sharedCicap(),
      durationMs,
      warmupMs,
      warmupCycles,
      transferMaxBytes,
      repeatBodiesMax: quick ? 40 : Number.MAX_SAFE_INTEGER,
      signal: controller.signal,
    };

    const selected = scenarios.filter((s) => (!only || only.test(s.name)) && !(quick && s.fullOnly));
    if (args.ab !== undefined) {
      const lines = await runAbRounds(selected, env, args.ab, Number(args.rounds ?? 6), (line) => process.stdout.write(`${line}\n`));
      const report = [`# A/B of two builds (${machine.date.slice(0, 16)}, ${machine.cores} cores, load average ${os.loadavg()[0]?.toFixed(2)} at the end)`, '', ...lines, ''].join('\n');
      fs.mkdirSync(resultsDir, { recursive: true });
      fs.writeFileSync(path.join(resultsDir, 'ab.md'), report);
      process.stdout.write(`${report}wrote bench/results/ab.md\n`);
      await origin.stop();
      return 0;
    }
    const rows = [];
    for (const [i, scenario] of selected.entries()) {
      if (controller.signal.aborted) break;
      const t0 = Date.now();
      process.stdout.write(`[${i + 1}/${selected.length}] ${scenario.name.padEnd(32)} `);
      const row = await runScenario(scenario, env);
      rows.push(row);
      process.stdout.write(`${formatRow(row)}  (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
    }

    const profiles: ProfileSummary[] = [];
    for (const name of profiled) {
      if (controller.signal.aborted) break;
      const scenario = scenarios.find((s) => s.name === name);
      // the cli launch has no IPC channel to start and stop the profiler
      if (!scenario || scenario.target.kind !== 'dlp-proxy' || scenario.target.launch === 'cli') throw new Error(`--profile takes names of dlp-proxy scenarios run by bench/lib/proxy-child.mjs, not ${name}`);
      const cpuProfileFile = path.join(resultsDir, `${scenario.name}.cpuprofile`);
      fs.mkdirSync(resultsDir, { recursive: true });
      process.stdout.write(`[profile] ${scenario.name.padEnd(32)} `);
      const row = await runScenario(scenario, { ...env, cpuProfileFile });
      process.stdout.write(`${formatRow(row)}\n`);
      if (row.status !== 'ok') {
        // a scenario that cannot run here (c-icap missing) has no profile: the report says which were taken
        process.stdout.write(`(no profile of ${scenario.name}: ${row.reason})\n`);
        continue;
      }
      const profile = summariseCpuProfile(cpuProfileFile, scenario.name, 25);
      const heapFile = heapProfileFile(cpuProfileFile);
      profile.allocation = summariseHeapProfile(heapFile, row.load?.requests ?? 0);
      // the summary is what the results keep: the raw heap profile is megabytes of call tree
      fs.rmSync(heapFile, { force: true });
      profiles.push(profile);
      process.stdout.write(`${profile.lines.join('\n')}\n${profile.allocation.lines.join('\n')}\n(profile for Chrome DevTools / speedscope: ${path.relative(repoRoot, cpuProfileFile)})\n`);
    }

    let memory: MemoryCheckResult[] = [];
    if (!args['no-memory'] && !controller.signal.aborted) {
      const sizeBytes = (quick ? 128 : 512) * MiB;
      memory = await runMemoryCheck({
        sizeBytes,
        slowRateBytesPerSec: (quick ? 48 : 12) * MiB,
        files: env.files,
        origin,
        signal: controller.signal,
        progress: (line) => process.stdout.write(`${line}\n`),
      });
    }
    await origin.stop();

    const results: RunResults = { machine, mode: quick ? 'quick' : 'full', durationMs, warmupMs, warmupCycles, wallSeconds: (Date.now() - started) / 1000, scenarios: rows, memory, profiles };
    fs.mkdirSync(resultsDir, { recursive: true });
    const day = machine.date.slice(0, 10);
    const complete = !quick && !only && !args['duration-ms'] && !args['warmup-ms'] && !controller.signal.aborted;
    const jsonFile = path.join(resultsDir, complete ? `${day}.json` : quick ? `${day}-quick.json` : `${day}-partial.json`);
    fs.writeFileSync(jsonFile, `${JSON.stringify(results, null, 2)}\n`);
    if (complete) {
      writeReport(results, jsonFile);
    } else {
      process.stdout.write(`wrote ${path.relative(repoRoot, jsonFile)} (RESULTS.md is written by a full run of every scenario)\n`);
    }
    process.stdout.write(`done in ${results.wallSeconds.toFixed(0)} s\n`);
    // a row that fails by a known defect of its target (squid bug 5352) is a result, not a bench failure
    const knownToFail = new Set(scenarios.filter((s) => s.knownDefect).map((s) => s.name));
    const failed = rows.filter((r) => r.status === 'failed' && !knownToFail.has(r.name)).length + memory.filter((m) => m.status === 'failed').length;
    return controller.signal.aborted ? 130 : failed > 0 ? 1 : 0;
  } finally {
    await stopAll();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  async (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    await stopAll();
    process.exit(1);
  },
);
