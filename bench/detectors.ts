// Detector throughput: the `dlp` detector set (cards, IBAN, SSN, keys, tokens, a keyword rule and
// a regex rule) over a mixed 10 MiB corpus, as plain text, as JSON, as a form, gzip-encoded, and
// the `av` set (EICAR, file types) for comparison. One pass per body, 64 KiB chunks as a socket
// delivers them.
//   node --import tsx bench/detectors.ts [--mib 10] [--rounds 3]
import { parseArgs } from 'node:util';
import zlib from 'node:zlib';
import { parseConfig } from '../src/config/index.js';
import { BodyScan, type ContentDescription } from '../src/icap-server/decode/body-scan.js';
import { buildDetectorSet, type ScanMethod, type ServiceName } from '../src/icap-server/detectors/detector-set.js';

const { values: args } = parseArgs({ options: { mib: { type: 'string', default: '10' }, rounds: { type: 'string', default: '3' } } });
const SIZE = Number(args.mib) * 1024 * 1024;
const ROUNDS = Number(args.rounds);

const config = parseConfig({
  icapServer: { detectors: { keywords: [{ name: 'classified', words: ['TOP-SECRET'] }], regexes: [{ name: 'order-id', pattern: 'ORD-[0-9]{6}' }] } },
}).icapServer;

/** Prose, numbers, ids, hex and base64 blobs, a few real findings: what uploads tend to hold. */
function corpus(bytes: number): string {
  const words = 'the quarterly report shows revenue growth of 12 percent across all regions while costs remained stable at 4500 units per'.split(' ');
  const parts: string[] = [];
  let size = 0;
  // mulberry32: a small seeded generator, so every run scans the same corpus.
  let seed = 7;
  const rand = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  while (size < bytes) {
    const r = rand();
    let piece: string;
    if (r < 0.6) piece = Array.from({ length: 12 }, () => words[Math.floor(rand() * words.length)]).join(' ') + '. ';
    else if (r < 0.75) piece = `id ${Math.floor(rand() * 1e15)} ref ${Math.floor(rand() * 1e9)}-${Math.floor(rand() * 1e4)} phone +1 555 ${Math.floor(rand() * 1e7)}\n`;
    else if (r < 0.85) piece = Buffer.from(Array.from({ length: 48 }, () => Math.floor(rand() * 256))).toString('base64') + '\n';
    else if (r < 0.95) piece = Buffer.from(Array.from({ length: 20 }, () => Math.floor(rand() * 256))).toString('hex') + ' sha1\n';
    else if (r < 0.999) piece = '2024-05-17T10:22:31Z INFO request served in 12 ms status=200 bytes=5120\n';
    else piece = ['card 4111 1111 1111 1111 ', 'iban DE89370400440532013000 ', 'ssn 536-22-1234 ', 'TOP-SECRET '][Math.floor(rand() * 4)] as string;
    parts.push(piece);
    size += piece.length;
  }
  return parts.join('').slice(0, bytes);
}

async function measure(name: string, service: ServiceName, method: ScanMethod, content: ContentDescription, body: Buffer, decodedBytes: number): Promise<void> {
  const set = buildDetectorSet(config.detectors, service, method);
  const times: number[] = [];
  let found: string[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const started = performance.now();
    const scan = new BodyScan(set, content, config);
    for (let i = 0; i < body.length; i += 65536) await scan.write(body.subarray(i, i + 65536));
    found = (await scan.end()).map((v) => `${v.name}×${v.count}`);
    times.push(performance.now() - started);
  }
  const best = Math.min(...times);
  const mbps = decodedBytes / 1024 / 1024 / (best / 1000);
  console.log(`${name.padEnd(28)} ${(body.length / 1048576).toFixed(1).padStart(5)} MiB  best ${best.toFixed(0).padStart(5)} ms  ${mbps.toFixed(1).padStart(6)} MiB/s (decoded)  ${found.join(' ')}`);
}

const text = corpus(SIZE);
const plain = Buffer.from(text);
const json = Buffer.from(JSON.stringify({ lines: text.split('\n') }));
const form = Buffer.from(text.split('\n').map((l, i) => `f${i}=${encodeURIComponent(l)}`).join('&'));
const gzip = zlib.gzipSync(plain);

console.log(`detectors: node ${process.version}, ${ROUNDS} rounds, best round shown`);
await measure('dlp text/plain', 'dlp', 'REQMOD', { contentType: 'text/plain' }, plain, plain.length);
await measure('dlp application/json', 'dlp', 'REQMOD', { contentType: 'application/json' }, json, json.length);
await measure('dlp x-www-form-urlencoded', 'dlp', 'REQMOD', { contentType: 'application/x-www-form-urlencoded' }, form, form.length);
await measure('dlp text/plain gzip', 'dlp', 'REQMOD', { contentType: 'text/plain', contentEncoding: 'gzip' }, gzip, plain.length);
await measure('av download', 'av', 'RESPMOD', { contentType: 'application/octet-stream' }, plain, plain.length);
