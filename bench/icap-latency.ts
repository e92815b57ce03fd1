// Sequential ICAP transaction latency against real c-icap (virus_scan with a private clamd, and
// srv_cfg_filter), our client beside c-icap-client on the same files in the same run. Our client
// keeps its connection (as the proxy does); c-icap-client is one process, one connection and one
// OPTIONS per file (as operators run it), so its column includes process start-up.
// Run: node --import tsx bench/icap-latency.ts [--rounds N]
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import type { HttpHead } from '../src/core/types.js';
import { IcapService } from '../src/icap/index.js';
import { ensureBinary, tempDir } from '../test/support/peers/common.js';
import { startCicap } from '../test/support/peers/cicap.js';
import { EICAR } from '../test/support/peers/clamd.js';

const run = promisify(execFile);
const roundsArg = process.argv.indexOf('--rounds');
const ROUNDS = roundsArg > 0 ? Number(process.argv[roundsArg + 1]) : 200;
const CLI_ROUNDS = Math.max(10, Math.round(ROUNDS / 5));

const client = ensureBinary('c-icap-client', ['c-icap']);
const cicap = await startCicap({ services: ['dlp', 'av'] });
const dir = tempDir('icap-bench');
const files: Array<[string, Buffer]> = [
  ['clean-1k.txt', Buffer.from('clean line of text\n'.repeat(54))],
  ['clean-200k.txt', Buffer.from('clean line of text\n'.repeat(10_800))],
  ['eicar.com', Buffer.from(EICAR)],
];
for (const [name, data] of files) fs.writeFileSync(path.join(dir, name), data);

const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;
const rows: string[][] = [];
try {
  for (const svc of ['av', 'dlp']) {
    const icap = new IcapService({ name: svc, servers: [{ url: cicap.url(svc), weight: 1 }], maxConnections: 1, connectTimeoutMs: 2000, previewTimeoutMs: 5000, readIdleTimeoutMs: 5000, queueTimeoutMs: 5000, idleTimeoutMs: 5000 });
    await icap.options();
    for (const [name, data] of files) {
      const head: HttpHead = { kind: 'request', method: 'POST', target: `http://bench.test/${name}`, version: '1.1', headers: [['Host', 'bench.test'], ['Content-Type', 'text/plain'], ['Content-Length', String(data.length)]] };
      const ours: number[] = [];
      let outcome = '';
      for (let i = 0; i < ROUNDS; i++) {
        const t = performance.now();
        const r = await icap.send({ method: 'REQMOD', reqHead: head, body: Readable.from([data]), bodyBytes: data.length, allow204: true });
        if (r.kind === 'modified' && r.body) for await (const _ of r.body);
        ours.push(performance.now() - t);
        outcome = `${r.status}${r.kind === 'modified' ? (r.head.kind === 'request' ? ' (request)' : ` (HTTP ${r.head.status})`) : ''}`;
      }
      const theirs: number[] = [];
      for (let i = 0; i < CLI_ROUNDS; i++) {
        const t = performance.now();
        await run(client, ['-i', '127.0.0.1', '-p', String(cicap.port), '-s', svc, '-f', path.join(dir, name), '-req', `http://bench.test/${name}`, '-o', path.join(dir, `out-${svc}-${name}-${i}`)]);
        theirs.push(performance.now() - t);
      }
      rows.push([svc, name, outcome, percentile(ours, 50).toFixed(2), percentile(ours, 99).toFixed(2), percentile(theirs, 50).toFixed(2), percentile(theirs, 99).toFixed(2)]);
    }
    await icap.close();
  }
} finally {
  await cicap.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}

const head = ['service', 'file', 'answer', 'ours p50 ms', 'ours p99 ms', 'c-icap-client p50', 'c-icap-client p99'];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const fmt = (cols: string[]) => cols.map((c, i) => c.padEnd(widths[i]!)).join(' | ');
console.log(`REQMOD, sequential; ours: ${ROUNDS} transactions on one kept-alive connection; c-icap-client: ${CLI_ROUNDS} runs`);
console.log(fmt(head));
console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
for (const r of rows) console.log(fmt(r));
