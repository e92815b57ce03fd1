// holdUnlessSame: an ICAP 200 body compared in place with the RAM-held original. An echo keeps
// nothing (no spool, no hash); any difference, at any offset and any chunk cut, yields exactly the
// adapted bytes in a spool; a body that fails, is cut short or grows past the limit rejects and
// leaves no spool behind.
import { createHash, randomBytes } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { holdUnlessSame, Spool, spoolStats, type SpooledBody } from '../../../src/body/index.js';
import { ProxyError } from '../../../src/core/errors.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function chunked(data: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size));
  return out;
}

async function spooled(data: Buffer, cut: number): Promise<SpooledBody> {
  const spool = new Spool({ memoryBytes: 1024 * 1024 });
  for (const part of chunked(data, cut)) spool.write(part);
  spool.end();
  return spool.done;
}

async function bytesOf(body: SpooledBody): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of body.replay()) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

/** Copies, so a match is by content and never by identity. */
const streamOf = (data: Buffer, cut: number) => Readable.from(chunked(Buffer.from(data), cut).map((c) => Buffer.from(c)));

const held: SpooledBody[] = [];
afterEach(async () => {
  for (const body of held.splice(0)) await body.dispose();
  expect(spoolStats().spools).toBe(0);
});

async function original(data: Buffer, cut: number): Promise<SpooledBody> {
  const body = await spooled(data, cut);
  held.push(body);
  expect(body.ram).toBeDefined();
  return body;
}

describe('holdUnlessSame', () => {
  const data = randomBytes(16 * 1024);

  it.each([
    [1000, 7],
    [7, 1000],
    [16 * 1024, 333],
    [4096, 4096],
  ])('an echo cut differently (original in %i-byte chunks, answer in %i) is the same, with no spool made', async (origCut, answerCut) => {
    const o = await original(data, origCut);
    const before = spoolStats().spools;
    expect(await holdUnlessSame(streamOf(data, answerCut), o.ram!, o.sizeBytes, { memoryBytes: 64 * 1024 })).toBe('same');
    expect(spoolStats().spools).toBe(before);
  });

  it.each([0, 1, 4095, 4096, 16 * 1024 - 1])('a byte changed at offset %i yields exactly the adapted body', async (at) => {
    const o = await original(data, 1000);
    const changed = Buffer.from(data);
    changed[at] = changed[at]! ^ 0xff;
    const result = await holdUnlessSame(streamOf(changed, 777), o.ram!, o.sizeBytes, { memoryBytes: 64 * 1024 });
    expect(result).not.toBe('same');
    const body = result as SpooledBody;
    held.push(body);
    expect(body.sha256).toBe(sha(changed));
    expect((await bytesOf(body)).equals(changed)).toBe(true);
  });

  it('a longer body (the original plus a tail) and a shorter one (a prefix) are adapted bodies', async () => {
    const o = await original(data, 1000);
    const longer = Buffer.concat([data, Buffer.from('tail')]);
    const a = (await holdUnlessSame(streamOf(longer, 4096), o.ram!, o.sizeBytes, { memoryBytes: 64 * 1024 })) as SpooledBody;
    held.push(a);
    expect((await bytesOf(a)).equals(longer)).toBe(true);
    const shorter = data.subarray(0, 10_000);
    const b = (await holdUnlessSame(streamOf(shorter, 4096), o.ram!, o.sizeBytes, { memoryBytes: 64 * 1024 })) as SpooledBody;
    held.push(b);
    expect(b.sizeBytes).toBe(10_000);
    expect(b.sha256).toBe(sha(shorter));
  });

  it('an empty answer to an empty original is the same; to a non-empty one it is an empty body', async () => {
    const empty = await original(Buffer.alloc(0), 1);
    expect(await holdUnlessSame(Readable.from([]), empty.ram!, 0, { memoryBytes: 1024 })).toBe('same');
    const o = await original(data, 1000);
    const body = (await holdUnlessSame(Readable.from([]), o.ram!, o.sizeBytes, { memoryBytes: 1024 })) as SpooledBody;
    held.push(body);
    expect(body.sizeBytes).toBe(0);
  });

  it('a body that fails while matching rejects with its error', async () => {
    const o = await original(data, 1000);
    const body = new PassThrough();
    const result = holdUnlessSame(body, o.ram!, o.sizeBytes, { memoryBytes: 64 * 1024 });
    body.write(data.subarray(0, 5000));
    body.destroy(new ProxyError('ICAP_READ_FAILED', 'server went away'));
    await expect(result).rejects.toMatchObject({ code: 'ICAP_READ_FAILED' });
  });

  it('a body destroyed without an error while matching rejects as cut short', async () => {
    const o = await original(data, 1000);
    const body = new PassThrough();
    const result = holdUnlessSame(body, o.ram!, o.sizeBytes, { memoryBytes: 64 * 1024 });
    body.write(data.subarray(0, 5000));
    setImmediate(() => body.destroy());
    await expect(result).rejects.toMatchObject({ code: 'ICAP_READ_FAILED' });
  });

  it('a body that fails after it differed rejects and releases its spool', async () => {
    const o = await original(data, 1000);
    const body = new PassThrough();
    const result = holdUnlessSame(body, o.ram!, o.sizeBytes, { memoryBytes: 64 * 1024 });
    body.write(Buffer.from('not the original'));
    await new Promise((r) => setImmediate(r));
    body.destroy(new ProxyError('ICAP_READ_FAILED', 'server went away'));
    await expect(result).rejects.toMatchObject({ code: 'ICAP_READ_FAILED' });
  });

  it('an adapted body past maxBytes rejects with the spool limit and stops the source', async () => {
    const o = await original(data, 1000);
    const source = streamOf(randomBytes(64 * 1024), 4096);
    await expect(holdUnlessSame(source, o.ram!, o.sizeBytes, { memoryBytes: 8 * 1024, maxBytes: 32 * 1024 })).rejects.toMatchObject({ code: 'SCAN_OVERSIZE' });
    expect(source.destroyed).toBe(true);
  });
});
