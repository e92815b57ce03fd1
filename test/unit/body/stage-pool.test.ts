// The stages that spools on disk copy chunks into are reused from one spool to the next. A hostile
// sequence of bodies must never see another body's bytes: not after a shorter body reuses a stage
// a longer one filled, not with two spools writing at once, not when a spool is destroyed while its
// stage is being written and the next spool takes that stage at once.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Spool, spoolStats } from '../../../src/body/index.js';
import { STAGE_BYTES, idleStages } from '../../../src/body/stage-pool.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

function chunked(data: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size));
  return out;
}

/** A body of one repeated byte, so a stray byte of another body is visible wherever it lands. */
const filled = (byte: number, size: number) => Buffer.alloc(size, byte);

async function spoolOnDisk(data: Buffer, chunkSize = 64 * 1024): Promise<Spool> {
  const spool = new Spool({ memoryBytes: 1024 });
  await pipeline(Readable.from(chunked(data, chunkSize)), spool);
  return spool;
}

afterEach(async () => {
  await sleep(5);
  expect(spoolStats()).toEqual({ spools: 0, memoryBytes: 0, diskBytes: 0, files: 0 });
  vi.restoreAllMocks();
});

describe('spool stages', () => {
  it('a shorter body after a longer one replays only its own bytes (stage reused)', async () => {
    const long = filled(0x41, 3 * STAGE_BYTES + 4321);
    const a = await (await spoolOnDisk(long)).done;
    expect(idleStages()).toBeGreaterThan(0);
    // Shorter than one stage, and one a little over: the stage's tail still holds A's bytes.
    for (const size of [5000, STAGE_BYTES + 17]) {
      const short = filled(0x42, size);
      const b = await (await spoolOnDisk(short, 1000)).done;
      const replayed = await collect(b.replay());
      expect(replayed.length).toBe(size);
      expect(replayed.includes(0x41)).toBe(false);
      expect(b.sha256).toBe(sha(short));
      await b.dispose();
    }
    // A's bytes are in its own file, whatever the stage held since.
    expect((await collect(a.replay())).equals(long)).toBe(true);
    await a.dispose();
  });

  it('two spools writing at the same time each keep their own bytes', async () => {
    const x = randomBytes(2 * STAGE_BYTES + 999);
    const y = randomBytes(3 * STAGE_BYTES + 5);
    const [sx, sy] = [new Spool({ memoryBytes: 100 }), new Spool({ memoryBytes: 100 })];
    // Interleaved chunk by chunk, the way two downloads arrive.
    const cx = chunked(x, 7000);
    const cy = chunked(y, 9000);
    const write = (s: Spool, c: Buffer) => new Promise<void>((resolve, reject) => s.write(c, (err) => (err ? reject(err) : resolve())));
    for (let i = 0; i < Math.max(cx.length, cy.length); i++) {
      await Promise.all([cx[i] ? write(sx, cx[i]!) : undefined, cy[i] ? write(sy, cy[i]!) : undefined]);
    }
    sx.end();
    sy.end();
    const [bx, by] = await Promise.all([sx.done, sy.done]);
    expect(sha(await collect(bx.replay()))).toBe(sha(x));
    expect(sha(await collect(by.replay()))).toBe(sha(y));
    expect([bx.sha256, by.sha256]).toEqual([sha(x), sha(y)]);
    await Promise.all([bx.dispose(), by.dispose()]);
  });

  it('a spool destroyed while its stage is written: the next spool never gets that stage early', async () => {
    for (let round = 0; round < 5; round++) {
      const a = new Spool({ memoryBytes: 10 });
      a.on('error', () => undefined);
      a.write(filled(0x41, 100)); // to disk
      await sleep(2);
      // Fill the stage exactly: its write to the file starts now.
      a.write(filled(0x41, STAGE_BYTES));
      a.destroy();
      // The next body starts at once, while A's stage write may still be pending.
      const bytes = filled(0x42, STAGE_BYTES + 333);
      const b = await (await spoolOnDisk(bytes, 4096)).done;
      const replayed = await collect(b.replay());
      expect(replayed.equals(bytes)).toBe(true);
      await b.dispose();
      await expect(a.done).rejects.toThrow();
    }
  });

  it('a stage is never handed to two spools at once (disposing a finished body gives nothing back twice)', async () => {
    const a = await (await spoolOnDisk(filled(0x41, STAGE_BYTES + 10))).done; // its stage is back in the pool
    const write = (s: Spool, c: Buffer) => new Promise<void>((resolve, reject) => s.write(c, (err) => (err ? reject(err) : resolve())));
    const b = new Spool({ memoryBytes: 10 });
    const c = new Spool({ memoryBytes: 10 });
    await write(b, filled(0x42, 100)); // to disk; the next bytes wait in a stage
    await write(b, filled(0x42, 1000));
    await a.dispose();
    await write(c, filled(0x43, 100));
    await write(c, filled(0x43, 1000));
    await write(b, filled(0x42, 1000));
    b.end();
    c.end();
    const [bb, cb] = await Promise.all([b.done, c.done]);
    expect((await collect(bb.replay())).equals(filled(0x42, 2100))).toBe(true);
    expect((await collect(cb.replay())).equals(filled(0x43, 1100))).toBe(true);
    await Promise.all([bb.dispose(), cb.dispose()]);
  });

  it('a follower of a body on disk sees every byte, in order, as stages are written', async () => {
    const data = randomBytes(5 * STAGE_BYTES + 12345);
    const spool = new Spool({ memoryBytes: 64 * 1024 });
    const followed = collect(spool.follow());
    await pipeline(Readable.from(chunked(data, 16 * 1024)), spool);
    expect((await followed).equals(data)).toBe(true);
    await (await spool.done).dispose();
  });

  it('writes the file once per stage, not once per chunk', async () => {
    const handle = await fs.promises.open('/dev/null', 'r');
    const proto = Object.getPrototypeOf(handle) as { writev: (...args: unknown[]) => unknown };
    await handle.close();
    const writev = vi.spyOn(proto, 'writev');
    const data = randomBytes(8 * STAGE_BYTES);
    const body = await (await spoolOnDisk(data, 16 * 1024)).done;
    // 128 chunks of 16 KiB: the first spill, then one write per full stage (8 at most).
    expect(writev.mock.calls.length).toBeLessThanOrEqual(9);
    expect(sha(await collect(body.replay()))).toBe(sha(data));
    await body.dispose();
  });
});
