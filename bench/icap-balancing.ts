// Scanned uploads through dlp-proxy with one c-icap server (srv_cfg_filter as "dlp") against two,
// in the same run, then two with one of them SIGKILLed halfway (failover under load). Each row is
// a fresh proxy process; every upload body is distinct, so each is a verdict-cache miss and one
// REQMOD. Loopback only, bounded by a deadline and a request cap.
// Run: node --import tsx bench/icap-balancing.ts [--duration-ms 8000] [--connections 16] [--quick]
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { stopAll } from './lib/children.js';
import { prepareProxyCa, startDlpProxy, type ProxyRunFiles } from './lib/dlp-proxy.js';
import { startOrigin } from './lib/origin.js';
import { writeStandaloneReport } from './lib/standalone-report.js';
import { uploadLoad, type UploadLoadResult } from './lib/upload-load.js';
import { makeTlsMaterial } from './lib/tls-material.js';
import { startCicap, type Cicap } from '../test/support/peers/cicap.js';
import { tempDir } from '../test/support/peers/common.js';

const { values } = parseArgs({ options: { 'duration-ms': { type: 'string' }, connections: { type: 'string' }, quick: { type: 'boolean' } } });
const DURATION_MS = Number(values['duration-ms'] ?? (values.quick ? 3000 : 8000));
const CONNECTIONS = Number(values.connections ?? 16);
const MAX_REQUESTS = 200_000;
const PADDING = 'lorem ipsum dolor sit amet '.repeat(38); // about 1 KiB per upload

interface Row extends UploadLoadResult {
  scenario: string;
  servers: number;
}

let sequence = 0;

/** CONNECTIONS keep-alive clients posting distinct ~1 KiB bodies until the deadline. */
function load(proxyPort: number, originPort: number, durationMs: number, midway?: () => Promise<void>): Promise<UploadLoadResult> {
  return uploadLoad({ proxyPort, url: `http://127.0.0.1:${originPort}/upload`, connections: CONNECTIONS, durationMs, maxRequests: MAX_REQUESTS, body: () => `upload ${++sequence} ${PADDING}`, midway });
}

const workDir = tempDir('bench-icap-balancing');
const rows: Row[] = [];
const cicaps: Cicap[] = [];
try {
  const tls = makeTlsMaterial(path.join(workDir, 'tls'));
  const origin = await startOrigin(tls);
  const files: ProxyRunFiles = { caDir: path.join(workDir, 'ca'), originCaFile: tls.originCaFile, workDir };
  await prepareProxyCa(files.caDir);
  const [a, b] = await Promise.all([startCicap({ services: ['dlp'] }), startCicap({ services: ['dlp'] })]);
  cicaps.push(a, b);
  const scenarios: Array<{ name: string; urls: string[]; kill?: Cicap }> = [
    { name: 'one c-icap', urls: [a.url('dlp')] },
    { name: 'two c-icap', urls: [a.url('dlp'), b.url('dlp')] },
    { name: 'two c-icap, one SIGKILLed halfway', urls: [a.url('dlp'), b.url('dlp')], kill: a },
  ];
  for (const scenario of scenarios) {
    const proxy = await startDlpProxy(scenario.name.replace(/\W+/g, '-'), files, {
      services: { dlp: { urls: scenario.urls, vendor: 'c-icap', failMode: 'closed' } },
      policy: [{ name: 'uploads', match: { direction: 'upload' }, scan: 'dlp' }],
      log: { level: 'warn' },
    });
    try {
      await load(proxy.port, origin.ready.httpPort, Math.min(1000, DURATION_MS / 4)); // warm-up: OPTIONS, connections
      const kill = scenario.kill;
      const midway = kill
        ? async () => {
            const pid = Number(fs.readFileSync(path.join(kill.dir, 'c-icap.pid'), 'utf8').trim());
            process.kill(-pid, 'SIGKILL');
          }
        : undefined;
      const result = await load(proxy.port, origin.ready.httpPort, DURATION_MS, midway);
      rows.push({ scenario: scenario.name, servers: scenario.urls.length, ...result });
      process.stderr.write(`${scenario.name}: ${result.perSec.toFixed(0)} uploads/s, ${result.errors} errors\n`);
    } finally {
      await proxy.stop();
    }
  }
} finally {
  await Promise.all(cicaps.map((c) => c.stop()));
  await stopAll();
  fs.rmSync(workDir, { recursive: true, force: true });
}

const base = rows[0]?.perSec ?? 1;
writeStandaloneReport(
  'icap-balancing',
  'ICAP load balancing: one c-icap server against two',
  [
    `\nScanned uploads (~1 KiB, distinct bodies) through dlp-proxy → c-icap srv_cfg_filter, ${CONNECTIONS} connections, ${DURATION_MS} ms per row\n`,
    '| scenario | servers | uploads/s | vs one | p50 ms | p99 ms | uploads | errors |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.scenario} | ${r.servers} | ${r.perSec.toFixed(0)} | ${(r.perSec / base).toFixed(2)} | ${r.p50Ms.toFixed(1)} | ${r.p99Ms.toFixed(1)} | ${r.uploads} | ${r.errors} |`),
  ],
  values.quick === true,
);
