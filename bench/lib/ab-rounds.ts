// `npm run bench -- --ab DIR --only REGEX [--rounds N]`: this tree's build (dist/) against another
// build of dlp-proxy (DIR: a `dist` directory compiled from another commit, e.g. `git worktree add
// /tmp/old HEAD~3 && cd /tmp/old && npx tsc -p tsconfig.build.json`) on the same load, in
// alternating rounds (A B B A A B ...), so that the machine's drift over minutes falls on both.
// A single run on a shared 2-core machine moves by ±30 %; the ratio of medians over rounds does
// not. Only dlp-proxy scenarios that proxy-child.mjs runs take part (it loads BENCH_PROXY_DIST).
import path from 'node:path';
import { formatRow } from './report.js';
import { runScenario, type RunEnv } from './run-scenario.js';
import type { Scenario, ScenarioResult } from './types.js';

interface Sample {
  reqPerSec: number;
  /** proxy CPU per request, µs */
  cpuUs: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

function sampleOf(row: ScenarioResult): Sample | undefined {
  if (row.status !== 'ok' || !row.load || !row.proxy || row.load.requests === 0) return undefined;
  return { reqPerSec: row.load.reqPerSec, cpuUs: (row.proxy.cpuSeconds / row.load.requests) * 1e6 };
}

/** Runs each scenario `rounds` times on each build, alternating; returns the report's lines. */
export async function runAbRounds(selected: readonly Scenario[], env: RunEnv, otherDist: string, rounds: number, progress: (line: string) => void): Promise<string[]> {
  const builds = [
    { name: 'A (this tree)', dist: undefined },
    { name: `B (${otherDist})`, dist: path.resolve(otherDist) },
  ];
  const lines = [
    `A/B: A is this tree's dist/, B is ${otherDist}; ${rounds} rounds each, alternating (ABBA); per round req/s and the proxy's CPU per request (from /proc).`,
    '',
    '| scenario | A req/s (median) | B req/s (median) | A ÷ B req/s: median (min-max) | A CPU µs/req | B CPU µs/req | A ÷ B CPU per request: median (min-max) |',
    '|---|--:|--:|--:|--:|--:|--:|',
  ];
  for (const scenario of selected) {
    if (scenario.target.kind !== 'dlp-proxy' || scenario.target.launch === 'cli') {
      progress(`${scenario.name}: skipped (not a dlp-proxy scenario run by proxy-child.mjs)`);
      continue;
    }
    const samples: Sample[][] = [[], []];
    for (let round = 0; round < rounds && !env.signal.aborted; round++) {
      // ABBA: each build goes first in half the rounds
      const order = round % 2 === 0 ? [0, 1] : [1, 0];
      for (const which of order) {
        const build = builds[which]!;
        if (build.dist === undefined) delete process.env['BENCH_PROXY_DIST'];
        else process.env['BENCH_PROXY_DIST'] = build.dist;
        const row = await runScenario(scenario, env);
        progress(`[ab ${round + 1}/${rounds}] ${scenario.name} ${build.name}: ${formatRow(row)}`);
        const sample = sampleOf(row);
        if (!sample) throw new Error(`${scenario.name} on ${build.name} gave no figures: ${row.reason ?? row.status}`);
        samples[which]!.push(sample);
      }
    }
    delete process.env['BENCH_PROXY_DIST'];
    const [a, b] = samples as [Sample[], Sample[]];
    const n = Math.min(a.length, b.length);
    if (n === 0) continue;
    // ratios per round (A and B of one round ran minutes apart at most), then their median
    const rateRatios = a.slice(0, n).map((s, i) => s.reqPerSec / b[i]!.reqPerSec);
    const cpuRatios = a.slice(0, n).map((s, i) => s.cpuUs / b[i]!.cpuUs);
    const span = (xs: number[]) => `${median(xs).toFixed(3)} (${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)})`;
    lines.push(
      `| ${scenario.name} | ${median(a.map((s) => s.reqPerSec)).toFixed(0)} | ${median(b.map((s) => s.reqPerSec)).toFixed(0)} | ${span(rateRatios)} | ${median(a.map((s) => s.cpuUs)).toFixed(0)} | ${median(b.map((s) => s.cpuUs)).toFixed(0)} | ${span(cpuRatios)} |`,
    );
  }
  return lines;
}
