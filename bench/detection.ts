// Detection benchmark (issue 13): recall, false-positive rate and MiB/s per format on the labelled
// corpus (test/corpus/), for the repository's seed and for seeds the detectors were never tuned
// on, then detector throughput on large bodies: plain text and office documents, one core (the
// built-in service scans in one worker thread). Writes bench/results/detection.md.
// Then the software packages on this machine (npm's cache, ~/.m2), a corpus of negatives nobody
// wrote for the detectors, scanned as `npm start` scans them. The packages and the throughput are
// measured on the build `npm start` runs (tsc's output in dist/, built first), not on the sources
// through tsx, whose keepNames wraps every function made at run time in a __name call (4.8 % of a
// PDF scan's profile in session 16, before the reader made fewer closures).
//   node --import tsx bench/detection.ts [--seeds 13,2027,4242] [--per-kind 2] [--mib 32] [--rounds 3] [--local-mib 1024]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { CUSTOM_KEYWORD_RULE } from '../test/corpus/documents.js';
import { writeCorpus } from '../test/corpus/generate-corpus.js';
import { corpusConfig, scanBytes, scanCorpus, scoreByFormat, type FormatScore } from '../test/corpus/scan-corpus.js';
import { largeBodies, mixedText, packageBodies } from './lib/detection-bodies.js';
import { localPackages } from './lib/local-packages.js';
import { repoRoot } from './lib/children.js';
import { ensureBuilt } from './lib/dlp-proxy.js';

const { values: args } = parseArgs({
  options: { seeds: { type: 'string', default: '13,2027,4242' }, 'per-kind': { type: 'string', default: '2' }, mib: { type: 'string', default: '32' }, rounds: { type: 'string', default: '3' }, 'local-mib': { type: 'string', default: '1024' }, out: { type: 'string', default: 'bench/results/detection.md' } },
});
ensureBuilt();
const load = async <T>(module: string): Promise<T> => (await import(pathToFileURL(path.join(repoRoot, 'dist/src', module)).href)) as T;
const { parseConfig } = await load<typeof import('../src/config/index.js')>('config/index.js');
const { buildDetectorSet } = await load<typeof import('../src/icap-server/detectors/detector-set.js')>('icap-server/detectors/detector-set.js');
const { BodyScan } = await load<typeof import('../src/icap-server/decode/body-scan.js')>('icap-server/decode/body-scan.js');
const { Findings } = await load<typeof import('../src/icap-server/detectors/findings.js')>('icap-server/detectors/findings.js');
const { TextScanner } = await load<typeof import('../src/icap-server/detectors/text-scanner.js')>('icap-server/detectors/text-scanner.js');
const scanBuilt = (...[set, config, bytes, contentType]: Parameters<typeof scanBytes>) => scanBytes(set, config, bytes, contentType, 65536, BodyScan);

const seeds = args.seeds.split(',').map(Number);
const perKind = Number(args['per-kind']);
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

const lines: string[] = [];
const say = (line = '') => {
  lines.push(line);
  process.stdout.write(`${line}\n`);
};

say('# Detection: recall, false positives and throughput per format (issue 13)');
say();
say(`\`node --import tsx bench/detection.ts\` on ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores, Node ${process.version}, load average ${os.loadavg()[0]?.toFixed(2)} at the start. Default detector settings plus the corpus's custom keyword rule and data sets (EDM records, a registered memo). Targets: recall ≥ 98 %, false positives ≤ 1 %, ≥ 50 MiB/s on office documents and ≥ 150 MiB/s on plain text per core. The corpus tables scan with the sources through tsx; the packages and the throughput on large bodies with the build \`npm start\` runs (dist/, tsc's output).`);

const totals = new Map<string, FormatScore[]>();
for (const seed of seeds) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'detection-corpus-'));
  try {
    const manifest = writeCorpus(dir, { seed, perKind });
    const scores = scoreByFormat(await scanCorpus(dir, manifest, corpusConfig(dir, manifest)));
    say();
    say(`## Corpus seed ${seed}${seed === 13 ? ' (the repository corpus, as the test runs it)' : ' (not seen while building the detectors)'}: ${manifest.samples.length} samples`);
    say();
    say('| format | samples | positives | recall | false positives | MiB | MiB/s | misses and false alarms |');
    say('|---|---:|---:|---:|---:|---:|---:|---|');
    for (const s of scores) {
      totals.set(s.format, [...(totals.get(s.format) ?? []), s]);
      const notes = [...s.misses, ...s.falseAlarms].slice(0, 3).map((n) => n.replace(/\|/g, '/')).join('; ');
      say(`| ${s.format} | ${s.samples} | ${s.positives} | ${pct(s.recall)} (${s.hits}/${s.expected}) | ${pct(s.fpRate)} (${s.falsePositives}) | ${(s.bytes / 1048576).toFixed(2)} | ${(s.bytes / 1048576 / (s.ms / 1000)).toFixed(1)} | ${notes}${s.misses.length + s.falseAlarms.length > 3 ? ' …' : ''} |`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// Software on this machine, uploaded (the DLP detectors) and downloaded (the AV rules), with the
// settings `npm start` runs: none of it is a leak, so every finding is a false positive.
const packages = localPackages(Number(args['local-mib']) * 1048576);
if (packages.length > 0) {
  const shipped = parseConfig({}).icapServer;
  const sets = { upload: buildDetectorSet(shipped.detectors, 'dlp', 'REQMOD'), download: buildDetectorSet(shipped.detectors, 'av', 'RESPMOD') };
  say();
  say(`## Software on this machine: ${packages.length} packages nobody wrote for the corpus`);
  say();
  say(`The npm tarballs in npm's cache and the jars in ~/.m2 (${(packages.reduce((n, p) => n + p.bytes, 0) / 1048576).toFixed(0)} MiB), each scanned whole as an upload (REQMOD, the DLP detectors) and as a download (RESPMOD, the AV rules) with the shipped defaults (\`npm start\`, no custom rule). None is a leak: a finding is a false positive (decode limits and encrypted content are not counted).`);
  say();
  say('| direction | files | flagged | false positives | by detector | MiB per CPU s |');
  say('|---|---:|---:|---:|---|---:|');
  const flaggedFiles: string[] = [];
  for (const [direction, set] of Object.entries(sets)) {
    const byDetector = new Map<string, number>();
    let flagged = 0;
    let bytes = 0;
    const cpu = process.cpuUsage();
    for (const p of packages) {
      const data = fs.readFileSync(p.file);
      bytes += data.length;
      const found = (await scanBuilt(set, shipped, data, p.contentType)).filter((name) => !/^(?:decode-limit|encrypted-content)/.test(name));
      if (found.length === 0) continue;
      flagged++;
      flaggedFiles.push(`${p.name} (${direction}: ${found.join(', ')})`);
      for (const name of found) byDetector.set(name, (byDetector.get(name) ?? 0) + 1);
    }
    const used = process.cpuUsage(cpu);
    say(`| ${direction} | ${packages.length} | ${flagged} | ${pct(flagged / packages.length)} | ${[...byDetector].sort((a, b) => b[1] - a[1]).map(([name, n]) => `${name} ${n}`).join(', ') || '—'} | ${(bytes / 1048576 / ((used.user + used.system) / 1e6)).toFixed(1)} |`);
  }
  say();
  say(flaggedFiles.length > 0 ? `Flagged: ${flaggedFiles.join('; ')}.` : 'Nothing flagged.');
}

say();
say('## Throughput on large bodies, one thread');
say();
say('Best of the rounds, after one round that is not counted (the JIT compiles during it). MiB/s is the body as sent over wall time; MiB per CPU second counts only the CPU this thread got, which is what a core gives when the machine is shared (the load average is in the header and the footer).');
say();
say('| body | MiB | best ms | MiB/s | MiB per CPU s | found |');
say('|---|---:|---:|---:|---:|---|');
const config = parseConfig({ icapServer: { detectors: { keywords: [CUSTOM_KEYWORD_RULE] } } }).icapServer;
const dlp = buildDetectorSet(config.detectors, 'dlp', 'REQMOD');
async function best(run: () => Promise<string[]> | string[]): Promise<{ ms: number; cpuMs: number; found: string[] }> {
  let result = { ms: Infinity, cpuMs: Infinity, found: [] as string[] };
  // One round first that is not counted: V8 compiles the hot paths while it runs.
  await run();
  for (let round = 0; round < Number(args.rounds); round++) {
    const cpu = process.cpuUsage();
    const started = performance.now();
    const found = await run();
    const ms = performance.now() - started;
    const used = process.cpuUsage(cpu);
    if (ms < result.ms) result = { ms, cpuMs: (used.user + used.system) / 1000, found };
  }
  return result;
}
const row = (name: string, bytes: number, r: { ms: number; cpuMs: number; found: string[] }) =>
  say(`| ${name} | ${(bytes / 1048576).toFixed(1)} | ${r.ms.toFixed(0)} | ${(bytes / 1048576 / (r.ms / 1000)).toFixed(1)} | ${(bytes / 1048576 / (r.cpuMs / 1000)).toFixed(1)} | ${r.found.join(' ') || '—'} |`);
for (const body of [...largeBodies(Number(args.mib) * 1048576), ...packageBodies(Number(args.mib) * 1048576)]) row(body.name, body.bytes.length, await best(() => scanBuilt(dlp, config, body.bytes, body.contentType)));
// The text detectors alone, on text already decoded (what content extraction hands them).
const text = mixedText(Number(args.mib) * 1048576);
row('plain text, the text detectors alone (TextScanner)', text.length, await best(() => {
  const findings = new Findings();
  const scanner = new TextScanner(dlp.text, findings);
  for (let at = 0; at < text.length; at += 65536) scanner.write(text.slice(at, at + 65536));
  scanner.end();
  return findings.violations().map((v) => v.name);
}));
say();
say(`Load average ${os.loadavg()[0]?.toFixed(2)} at the end.`);
fs.mkdirSync(path.dirname(args.out), { recursive: true });
fs.writeFileSync(args.out, `${lines.join('\n')}\n`);
