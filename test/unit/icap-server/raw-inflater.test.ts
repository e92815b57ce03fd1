import { randomBytes } from 'node:crypto';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { type ByteSink, DecodeBudget } from '../../../src/icap-server/decode/byte-sink.js';
import { Findings } from '../../../src/icap-server/detectors/findings.js';
import { RawInflater } from '../../../src/icap-server/extract/raw-inflater.js';

/** A text of `bytes` (several output pieces of 64 KiB) that deflates about 2:1. */
function text(bytes: number): Buffer {
  const words = randomBytes(bytes / 4).toString('hex');
  return Buffer.from(words.replace(/(.{7})/g, '$1 ').slice(0, bytes));
}

function collect(): ByteSink & { bytes: () => Buffer; ended: boolean } {
  const pieces: Buffer[] = [];
  return {
    ended: false,
    async write(chunk) {
      pieces.push(Buffer.from(chunk));
    },
    async end() {
      this.ended = true;
    },
    bytes: () => Buffer.concat(pieces),
  };
}

function budget(maxRatio = 1000): { budget: DecodeBudget; findings: Findings } {
  const findings = new Findings();
  return { budget: new DecodeBudget({ maxDecodedBytes: 1 << 30, maxRatio, maxEntries: 100 }, findings), findings };
}

/** Writes `input` in chunks of `size`, as the zip reader does: how many bytes the stream took. */
async function feed(inflater: RawInflater, input: Buffer, size: number): Promise<number> {
  let used = 0;
  for (let at = 0; at < input.length && !inflater.done; at += size) used += await inflater.write(input.subarray(at, at + size));
  return used;
}

describe('RawInflater', () => {
  const plain = text(256 * 1024);
  const deflated = zlib.deflateRawSync(plain);

  it('inflates a stream of many output pieces at chunks of 1..7, 64 KiB and whole, and finds where it ends', async () => {
    const after = Buffer.from('PK\x07\x08trailing bytes of the next record');
    for (const size of [1, 2, 3, 5, 7, 65536, deflated.length + after.length]) {
      const out = collect();
      const inflater = new RawInflater(out, budget().budget.ratio());
      const used = await feed(inflater, Buffer.concat([deflated, after]), size);
      await inflater.end();
      expect({ size, used, done: inflater.done, failed: inflater.failed }).toEqual({ size, used: deflated.length, done: true, failed: false });
      expect(out.bytes().equals(plain)).toBe(true);
    }
  });

  it('a stream that ends with its last chunk is done at the next write, which takes nothing', async () => {
    const out = collect();
    const inflater = new RawInflater(out, budget().budget.ratio());
    expect(await inflater.write(deflated)).toBe(deflated.length);
    expect(await inflater.write(Buffer.from('PK\x03\x04'))).toBe(0);
    expect(inflater.done).toBe(true);
    await inflater.end();
    expect(inflater.failed).toBe(false);
    expect(out.bytes().equals(plain)).toBe(true);
  });

  it('a stream cut anywhere fails at its end, after handing on all it could inflate', async () => {
    for (const cut of [1, 2, 100, deflated.length >> 1, deflated.length - 1]) {
      const out = collect();
      const inflater = new RawInflater(out, budget().budget.ratio());
      expect(await feed(inflater, deflated.subarray(0, cut), 4096)).toBe(cut);
      await inflater.end();
      expect({ cut, done: inflater.done, failed: inflater.failed }).toEqual({ cut, done: true, failed: true });
      const got = out.bytes();
      expect(plain.subarray(0, got.length).equals(got)).toBe(true);
    }
  });

  it('broken data fails the stream: the write takes nothing, what earlier writes inflated was handed on', async () => {
    // A sync-flushed stream ends on a byte boundary; a block of the reserved type 11 follows (RFC 1951 §3.2.3).
    const head = zlib.deflateRawSync(plain, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    const broken = Buffer.concat([head, Buffer.from([0x07]), deflated]);
    const out = collect();
    const inflater = new RawInflater(out, budget().budget.ratio());
    expect(await inflater.write(broken.subarray(0, head.length))).toBe(head.length);
    expect(await inflater.write(broken.subarray(head.length))).toBe(0);
    expect({ done: inflater.done, failed: inflater.failed }).toEqual({ done: true, failed: true });
    expect(await inflater.write(Buffer.from('more'))).toBe(0);
    await inflater.end();
    expect(out.bytes().equals(plain)).toBe(true);
  });

  it('a bomb stops at the ratio limit, without a piece past it handed on', async () => {
    const bomb = zlib.deflateRawSync(Buffer.alloc(64 << 20));
    const { budget: b, findings } = budget(10);
    const meter = b.ratio();
    let handed = 0;
    const inflater = new RawInflater({ write: async (chunk) => void (handed += chunk.length), end: async () => undefined }, meter);
    expect(await inflater.write(bomb)).toBe(0);
    await inflater.end();
    expect({ done: inflater.done, failed: inflater.failed, stopped: meter.stopped }).toEqual({ done: true, failed: true, stopped: true });
    expect(findings.count('decode-limit:ratio')).toBe(1);
    expect(handed).toBeLessThanOrEqual(1024 * 1024 + 64 * 1024);
  });
});
