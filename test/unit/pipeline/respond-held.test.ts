// A held body sent to the client (pipeHeld) or the origin (ramBytes): one write while it is in
// RAM, streamed with backpressure once it went to a file, byte for byte either way.
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ramBytes, Spool, type SpooledBody } from '../../../src/body/index.js';
import { pipeHeld } from '../../../src/pipeline/respond.js';

async function held(chunks: Buffer[], memoryBytes: number): Promise<SpooledBody> {
  const spool = new Spool({ memoryBytes });
  for (const chunk of chunks) spool.write(chunk);
  spool.end();
  return spool.done;
}

/** A writable that records each write and how the stream ended. */
function recorder(highWaterMark = 16 * 1024) {
  const writes: Buffer[] = [];
  const sink = new Writable({
    highWaterMark,
    write(chunk: Buffer, _enc, done) {
      writes.push(chunk);
      setImmediate(done);
    },
  });
  const finished = new Promise<void>((resolve, reject) => sink.once('finish', resolve).once('error', reject));
  return { sink, writes, finished };
}

describe('a held body written out', () => {
  it('in RAM: the whole body in one write, counted once, however many chunks the spool holds', async () => {
    const parts = [randomBytes(3000), randomBytes(5000), randomBytes(1)];
    const body = await held(parts, 1 << 20);
    const { sink, writes, finished } = recorder();
    let counted = 0;
    pipeHeld(body, sink, (n) => (counted += n));
    await finished;
    expect(writes).toHaveLength(1);
    expect(writes[0]!.equals(Buffer.concat(parts))).toBe(true);
    expect(counted).toBe(8001);
    // one chunk is handed on as it is, not copied
    const one = await held([parts[0]!], 1 << 20);
    expect(ramBytes(one)).toBe(one.ram![0]);
    await body.dispose();
    await one.dispose();
  });

  it('in a file: streamed in pieces with backpressure, byte for byte', async () => {
    const data = randomBytes(300 * 1024);
    const body = await held([data.subarray(0, 100_000), data.subarray(100_000)], 64 * 1024);
    expect(body.inMemory).toBe(false);
    expect(ramBytes(body)).toBeUndefined();
    const { sink, writes, finished } = recorder(8 * 1024);
    let counted = 0;
    pipeHeld(body, sink, (n) => (counted += n));
    await finished;
    expect(writes.length).toBeGreaterThan(1);
    expect(Buffer.concat(writes).equals(data)).toBe(true);
    expect(counted).toBe(data.length);
    await body.dispose();
  });

  it('empty or absent: the writable ends with nothing written; ramBytes has no bytes to give', async () => {
    const empty = await held([], 1024);
    expect(ramBytes(empty)).toBeUndefined();
    for (const body of [empty, null]) {
      const { sink, writes, finished } = recorder();
      pipeHeld(body, sink, () => undefined);
      await finished;
      expect(writes).toHaveLength(0);
    }
  });

  it('to a client already gone: no throw, the body can still be released', async () => {
    const body = await held([randomBytes(2048)], 1 << 20);
    const { sink } = recorder();
    sink.on('error', () => undefined);
    sink.destroy();
    expect(() => pipeHeld(body, sink, () => undefined)).not.toThrow();
    await body.dispose();
  });
});
