// New-host certificate cost: dlp-proxy's CA (one shared leaf key, node:crypto signatures, cached
// TLS contexts) against http-mitm-proxy 1.1.0's own CA class (a forge RSA 2048 key generated
// synchronously per host, files written per host), in the same run on the same machine.
//   node --import tsx bench/ca-leaf.ts [--hosts 200] [--mitm-hosts 20] [--burst 20]
// Targets (issue 2): a new host ≤ 10 ms median; < 50 ms event-loop stall while 20 arrive at once.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { CA as MitmCa } from 'http-mitm-proxy/dist/lib/ca.js';
import { CertificateAuthority } from '../src/ca/index.js';
import { parseHost, type ParsedHost } from '../src/core/host.js';

const { values: args } = parseArgs({
  options: {
    hosts: { type: 'string', default: '200' },
    'mitm-hosts': { type: 'string', default: '20' },
    burst: { type: 'string', default: '20' },
  },
});
const HOSTS = Number(args.hosts);
const MITM_HOSTS = Number(args['mitm-hosts']);
const BURST = Number(args.burst);

interface Summary {
  median: number;
  p95: number;
  max: number;
}

function summarise(samples: number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { median: at(0.5), p95: at(0.95), max: sorted[sorted.length - 1]! };
}

function host(name: string): ParsedHost {
  return parseHost(name)!;
}

async function timeEach(count: number, issue: (i: number) => unknown): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await issue(i);
    samples.push(performance.now() - started);
  }
  return samples;
}

/**
 * Worst event-loop stall while `count` new hosts are requested in the same tick (as when a page
 * opens many connections): perf_hooks' histogram plus a 1 ms setInterval drift probe.
 */
async function burstStall(count: number, issue: (i: number) => Promise<unknown>): Promise<{ histogramMs: number; driftMs: number; wallMs: number }> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  let driftMs = 0;
  let last = performance.now();
  const probe = setInterval(() => {
    const now = performance.now();
    driftMs = Math.max(driftMs, now - last - 1);
    last = now;
  }, 1);
  histogram.enable();
  await new Promise((resolve) => setTimeout(resolve, 20));
  const started = performance.now();
  await Promise.all(Array.from({ length: count }, (_, i) => issue(i)));
  const wallMs = performance.now() - started;
  await new Promise((resolve) => setTimeout(resolve, 20));
  histogram.disable();
  clearInterval(probe);
  return { histogramMs: histogram.max / 1e6, driftMs, wallMs };
}

function strictVerify(caFile: string, leafPem: string, dir: string): string {
  const leafFile = path.join(dir, `strict-${Date.now()}.pem`);
  fs.writeFileSync(leafFile, leafPem);
  const r = spawnSync('openssl', ['verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', caFile, leafFile], { encoding: 'utf8' });
  if (r.error) return 'openssl not found';
  const reason = /error \d+ at \d+ depth lookup: (.+)/.exec(r.stderr + r.stdout)?.[1];
  return r.status === 0 ? 'OK' : `FAIL (${reason ?? r.stderr.trim().split('\n')[0]})`;
}

const fmt = (ms: number): string => ms.toFixed(2);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'dlp-proxy-bench-ca-'));
try {
  // dlp-proxy
  let started = performance.now();
  const { ca } = await CertificateAuthority.loadOrCreate({ dir: path.join(work, 'ours'), leafValidityDays: 397, certCacheSize: 10_000 });
  const oursStartMs = performance.now() - started;
  const oursContext = summarise(await timeEach(HOSTS, (i) => ca.getSecureContext(host(`ctx-${i}.example`))));
  const oursLeaf = summarise(await timeEach(HOSTS, (i) => ca.issueLeaf(host(`leaf-${i}.example`))));
  const oursBurst = await burstStall(BURST, (i) => ca.getSecureContext(host(`burst-${i}.example`)));
  // The same probe over an idle window as long as the burst: what the machine itself adds.
  const idle = await burstStall(1, () => new Promise((resolve) => setTimeout(resolve, oursBurst.wallMs)));
  const oursStrict = strictVerify(path.join(work, 'ours', 'ca.pem'), ca.issueLeaf(host('strict.example')).certPem, work);

  // http-mitm-proxy 1.1.0
  const mitmDir = path.join(work, 'mitm');
  started = performance.now();
  const mitm = await new Promise<MitmCa>((resolve, reject) => MitmCa.create(mitmDir, (err: Error | null, made: MitmCa) => (err ? reject(err) : resolve(made))));
  const mitmStartMs = performance.now() - started;
  const mitmIssue = (name: string): Promise<string> =>
    new Promise((resolve) => mitm.generateServerCertificateKeys([name], (certPem: string) => resolve(certPem)));
  const mitmLeaf = summarise(await timeEach(MITM_HOSTS, (i) => mitmIssue(`leaf-${i}.example`)));
  const mitmBurst = await burstStall(BURST, (i) => mitmIssue(`burst-${i}.example`));
  const mitmStrict = strictVerify(mitm.getCACertPath(), await mitmIssue('strict.example'), work);
  await mitmIssue('../escaped'); // stays inside this run's temp dir: <tmp>/mitm/certs/../escaped.pem
  await new Promise((resolve) => setTimeout(resolve, 200)); // its file writes are fire-and-forget
  const mitmFiles = fs.readdirSync(mitmDir, { recursive: true }).length;
  const mitmEscaped = fs.existsSync(path.join(mitmDir, 'escaped.pem'));
  const keyMode = (fs.statSync(path.join(mitmDir, 'keys', 'ca.private.key')).mode & 0o777).toString(8);

  console.log(`# CA leaf issuance (node ${process.version}, ${os.cpus().length} CPUs, ${os.cpus()[0]?.model ?? ''})
| | dlp-proxy | http-mitm-proxy 1.1.0 | ratio |
|---|---|---|---|
| start (CA load/create + leaf key) ms | ${fmt(oursStartMs)} (created RSA 3072 CA) | ${fmt(mitmStartMs)} (created RSA 2048 CA) | |
| new-host leaf (cert + key PEM), median ms (n=${HOSTS} / ${MITM_HOSTS}) | ${fmt(oursLeaf.median)} (p95 ${fmt(oursLeaf.p95)}) | ${fmt(mitmLeaf.median)} (p95 ${fmt(mitmLeaf.p95)}) | ${(mitmLeaf.median / oursLeaf.median).toFixed(0)}x |
| new-host TLS context (getSecureContext), median ms | ${fmt(oursContext.median)} (p95 ${fmt(oursContext.p95)}, max ${fmt(oursContext.max)}) | n/a (keygen above + a server per host) | |
| ${BURST} new hosts at once: max event-loop stall ms (histogram / drift) | ${fmt(oursBurst.histogramMs)} / ${fmt(oursBurst.driftMs)} | ${fmt(mitmBurst.histogramMs)} / ${fmt(mitmBurst.driftMs)} | ${(mitmBurst.histogramMs / oursBurst.histogramMs).toFixed(0)}x |
| idle baseline: max stall ms over an equal idle window | ${fmt(idle.histogramMs)} / ${fmt(idle.driftMs)} | | |
| ${BURST} new hosts at once: wall ms | ${fmt(oursBurst.wallMs)} | ${fmt(mitmBurst.wallMs)} | ${(mitmBurst.wallMs / oursBurst.wallMs).toFixed(0)}x |
| openssl verify -x509_strict -purpose sslserver | ${oursStrict} | ${mitmStrict} | |
| files written | 2 (ca.pem, ca-key.pem: 0600) | ${mitmFiles} (CA key mode ${keyMode}); CONNECT host "../escaped" wrote outside certs/: ${mitmEscaped} | |
targets: median new host ≤ 10 ms → ${oursContext.median <= 10 ? 'met' : 'MISSED'}; stall < 50 ms → ${oursBurst.histogramMs < 50 ? 'met' : 'MISSED'}`);
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
