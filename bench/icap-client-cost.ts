// CPU per REQMOD transaction of our ICAP client (the compiled build), alone: IcapService.send of a
// 16 KiB body held in RAM and classify() of c-icap's answer (srv_cfg_filter echoes the request:
// compared in place), the ICAP part of a scanned upload without the HTTP front, spool or origin;
// against the smallest client that makes the same exchange on the same c-icap (head and preview,
// `100 Continue`, the rest, the echoed answer read to its last chunk). Both keep `--concurrency`
// transactions in flight on as many kept-alive connections, in alternating rounds (ABBA), and the
// process's own CPU (process.cpuUsage) is divided by the transactions of the round: c-icap's CPU
// is not in it. Writes bench/results/icap-client-cost.md. With `--ab DIR`, the other side is not
// the smallest client but our client from another build's dist (DIR/src/...), and the output says
// this build ÷ that one.
//   npm run bench:icap-client -- [--rounds 6] [--transactions 3000] [--concurrency 8] [--cpu-prof] [--ab DIR --out FILE]
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Session } from 'node:inspector/promises';
import { parseArgs } from 'node:util';
import type { HttpHead } from '../src/core/types.js';
import type * as Classify from '../src/enforce/classify.js';
import type * as Icap from '../src/icap/index.js';
import { ensureBuilt } from './lib/dlp-proxy.js';
import { snapshot } from './lib/proc-stats.js';
import { startCicap } from '../test/support/peers/cicap.js';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '6' },
    transactions: { type: 'string', default: '3000' },
    concurrency: { type: 'string', default: '8' },
    'cpu-prof': { type: 'boolean', default: false },
    ballast: { type: 'string', default: '32' },
    ab: { type: 'string' },
    out: { type: 'string', default: 'bench/results/icap-client-cost.md' },
  },
});
const ROUNDS = Number(args.rounds);
const N = Number(args.transactions);
const C = Number(args.concurrency);
const SIZE = 16 * 1024;
// Live objects the size of the proxy's own heap (about 30 MB of config, caches, modules): with a
// heap of a few MB, V8 starts incremental marking whenever its young generation outgrows the old
// generation's slack, and this process then spends most of its time in full collections the
// proxy never makes (measured: 35 mark-compacts in 10,000 transactions here, 4 in 25,000 scanned
// uploads through the proxy).
const ballast = Array.from({ length: Number(args.ballast) * 1024 }, (_, i) => ({ i, text: `ballast ${i} `.padEnd(900, '.') }));
const PREVIEW = 1024;

// connections are kept for the whole run (c-icap's default closes one after 100 transactions)
// the compiled build, as the proxy runs it (tsx's transform adds its own helpers to every function)
ensureBuilt();
const { classify } = (await import('../dist/src/enforce/classify.js' as string)) as typeof Classify;
const { IcapService } = (await import('../dist/src/icap/index.js' as string)) as typeof Icap;
const cicap = await startCicap({ services: ['dlp'], maxKeepAliveRequests: 10_000_000 });
let serial = 0;
/** A body nobody scanned before: c-icap has no cache, but each answer must be read whole. */
function nextBody(): Buffer {
  const body = Buffer.alloc(SIZE, 'lorem ipsum dolor sit amet, consectetur adipiscing elit ');
  body.write(`upload ${++serial} `, 0, 'latin1');
  return body;
}
function headOf(body: Buffer): HttpHead {
  return { kind: 'request', method: 'POST', target: 'http://upload.bench.test/form', version: '1.1', headers: [['Host', 'upload.bench.test'], ['Content-Type', 'text/plain'], ['Content-Length', String(body.length)]] };
}

const serviceOptions = { name: 'dlp', servers: [{ url: cicap.url('dlp'), weight: 1 }], maxConnections: C, connectTimeoutMs: 5000, previewTimeoutMs: 30_000, readIdleTimeoutMs: 30_000, queueTimeoutMs: 30_000, idleTimeoutMs: 30_000 };
const spool = { memoryBytes: 1024 * 1024, maxBytes: 64 * 1024 * 1024 };

/** One transaction of IcapService.send and classify() of a build, on its own connections. */
function client(build: { IcapService: typeof IcapService; classify: typeof classify }) {
  const service = new build.IcapService(serviceOptions);
  const transact = async (): Promise<void> => {
    const body = nextBody();
    const head = headOf(body);
    const result = await service.send({ method: 'REQMOD', reqHead: head, body: [body], bodyBytes: body.length, allow204: true, clientIp: '127.0.0.1' });
    const { verdict } = await build.classify(result, { direction: 'upload', original: { head, sha256: '', sizeBytes: body.length, ram: [body] }, vendor: 'c-icap', spool });
    if (verdict.action !== 'pass') throw new Error(`expected a pass, got ${verdict.action}`);
  };
  return { service, transact };
}
const ours = client({ IcapService, classify });
const other = args.ab
  ? client({
      IcapService: ((await import(path.resolve(args.ab, 'src/icap/index.js'))) as typeof Icap).IcapService,
      classify: ((await import(path.resolve(args.ab, 'src/enforce/classify.js'))) as typeof Classify).classify,
    })
  : undefined;

/** The smallest client: one connection per slot, the exchange written by hand, the answer read to `0\r\n\r\n`. */
class RawClient {
  private readonly socket: net.Socket;
  /** the last bytes received, enough to see `\r\n\r\n` and `0\r\n\r\n` across reads */
  private tail = '';
  private wake: (() => void) | undefined;
  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.tail = (this.tail + chunk.toString('latin1', Math.max(0, chunk.length - 8))).slice(-8);
      this.wake?.();
    });
  }
  static connect(): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(cicap.port, cicap.host, () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }
  /** Until the bytes received end with `end` (an answer here ends with its blank line or its last chunk). */
  private async until(end: string): Promise<void> {
    while (!this.tail.endsWith(end)) await new Promise<void>((resolve) => (this.wake = resolve));
    this.tail = '';
  }
  async transact(): Promise<void> {
    const body = nextBody();
    const http = `POST http://upload.bench.test/form HTTP/1.1\r\nHost: upload.bench.test\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n`;
    const icap = `REQMOD ${cicap.url('dlp')} ICAP/1.0\r\nHost: ${cicap.host}:${cicap.port}\r\nAllow: 204\r\nPreview: ${PREVIEW}\r\nEncapsulated: req-hdr=0, req-body=${http.length}\r\n\r\n`;
    this.socket.cork();
    this.socket.write(`${icap}${http}${PREVIEW.toString(16)}\r\n`);
    this.socket.write(body.subarray(0, PREVIEW));
    this.socket.write('\r\n0\r\n\r\n');
    this.socket.uncork();
    await this.until('\r\n\r\n'); // 100 Continue
    this.socket.cork();
    this.socket.write(`${(SIZE - PREVIEW).toString(16)}\r\n`);
    this.socket.write(body.subarray(PREVIEW));
    this.socket.write('\r\n0\r\n\r\n');
    this.socket.uncork();
    await this.until('0\r\n\r\n'); // the echoed request's last chunk
  }
  close(): void {
    this.socket.destroy();
  }
}

interface Cost {
  /** CPU µs per transaction */
  cpu: number;
  /** of it, in the kernel */
  system: number;
  /** c-icap's CPU µs per transaction meanwhile (all its processes) */
  server: number;
}

async function round(kind: 'ours' | 'floor'): Promise<Cost> {
  const raw = kind === 'floor' && !other ? await Promise.all(Array.from({ length: C }, () => RawClient.connect())) : [];
  const transact: (slot: number) => Promise<void> = kind === 'ours' ? ours.transact : (other?.transact ?? ((slot) => raw[slot]!.transact()));
  let left = N;
  const serverStart = snapshot(cicap.pid!).cpuSeconds;
  const start = process.cpuUsage();
  await Promise.all(
    Array.from({ length: C }, async (_, slot) => {
      while (left-- > 0) await transact(slot);
    }),
  );
  const used = process.cpuUsage(start);
  const server = ((snapshot(cicap.pid!).cpuSeconds - serverStart) * 1e6) / N;
  for (const r of raw) r.close();
  return { cpu: (used.user + used.system) / N, system: used.system / N, server };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

try {
  await ours.service.options();
  await other?.service.options();
  // warm-up: both clients until the JIT settles
  for (let i = 0; i < 3; i++) {
    await round('ours');
    await round('floor');
  }
  let session: Session | undefined;
  if (args['cpu-prof']) {
    session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 250 });
    await session.post('Profiler.start');
  }
  const samples = { ours: [] as Cost[], floor: [] as Cost[] };
  for (let r = 0; r < ROUNDS; r++) {
    for (const kind of r % 2 === 0 ? (['ours', 'floor'] as const) : (['floor', 'ours'] as const)) {
      const cost = await round(kind);
      samples[kind].push(cost);
      process.stdout.write(`round ${r + 1} ${kind}: ${cost.cpu.toFixed(0)} µs CPU per transaction, of it system ${cost.system.toFixed(0)}; c-icap ${cost.server.toFixed(0)}\n`);
    }
  }
  if (session) {
    const { profile } = await session.post('Profiler.stop');
    fs.writeFileSync('bench/results/icap-client-cost.cpuprofile', JSON.stringify(profile));
    session.disconnect();
  }
  const ratios = samples.ours.map((o, i) => o.cpu / samples.floor[i]!.cpu);
  const row = (costs: Cost[]) =>
    `${median(costs.map((c) => c.cpu)).toFixed(0)} | ${median(costs.map((c) => c.system)).toFixed(0)} | ${median(costs.map((c) => c.cpu - c.system)).toFixed(0)} | ${median(costs.map((c) => c.server)).toFixed(0)} | ${costs.map((c) => c.cpu.toFixed(0)).join(', ')}`;
  const lines = [
    other ? `# CPU per ICAP transaction: this build's client against ${args.ab}'s` : '# CPU per ICAP transaction: our client against the smallest one',
    '',
    `\`node --import tsx bench/icap-client-cost.ts\` on ${new Date().toISOString().slice(0, 16)}, ${os.cpus().length} cores, Node ${process.version}, load average ${os.loadavg()[0]!.toFixed(2)} at the end. REQMOD of a unique 16 KiB body to c-icap's srv_cfg_filter (preview 1024, \`100 Continue\`, the rest, the echoed request read back), ${C} transactions in flight, ${N} per round, ${ROUNDS} rounds alternating; the client process's own CPU per transaction, and beside it c-icap's (from /proc), with ${args.ballast} MB of live objects in the process, as the proxy holds.`,
    '',
    '| client | CPU µs per transaction (median) | of it system | of it user | c-icap CPU µs per transaction meanwhile | rounds (CPU µs) |',
    '|---|--:|--:|--:|--:|---|',
    `| ours: IcapService.send + classify (an echo recognised as it arrives) | ${row(samples.ours)} |`,
    other ? `| ours as built in ${args.ab} | ${row(samples.floor)} |` : `| the smallest client (the exchange written by hand, the answer read to its last chunk) | ${row(samples.floor)} |`,
    '',
    `Ours ÷ ${other ? 'the other build' : 'smallest'}, per round: median ${median(ratios).toFixed(2)}× (${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}).`,
    '',
  ];
  fs.mkdirSync(path.dirname(args.out), { recursive: true });
  fs.writeFileSync(args.out, lines.join('\n'));
  process.stdout.write(`${lines.join('\n')}\nwrote ${args.out}\n`);
  if (ballast.length === 0) process.stdout.write('(no ballast)\n');
} finally {
  await ours.service.close();
  await other?.service.close();
  await cicap.stop();
}
