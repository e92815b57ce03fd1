// The standalone benches (icap-balancing, scale-out) print their tables and keep them in
// bench/results/<name>.md, with the machine's facts and its load, so people can read the last run.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const RESULTS = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'results');

export function writeStandaloneReport(name: string, title: string, lines: readonly string[], quick: boolean): void {
  const text = lines.join('\n');
  process.stdout.write(`${text}\n`);
  if (quick) return; // smoke runs are not results to keep
  const facts = `${new Date().toISOString().slice(0, 10)}, ${os.availableParallelism()} cores, Node ${process.version}, load average ${os.loadavg()[0]!.toFixed(2)} at the end`;
  fs.writeFileSync(path.join(RESULTS, `${name}.md`), `# ${title}\n\n\`node --import tsx bench/${name}.ts\` on ${facts}. Ratios within one run are what count.\n${text}\n`);
  process.stdout.write(`wrote bench/results/${name}.md\n`);
}
