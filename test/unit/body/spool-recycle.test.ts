// SpoolReader.recycle(): a consumer gives back file-read buffers it is done with, and the reader
// reads the next bytes into them. Hostile consumers: a foreign buffer, a view, the same buffer
// twice, a buffer given back while still in use by the caller. None may make a reader hand out a
// byte that is not the body's at that offset, and a short last read never shows older bytes.
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Spool, spoolStats } from '../../../src/body/index.js';
import { SpoolReader } from '../../../src/body/spool-reader.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const KIB64 = 64 * 1024;

async function onDisk(data: Buffer) {
  const spool = new Spool({ memoryBytes: 1024 });
  await pipeline(Readable.from([data.subarray(0, 1000), data.subarray(1000)]), spool);
  return spool.done;
}

/** Read a stream with read(), copying each chunk, then giving it back at once. */
async function drainRecycling(reader: SpoolReader, onChunk: (chunk: Buffer) => void = () => undefined): Promise<Buffer> {
  const copies: Buffer[] = [];
  for (;;) {
    const chunk = reader.read() as Buffer | null;
    if (chunk === null) {
      if (reader.readableEnded) break;
      await new Promise<void>((resolve) => {
        const done = () => {
          reader.off('readable', done);
          reader.off('end', done);
          resolve();
        };
        reader.on('readable', done);
        reader.on('end', done);
      });
      continue;
    }
    copies.push(Buffer.from(chunk));
    onChunk(chunk);
    reader.recycle(chunk);
  }
  return Buffer.concat(copies);
}

afterEach(() => {
  expect(spoolStats()).toMatchObject({ spools: 0, files: 0 });
  vi.restoreAllMocks();
});

describe('SpoolReader.recycle', () => {
  it('reads into given-back buffers; every byte is the body, and a short last read shows only its own bytes', async () => {
    // 0xAA everywhere, then a tail of 10 bytes of 0x01: a reused buffer still holds 0xAA past them.
    const data = Buffer.concat([Buffer.alloc(5 * KIB64, 0xaa), Buffer.alloc(10, 0x01)]);
    const body = await onDisk(data);
    const alloc = vi.spyOn(Buffer, 'allocUnsafe');
    const reader = body.replay() as SpoolReader;
    const seen = new Set<Buffer>();
    const out = await drainRecycling(reader, (chunk) => seen.add(chunk));
    expect(out.equals(data)).toBe(true);
    expect(out.subarray(-10).equals(Buffer.alloc(10, 0x01))).toBe(true);
    // 6 reads, but buffers came back: fewer new ones than reads.
    expect(alloc.mock.calls.filter(([n]) => n === KIB64).length).toBeLessThan(6);
    await body.dispose();
  });

  it('ignores a foreign buffer, a view of its own, and a buffer given back twice', async () => {
    const data = randomBytes(8 * KIB64 + 123);
    const body = await onDisk(data);
    const reader = body.replay() as SpoolReader;
    const foreign = Buffer.alloc(KIB64, 0xee);
    reader.recycle(foreign);
    const handedOut: Buffer[] = [];
    const out = await drainRecycling(reader, (chunk) => {
      handedOut.push(chunk);
      reader.recycle(chunk.subarray(1)); // a view: never taken
      reader.recycle(chunk); // twice (drainRecycling gives it back once more): kept once
    });
    expect(sha(out)).toBe(sha(data));
    expect(handedOut.includes(foreign)).toBe(false);
    expect(foreign.equals(Buffer.alloc(KIB64, 0xee))).toBe(true); // never read into
    // A buffer given back twice is kept once: two reads can never fill the same buffer at once.
    const spare = (reader as unknown as { spare: Buffer[] }).spare;
    expect(new Set(spare).size).toBe(spare.length);
    await body.dispose();
  });

  it('two readers of one body never share a buffer', async () => {
    const data = randomBytes(6 * KIB64);
    const body = await onDisk(data);
    const a = body.replay() as SpoolReader;
    const b = body.replay() as SpoolReader;
    const fromA = new Set<Buffer>();
    const [outA, outB] = await Promise.all([drainRecycling(a, (c) => fromA.add(c)), drainRecycling(b, (c) => expect(fromA.has(c)).toBe(false))]);
    expect(outA.equals(data)).toBe(true);
    expect(outB.equals(data)).toBe(true);
    await body.dispose();
  });
});
