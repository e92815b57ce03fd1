// Micro-benchmark of the sans-IO ICAP codec: encode and decode throughput in MB/s for a 16 MiB
// chunked body (fed in 64 KiB and in 1460-byte pieces, a TCP segment), and heads per second for
// a c-icap block answer. Run: node --import tsx bench/icap-codec.ts
import type { HttpHead } from '../src/core/types.js';
import { IcapResponseDecoder, IcapRequestDecoder, encodeChunk, encodeIcapRequest, encodeIcapResponse, encodeLastChunk } from '../src/icap/codec/index.js';

const MiB = 1024 * 1024;
const BODY = 16 * MiB;
const CHUNK = 64 * 1024;
const req: HttpHead = { kind: 'request', method: 'POST', target: 'http://upload.test/form', version: '1.1', headers: [['Host', 'upload.test'], ['Content-Type', 'text/plain'], ['Content-Length', String(BODY)], ['User-Agent', 'bench']] };
const res: HttpHead = { kind: 'response', status: 403, reason: 'Forbidden', version: '1.0', headers: [['Server', 'C-ICAP'], ['Connection', 'close'], ['Content-Type', 'text/html']] };
const block = Buffer.alloc(CHUNK, 0x61);

function time(label: string, bytes: number, rounds: number, fn: () => void): [string, string, string] {
  fn(); // warm up
  const t = performance.now();
  for (let i = 0; i < rounds; i++) fn();
  const s = (performance.now() - t) / 1000;
  return [label, bytes > 0 ? ((bytes * rounds) / MiB / s).toFixed(0) + ' MB/s' : '', ((rounds / s) | 0).toLocaleString('en') + ' /s'];
}

const encodeBody = () => {
  const parts: Buffer[] = [encodeIcapRequest({ method: 'REQMOD', uri: 'icap://127.0.0.1:1344/dlp', reqHead: req, hasBody: true, headers: [['Allow', '204']] })];
  for (let sent = 0; sent < BODY; sent += CHUNK) parts.push(...encodeChunk(block));
  parts.push(encodeLastChunk());
  return parts;
};
const requestWire = Buffer.concat(encodeBody());
const responseWire = Buffer.concat([encodeIcapResponse({ status: 200, headers: [['ISTag', '"x"']], resHead: res, hasBody: true }), ...Array.from({ length: BODY / CHUNK }, () => encodeChunk(block)).flat(), encodeLastChunk()]);
const blockAnswer = Buffer.concat([
  encodeIcapResponse({ status: 200, headers: [['ISTag', '"CI0001-1"'], ['X-Infection-Found', 'Type=0; Resolution=2; Threat=Eicar-Test-Signature;'], ['X-Violations-Found', '1']], resHead: res, hasBody: true }),
  ...encodeChunk(Buffer.alloc(400, 0x62)),
  encodeLastChunk(),
]);

function feed(decoder: { push(b: Uint8Array): unknown[] }, wire: Buffer, piece: number): void {
  for (let i = 0; i < wire.length; i += piece) decoder.push(wire.subarray(i, i + piece));
}

const rows = [
  time('encode REQMOD head', 0, 200_000, () => encodeIcapRequest({ method: 'REQMOD', uri: 'icap://127.0.0.1:1344/dlp', reqHead: req, hasBody: true })),
  time('encode 16 MiB body (64 KiB chunks)', BODY, 20, () => encodeBody()),
  time('decode response, 64 KiB pieces', BODY, 20, () => feed(new IcapResponseDecoder(), responseWire, CHUNK)),
  time('decode response, 1460 B pieces', BODY, 5, () => feed(new IcapResponseDecoder(), responseWire, 1460)),
  time('decode request (server), 64 KiB', BODY, 20, () => feed(new IcapRequestDecoder(), requestWire, CHUNK)),
  time('decode c-icap block answer (whole)', 0, 100_000, () => new IcapResponseDecoder().push(blockAnswer)),
];

const widths = [38, 12, 14];
const fmt = (cols: string[]) => cols.map((c, i) => c.padEnd(widths[i]!)).join(' | ');
console.log(fmt(['case', 'throughput', 'rate']));
console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
for (const r of rows) console.log(fmt(r));
