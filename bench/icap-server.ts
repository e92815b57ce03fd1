// Built-in ICAP server against c-icap's srv_cfg_filter, same bodies, same run: a small bounded
// load of concurrent REQMODs (preview 1024 and Allow: 204, as squid sends them) on keep-alive
// connections. Both services hold the same rules: a TOP-SECRET keyword and a card-number rule.
// Every answer is checked: a body with a card or the keyword must be blocked, the rest passed.
//   node --import tsx bench/icap-server.ts [--connections 8] [--seconds 5]
import { parseArgs } from 'node:util';
import { parseConfig } from '../src/config/index.js';
import { startIcapServer } from '../src/icap-server/index.js';
import { startCicap } from '../test/support/peers/cicap.js';
import { IcapTestClient, httpRequest, type IcapAnswer } from '../test/unit/icap-server/icap-test-client.js';

const { values: args } = parseArgs({ options: { connections: { type: 'string', default: '8' }, seconds: { type: 'string', default: '5' } } });
const CONNECTIONS = Number(args.connections);
const SECONDS = Number(args.seconds);

const filler = (bytes: number) => 'Minutes of the weekly planning meeting: budget review, hiring, roadmap. '.repeat(Math.ceil(bytes / 72)).slice(0, bytes);
const BODIES: Array<{ name: string; body: Buffer; blocked: boolean }> = [
  { name: 'clean 2 KiB', body: Buffer.from(filler(2048)), blocked: false },
  { name: 'card 2 KiB', body: Buffer.from(`${filler(1500)} card 4111 1111 1111 1111 ${filler(500)}`), blocked: true },
  { name: 'keyword 2 KiB', body: Buffer.from(`${filler(1800)} TOP-SECRET ${filler(200)}`), blocked: true },
  { name: 'clean 32 KiB', body: Buffer.from(filler(32 * 1024)), blocked: false },
];

const isBlock = (a: IcapAnswer) => a.status === 200 && ((a.httpHead?.status ?? 200) >= 400 || a.headers.has('x-violations-found') || a.headers.get('x-response-info') === 'block');

async function load(name: string, port: number, service: string): Promise<void> {
  const latencies: number[] = [];
  const wrong = new Map<string, number>();
  const deadline = performance.now() + SECONDS * 1000;
  const worker = async (id: number) => {
    const client = await IcapTestClient.connect(port);
    let i = id;
    while (performance.now() < deadline) {
      const b = BODIES[i++ % BODIES.length]!;
      const started = performance.now();
      const a = await client.transact(
        { method: 'REQMOD', uri: `icap://127.0.0.1:${port}/${service}`, reqHead: httpRequest([['Content-Type', 'text/plain'], ['Content-Length', String(b.body.length)]]), headers: [['Allow', '204']], preview: 1024 },
        b.body,
      );
      latencies.push(performance.now() - started);
      if (isBlock(a) !== b.blocked) wrong.set(b.name, (wrong.get(b.name) ?? 0) + 1);
      // c-icap closes after MaxKeepAliveRequests; reconnect like a pool would.
      if (a.headers.get('connection')?.toLowerCase() === 'close') {
        client.close();
        return worker(i);
      }
    }
    client.close();
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: CONNECTIONS }, (_, id) => worker(id)));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((x, y) => x - y);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!.toFixed(2);
  console.log(`${name.padEnd(34)} ${(latencies.length / elapsed).toFixed(0).padStart(6)} tx/s  p50 ${pct(50)} ms  p99 ${pct(99)} ms  (${latencies.length} tx, wrong verdicts: ${[...wrong].map(([n, c]) => `${c} × ${n}`).join(', ') || 'none'})`);
}

const config = parseConfig({ icapServer: { port: 0, detectors: { keywords: [{ name: 'classified', words: ['TOP-SECRET'] }] } } }).icapServer;
const builtin = await startIcapServer({ config, port: 0 });
const cicap = await startCicap({ services: ['dlp'], maxKeepAliveRequests: 1000 });
try {
  console.log(`icap-server bench: ${CONNECTIONS} connections, ${SECONDS} s each, bodies: ${BODIES.map((b) => b.name).join(', ')}`);
  await load('built-in (worker thread) /dlp', builtin.port, 'dlp');
  await load('c-icap 0.5.10 srv_cfg_filter', cicap.port, 'srv_cfg_filter');
} finally {
  await builtin.close();
  await cicap.stop();
}
