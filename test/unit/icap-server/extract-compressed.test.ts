// bzip2 and xz files, checked against the reference tools (bzip2, xz from Debian): levels and
// multi-block files, concatenated streams, bombs stopped by the ratio limit, truncated files
// read as far as they go, archives inside.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { EICAR } from '../../../src/icap-server/detectors/eicar.js';
import { ensureBinary } from '../../support/peers/common.js';
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
  ['bzip2', 'bzip2', (level: number) => ['-c', `-${level}`]],
])('%s files', (_, binary, args) => {
  const compress = (data: Buffer, level = 9) => tool(binary, binary, args(level), data);

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
    const bomb = compress(Buffer.alloc(64 * 1024 * 1024));
    const before = process.memoryUsage().rss;
    const started = Date.now();
    expect(await dlp(bomb)).toEqual(['decode-limit:ratio']);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 1024 * 1024);
  });

  it('opens what is inside (a tar with EICAR, a zip)', async () => {
    const inner = zip([{ name: 'plan.txt', data: 'memo: TOP-SECRET' }]);
    expect(await dlp(compress(inner))).toEqual(['keyword:top-secret']);
    expect(await scan(compress(EICAR), { content: octets, service: 'av', method: 'RESPMOD' })).toEqual(['EICAR-Test-File']);
  });
});
