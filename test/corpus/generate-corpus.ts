// The labelled corpus (issue 13): every document kind of documents.ts in every format of
// formats.ts, written as real files with a manifest of what each must raise. Nothing binary is
// kept in the repository; the files are made here, at test or bench time.
//   node --import tsx test/corpus/generate-corpus.ts OUT_DIR [--seed 13] [--per-kind 2]
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { corpusData, documents } from './documents.js';
import { FORMATS } from './formats.js';
import { docx } from './writers/office-writers.js';

export interface Sample {
  /** path relative to the corpus directory: <format>/<doc id>-<file name> */
  file: string;
  format: string;
  kind: string;
  positive: boolean;
  service: 'dlp' | 'av';
  contentType: string;
  expected: string[];
  bytes: number;
}

export interface Manifest {
  seed: number;
  samples: Sample[];
  /** the data sets registered for the scan, relative to the corpus directory */
  dataSets: { edm: string; fingerprint: string };
}

export function writeCorpus(dir: string, options: { seed?: number; perKind?: number; formats?: readonly string[] } = {}): Manifest {
  const seed = options.seed ?? 13;
  const docs = documents(seed, options.perKind ?? 2);
  const samples: Sample[] = [];
  for (const format of options.formats ?? Object.keys(FORMATS)) {
    const render = FORMATS[format];
    if (render === undefined) throw new Error(`unknown corpus format ${format}`);
    fs.mkdirSync(path.join(dir, format), { recursive: true });
    docs.forEach((doc, index) => {
      const out = render(doc, index);
      if (out === undefined) return;
      const file = path.join(format, `${doc.id}-${out.fileName}`);
      fs.writeFileSync(path.join(dir, file), out.bytes);
      samples.push({ file, format, kind: doc.kind, positive: doc.expected.length > 0, service: doc.service, contentType: out.contentType, expected: doc.expected, bytes: out.bytes.length });
    });
  }
  // The data sets: EDM records as CSV, the confidential memo registered from a Word file.
  const data = corpusData(seed);
  fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'data', 'customers.csv'), `${data.customers.map((row) => row.join(',')).join('\r\n')}\r\n`);
  fs.writeFileSync(path.join(dir, 'data', 'board-memo.docx'), docx(data.memo));
  const manifest: Manifest = { seed, samples, dataSets: { edm: 'data/customers.csv', fingerprint: 'data/board-memo.docx' } };
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest, null, 1));
  return manifest;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { seed: { type: 'string', default: '13' }, 'per-kind': { type: 'string', default: '2' } } });
  const dir = positionals[0];
  if (dir === undefined) throw new Error('usage: generate-corpus.ts OUT_DIR [--seed N] [--per-kind N]');
  const manifest = writeCorpus(dir, { seed: Number(values.seed), perKind: Number(values['per-kind']) });
  process.stdout.write(`${manifest.samples.length} samples in ${dir}\n`);
}
