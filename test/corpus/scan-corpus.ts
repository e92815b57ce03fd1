// Scans the corpus with the built-in service's detectors, in-process and without sockets (the
// BodyScan an ICAP transaction runs), and scores it per format: recall over the violations the
// positives must raise, false positives over every sample that raised a violation it should not.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../../src/config/index.js';
import { BodyScan } from '../../src/icap-server/decode/body-scan.js';
import { loadDataSets } from '../../src/icap-server/detectors/data-sets.js';
import { buildDetectorSet, type DetectorSet, type IcapServerConfig } from '../../src/icap-server/detectors/detector-set.js';
import { CORPUS_EDM, CORPUS_MEMO, CUSTOM_KEYWORD_RULE } from './documents.js';
import type { Manifest, Sample } from './generate-corpus.js';

export interface Outcome {
  sample: Sample;
  found: string[];
  error?: string;
  ms: number;
}

export interface FormatScore {
  format: string;
  samples: number;
  positives: number;
  negatives: number;
  /** violations the positives must raise, and how many they did */
  expected: number;
  hits: number;
  recall: number;
  /** samples that raised a violation they should not have */
  falsePositives: number;
  fpRate: number;
  bytes: number;
  ms: number;
  misses: string[];
  falseAlarms: string[];
}

/** The service config the corpus assumes: defaults, the custom keyword rule its positives use, and its data sets. */
export function corpusConfig(dir: string, manifest: Manifest): IcapServerConfig {
  return parseConfig({
    icapServer: {
      detectors: { keywords: [CUSTOM_KEYWORD_RULE] },
      edm: [{ name: CORPUS_EDM, file: path.join(dir, manifest.dataSets.edm) }],
      fingerprints: [{ name: CORPUS_MEMO, file: path.join(dir, manifest.dataSets.fingerprint) }],
    },
  }).icapServer;
}

/** `Scan`: BodyScan of another build of the same sources (the detection bench measures dist/'s). */
export async function scanBytes(set: DetectorSet, config: IcapServerConfig, bytes: Buffer, contentType: string, chunkBytes = 65536, Scan: typeof BodyScan = BodyScan): Promise<string[]> {
  const scan = new Scan(set, { contentType }, config);
  for (let at = 0; at < bytes.length; at += chunkBytes) await scan.write(bytes.subarray(at, at + chunkBytes));
  return (await scan.end()).map((v) => v.name);
}

export async function scanCorpus(dir: string, manifest: Manifest, config: IcapServerConfig): Promise<Outcome[]> {
  const dataSets = await loadDataSets(config);
  const detectors = { dlp: buildDetectorSet(config.detectors, 'dlp', 'REQMOD', dataSets), av: buildDetectorSet(config.detectors, 'av', 'RESPMOD', dataSets) };
  const outcomes: Outcome[] = [];
  for (const sample of manifest.samples) {
    const bytes = fs.readFileSync(path.join(dir, sample.file));
    const started = performance.now();
    try {
      const found = await scanBytes(detectors[sample.service], config, bytes, sample.contentType);
      outcomes.push({ sample, found, ms: performance.now() - started });
    } catch (err) {
      outcomes.push({ sample, found: [], error: err instanceof Error ? err.message : String(err), ms: performance.now() - started });
    }
  }
  return outcomes;
}

/** Findings that are not about content (limits hit, encrypted files) are not false positives of a detector. */
const NOT_DETECTIONS = /^(?:decode-limit|encrypted-content)/;

export function scoreByFormat(outcomes: readonly Outcome[]): FormatScore[] {
  const byFormat = new Map<string, FormatScore>();
  for (const { sample, found, error, ms } of outcomes) {
    let s = byFormat.get(sample.format);
    if (s === undefined) {
      s = { format: sample.format, samples: 0, positives: 0, negatives: 0, expected: 0, hits: 0, recall: 1, falsePositives: 0, fpRate: 0, bytes: 0, ms: 0, misses: [], falseAlarms: [] };
      byFormat.set(sample.format, s);
    }
    s.samples++;
    s.bytes += sample.bytes;
    s.ms += ms;
    if (sample.positive) s.positives++;
    else s.negatives++;
    for (const name of sample.expected) {
      s.expected++;
      if (found.includes(name)) s.hits++;
      else s.misses.push(`${sample.file}: ${name} not found${error ? ` (${error})` : ''}${found.length ? `, found ${found.join(' ')}` : ''}`);
    }
    const unexpected = found.filter((name) => !sample.expected.includes(name) && !NOT_DETECTIONS.test(name));
    if (unexpected.length > 0) {
      s.falsePositives++;
      s.falseAlarms.push(`${sample.file}: ${unexpected.join(' ')}`);
    }
  }
  for (const s of byFormat.values()) {
    s.recall = s.expected === 0 ? 1 : s.hits / s.expected;
    s.fpRate = s.falsePositives / s.samples;
  }
  return [...byFormat.values()];
}

/**
 * Scans the samples of `formats` in a child process killed after `timeoutMs`: a format whose
 * extraction has not landed, or hangs, cannot stall the test. Samples not scanned by then are
 * outcomes with an error and nothing found.
 */
export function scanInChild(dir: string, manifest: Manifest, formats: readonly string[], timeoutMs: number): Promise<Outcome[]> {
  const script = fileURLToPath(import.meta.url);
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', script, dir, ...formats], { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (_err, stdout) => {
      const done = new Map<string, Outcome>();
      for (const line of stdout.split('\n')) if (line.startsWith('{')) done.set((JSON.parse(line) as Outcome).sample.file, JSON.parse(line) as Outcome);
      resolve(
        manifest.samples
          .filter((sample) => formats.includes(sample.format))
          .map((sample) => done.get(sample.file) ?? { sample, found: [], error: `not scanned within ${timeoutMs} ms`, ms: 0 }),
      );
    });
  });
}

// Child entry: scan the named formats of the corpus in DIR, one JSON outcome per line, in the order given.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [dir, ...formats] = process.argv.slice(2);
  const manifest = JSON.parse(fs.readFileSync(path.join(dir as string, 'manifest.json'), 'utf8')) as Manifest;
  for (const format of formats) {
    const part = { ...manifest, samples: manifest.samples.filter((sample) => sample.format === format) };
    for (const outcome of await scanCorpus(dir as string, part, corpusConfig(dir as string, manifest))) process.stdout.write(`${JSON.stringify(outcome)}\n`);
  }
}
