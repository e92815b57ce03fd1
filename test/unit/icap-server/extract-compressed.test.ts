// bzip2 and xz files, checked against the reference tools (bzip2, xz from Debian): levels and
// multi-block files, concatenated streams, bombs stopped by the ratio limit, truncated files
// read as far as they go, archives inside.
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type ByteSink, DecodeBudget } from '../../../src/icap-server/decode/byte-sink.js';
import { EICAR } from '../../../src/icap-server/detectors/eicar.js';
import { Findings } from '../../../src/icap-server/detectors/findings.js';
import { bzip2Decoder } from '../../../src/icap-server/extract/bzip2-decoder.js';
import { xzDecoder } from '../../../src/icap-server/extract/xz-decoder.js';
import { ensureBinary } from '../../support/peers/common.js';
import { fastestMs, timedMs } from '../../support/timing.js';
import { chunked, zip } from './extract-fixtures.js';
import { scan } from './helpers.js';

const keyword = { detectors: { keywords: [{ name: 'top-secret', words: ['TOP-SECRET'] }] } };
const octets = { contentType: 'application/octet-stream' };
const dlp = (body: Buffer | Buffer[], icapServer: Record<string, unknown> = {}) => scan(body, { content: octets, icapServer: { ...keyword, ...icapServer } });

function tool(binary: string, pkg: string, args: string[], input: Buffer): Buffer {
  const path = ensureBinary(binary, [pkg]);
  const r = spawnSync(path, args, { input, maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${binary} failed: ${r.stderr.toString()}`);
  return r.stdout;
}

/** Lines that do not repeat, so the compressor has real work (and bzip2 several blocks). */
const prose = (lines: number) => Buffer.from(Array.from({ length: lines }, (_, i) => `line ${i}: order ${(i * 7919) % 100_003} shipped to depot ${(i * 31) % 977}\n`).join(''));

describe.each([
  ['bzip2', 'bzip2', 'bzip2', (level: number) => ['-c', `-${level}`]],
  ['xz', 'xz', 'xz-utils', (level: number) => ['-c', `-${level}`, '--block-size=300KiB']],
])('%s files', (_, binary, pkg, args) => {
  const compress = (data: Buffer, level = 9) => tool(binary, pkg, args(level), data);

  it('reads a small file and a multi-block file, at any chunk size', async () => {
    expect(await dlp(compress(Buffer.from('memo: TOP-SECRET plans')))).toEqual(['keyword:top-secret']);
    const big = Buffer.concat([prose(8_000), Buffer.from('memo: TOP-SECRET plans\n'), prose(8_000)]);
    const body = compress(big, 1);
    for (const size of [997, 65_536, body.length]) expect(await dlp(chunked(body, size))).toEqual(['keyword:top-secret']);
    expect(await dlp(compress(prose(20_000), 1))).toEqual([]);
  });

  it('reads concatenated streams, and a truncated file as far as it goes', async () => {
    const two = Buffer.concat([compress(Buffer.from('first part\n')), compress(Buffer.from('memo: TOP-SECRET\n'))]);
    expect(await dlp(two)).toEqual(['keyword:top-secret']);
    const body = compress(Buffer.concat([Buffer.from('memo: TOP-SECRET plans\n'), prose(20_000)]), 1);
    expect(await dlp(body.subarray(0, Math.floor(body.length * 0.6)))).toEqual(['keyword:top-secret']);
  });

  it('stops a bomb at the ratio limit without holding its output', async () => {
    const bomb = compress(Buffer.alloc(64 * 1024 * 1024), 1);
    const before = process.memoryUsage().rss;
    expect(await dlp(bomb)).toEqual(['decode-limit:ratio']);
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 1024 * 1024);
    // The stop ends the work: it costs a fraction of reading the whole 64 MiB (the same body under a
    // ratio it passes; a baseline in the same test, not a wall-clock bound a loaded CI machine can
    // pass). Best of three for the stop: a shared machine's pauses only ever add time.
    const wholeMs = await timedMs(async () => expect(await dlp(bomb, { extract: { maxRatio: 1_000_000 } })).toEqual([]));
    const stoppedMs = await fastestMs(3, async () => expect(await dlp(bomb)).toEqual(['decode-limit:ratio']));
    expect(stoppedMs / wholeMs).toBeLessThan(0.5);
  });

  it('opens what is inside (a tar with EICAR, a zip)', async () => {
    const inner = zip([{ name: 'plan.txt', data: 'memo: TOP-SECRET' }]);
    expect(await dlp(compress(inner))).toEqual(['keyword:top-secret']);
    expect(await scan(compress(EICAR), { content: octets, service: 'av', method: 'RESPMOD' })).toEqual(['EICAR-Test-File']);
  });
});

describe('decoders, byte for byte against the reference tools', () => {
  // Random bytes (literals), repeated phrases (matches, rep matches), runs (bzip2's run lengths).
  const parts: Buffer[] = [];
  for (let i = 0; i < 200; i++) {
    parts.push(crypto.randomBytes((i * 37) % 4000), Buffer.from(`record ${i} value ${(i * 7919) % 1000} `.repeat(i % 40)), Buffer.alloc(i % 600, i & 0xff));
  }
  const data = Buffer.concat(parts);
  const decode = async (decoder: (out: ByteSink, budget: DecodeBudget, leftover: ByteSink) => ByteSink, packed: Buffer) => {
    const out: Buffer[] = [];
    const leftover: Buffer[] = [];
    const budget = new DecodeBudget({ maxDecodedBytes: 1 << 30, maxRatio: 1e9, maxEntries: 1 }, new Findings());
    const collect = (into: Buffer[]): ByteSink => ({ write: async (c) => void into.push(Buffer.from(c)), end: async () => undefined });
    const sink = decoder(collect(out), budget, collect(leftover));
    for (let i = 0; i < packed.length; i += 4093) await sink.write(packed.subarray(i, i + 4093));
    await sink.end();
    // A whole file leaves nothing to scan as it is.
    expect(leftover).toEqual([]);
    return Buffer.concat(out);
  };

  it.each([
    ['xz -6', 'xz', 'xz-utils', ['-c', '-6'], xzDecoder],
    ['xz -0', 'xz', 'xz-utils', ['-c', '-0'], xzDecoder],
    ['xz with lc=4 lp=0 pb=0', 'xz', 'xz-utils', ['-c', '--lzma2=preset=1,lc=4,lp=0,pb=0'], xzDecoder],
    ['bzip2 -9', 'bzip2', 'bzip2', ['-c', '-9'], bzip2Decoder],
  ] as const)('%s', async (_, binary, pkg, args, decoder) => {
    const packed = tool(binary, pkg, [...args], data);
    expect((await decode(decoder, packed)).equals(data)).toBe(true);
  });
});
