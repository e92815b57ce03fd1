// Content extraction in the built-in service (issue 13): MiB/s and MiB per CPU second per format through BodyScan in
// 64 KiB chunks, with the `av` set (extraction and head probes alone) and the `dlp` set (every
// text detector), and the RSS growth while a 200 MiB zip streams through (the target: < 64 MiB).
// Sizes are of the file as sent.
//   node --import tsx bench/extraction.ts [--mib 8] [--zip-mib 200] [--quick]
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import zlib from 'node:zlib';
import { parseConfig } from '../src/config/index.js';
import { BodyScan } from '../src/icap-server/decode/body-scan.js';
import { buildDetectorSet, type ServiceName } from '../src/icap-server/detectors/detector-set.js';
import { docx, pdf, xlsx, zip } from '../test/unit/icap-server/extract-fixtures.js';
import { writeStandaloneReport } from './lib/standalone-report.js';

const { values: args } = parseArgs({ options: { mib: { type: 'string', default: '8' }, 'zip-mib': { type: 'string', default: '200' }, quick: { type: 'boolean', default: false } } });
const quick = args.quick ?? false;
const MIB = quick ? 1 : Number(args.mib);
const ZIP_MIB = quick ? 8 : Number(args['zip-mib']);
const CHUNK = 64 * 1024;
const config = parseConfig({ icapServer: { maxDecodedBytes: 4 * 1024 * 1024 * 1024, detectors: { keywords: [{ name: 'classified', words: ['TOP-SECRET'] }] } } }).icapServer;
const sets = { av: buildDetectorSet(config.detectors, 'av', 'RESPMOD'), dlp: buildDetectorSet(config.detectors, 'dlp', 'REQMOD') };

/** Sentences that do not repeat, with numbers, like exported notes. */
function sentences(bytes: number): string[] {
  const out: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const s = `Meeting ${i}: the team reviewed order ${(i * 7919) % 100_003} for client ${(i * 104_729) % 9973}, shipped ${(i * 31) % 977} units on 2024-05-${(i % 28) + 1}.`;
    out.push(s);
    size += s.length + 1;
  }
  return out;
}

interface Timing {
  ms: number;
  /** CPU of the whole process (the zlib thread pool too): what a core gives on a shared machine. */
  cpuMs: number;
}

async function scanOnce(service: ServiceName, body: Buffer, contentType: string): Promise<Timing> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const scan = new BodyScan(sets[service], { contentType }, config, { service, method: service === 'av' ? 'RESPMOD' : 'REQMOD' });
  for (let at = 0; at < body.length; at += CHUNK) await scan.write(body.subarray(at, at + CHUNK));
  await scan.end();
  const used = process.cpuUsage(cpu);
  return { ms: performance.now() - started, cpuMs: (used.user + used.system) / 1000 };
}

function tool(binary: string, input: Buffer): Buffer {
  const r = spawnSync(binary, ['-c', '-6'], { input, maxBuffer: 1 << 30 });
  return r.status === 0 ? r.stdout : Buffer.alloc(0);
}

async function formats(): Promise<string[]> {
  const lines = sentences(MIB * 1024 * 1024);
  const text = Buffer.from(lines.join('\n'));
  const bodies: Array<[string, Buffer, string]> = [
    ['text', text, 'text/plain'],
    ['docx', docx(lines.map((l) => l.replace(/ (order|client) /g, ' $1| '))), 'application/octet-stream'],
    ['xlsx', xlsx(lines.slice(0, lines.length / 2).map((l, i) => [`row ${i}`, l, i])), 'application/octet-stream'],
    ['pdf', pdf(Array.from({ length: Math.ceil(lines.length / 45) }, (_, p) => lines.slice(p * 45, p * 45 + 45))), 'application/pdf'],
    ['zip of text', zip([{ name: 'notes.txt', data: text }]), 'application/zip'],
    ['gzip', zlib.gzipSync(text), 'application/gzip'],
    ['bzip2', tool('bzip2', text), 'application/x-bzip2'],
    ['xz', tool('xz', text), 'application/x-xz'],
  ];
  const rows = [
    '',
    `## Throughput per format (${MIB} MiB of text each, best of 3)`,
    '',
    'MiB of the file as sent, per second of wall time and per CPU second (the second counts only the CPU the process got, which is what a core gives when the machine is shared).',
    '',
    '| format | file MiB | extraction only (av) MiB/s | av MiB per CPU s | all detectors (dlp) MiB/s | dlp MiB per CPU s |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const [name, body, type] of bodies) {
    if (body.length === 0) continue;
    const best = async (service: ServiceName) => {
      let best: Timing = { ms: Infinity, cpuMs: Infinity };
      for (let round = 0; round < 3; round++) {
        const timing = await scanOnce(service, body, type);
        best = { ms: Math.min(best.ms, timing.ms), cpuMs: Math.min(best.cpuMs, timing.cpuMs) };
      }
      return best;
    };
    const mib = body.length / 1024 / 1024;
    const rate = (ms: number) => (mib / (ms / 1000)).toFixed(1);
    const av = await best('av');
    const dlp = await best('dlp');
    rows.push(`| ${name} | ${mib.toFixed(2)} | ${rate(av.ms)} | ${rate(av.cpuMs)} | ${rate(dlp.ms)} | ${rate(dlp.cpuMs)} |`);
  }
  return rows;
}

/** A zip of ZIP_MIB built entry by entry while it is scanned: no copy of it is ever held whole. */
async function bigZip(): Promise<string[]> {
  const entryBytes = 2 * 1024 * 1024;
  const text = Buffer.from(sentences(entryBytes).join('\n')).subarray(0, entryBytes);
  const packed = zlib.deflateRawSync(text, { level: 1 });
  const entries = Math.ceil((ZIP_MIB * 1024 * 1024) / packed.length);
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const scan = new BodyScan(sets.dlp, { contentType: 'application/zip' }, config, { service: 'dlp', method: 'REQMOD' });
  const cpu = process.cpuUsage();
  const started = performance.now();
  let sent = 0;
  for (let i = 0; i < entries; i++) {
    // One local header per entry, as a streaming writer emits it (sizes known, deflate).
    const header = zip([{ name: `part-${i}.txt`, data: '' }]).subarray(0, 30 + `part-${i}.txt`.length);
    header.writeUInt16LE(8, 8);
    header.writeUInt32LE(packed.length, 18);
    header.writeUInt32LE(text.length, 22);
    for (const piece of [header, packed]) {
      for (let at = 0; at < piece.length; at += CHUNK) {
        await scan.write(piece.subarray(at, at + CHUNK));
        peak = Math.max(peak, process.memoryUsage().rss);
      }
      sent += piece.length;
    }
  }
  const found = await scan.end();
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6;
  const mib = sent / 1024 / 1024;
  return [
    '',
    `## A ${mib.toFixed(0)} MiB zip streamed through the dlp set`,
    '',
    `${entries} deflated entries of 2 MiB of text (${((entries * text.length) / 1024 / 1024).toFixed(0)} MiB decoded); ${(mib / seconds).toFixed(1)} MiB/s of zip, ${(mib / cpuSeconds).toFixed(1)} MiB per CPU second;`,
    `RSS growth at peak: ${((peak - baseline) / 1024 / 1024).toFixed(1)} MiB (target < 64 MiB); violations: ${found.map((v) => v.name).join(', ') || 'none'}.`,
  ];
}

// The zip first, in a process that has not yet grown its heap on the other formats.
const zipLines = await bigZip();
const lines = [...(await formats()), ...zipLines];
writeStandaloneReport('extraction', 'Content extraction: throughput per format and memory', lines, quick);
