import { createHash, randomBytes } from 'node:crypto';
import diagnostics_channel from 'node:diagnostics_channel';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { Spool, spoolStats, type SpoolEvent } from '../../../src/body/index.js';
import { ProxyError } from '../../../src/core/errors.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

/** Spool temp files this process holds open, as /proc/self/fd sees them (the name ends "(deleted)"). */
function openSpoolFiles(): Array<{ fd: string; target: string }> {
  const out: Array<{ fd: string; target: string }> = [];
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      const target = fs.readlinkSync(`/proc/self/fd/${fd}`);
      if (target.includes('dlp-proxy-spool-')) out.push({ fd, target });
    } catch {
      /* the fd closed while listing */
    }
  }
  return out;
}

function chunked(data: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size));
  return out;
}

async function spoolAll(data: Buffer, options: ConstructorParameters<typeof Spool>[0], chunkSize = 16 * 1024) {
  const spool = new Spool(options);
  await pipeline(Readable.from(chunked(data, chunkSize)), spool);
  return spool.done;
}

afterEach(() => {
  expect(openSpoolFiles()).toEqual([]);
  expect(spoolStats()).toEqual({ spools: 0, memoryBytes: 0, diskBytes: 0, files: 0 });
});

describe('Spool', () => {
  it('holds 0 bytes', async () => {
    const spool = new Spool({ memoryBytes: 1024 });
    spool.end();
    const body = await spool.done;
    expect(body).toMatchObject({ sizeBytes: 0, inMemory: true, sha256: sha(Buffer.alloc(0)) });
    expect(await collect(body.replay())).toEqual(Buffer.alloc(0));
    await body.dispose();
  });

  it.each([
    ['exactly the threshold stays in RAM', 1024, true],
    ['one byte more goes to a file', 1025, false],
  ])('%s', async (_name, size, inMemory) => {
    const data = randomBytes(size);
    const body = await spoolAll(data, { memoryBytes: 1024 }, 100);
    expect(body.inMemory).toBe(inMemory);
    expect(body.sizeBytes).toBe(size);
    expect(body.sha256).toBe(sha(data));
    expect((await collect(body.replay())).equals(data)).toBe(true);
    await body.dispose();
  });

  it('spools 10 MiB to a 0600 temp file with no name, replays it twice at once, frees it on dispose', async () => {
    const data = randomBytes(10 * 1024 * 1024);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-test-'));
    try {
      const body = await spoolAll(data, { memoryBytes: 1024 * 1024, dir }, 64 * 1024);
      expect(body).toMatchObject({ inMemory: false, sizeBytes: data.length, sha256: sha(data) });
      const files = openSpoolFiles();
      expect(files).toHaveLength(1);
      expect(files[0]!.target.startsWith(dir)).toBe(true);
      expect(files[0]!.target.endsWith('(deleted)')).toBe(true); // already unlinked: nothing can leak
      expect(fs.statSync(`/proc/self/fd/${files[0]!.fd}`).mode & 0o777).toBe(0o600);
      expect(fs.readdirSync(dir)).toEqual([]);
      expect(spoolStats()).toMatchObject({ spools: 1, files: 1, diskBytes: data.length, memoryBytes: 0 });
      const [a, b] = await Promise.all([collect(body.replay()), collect(body.replay())]);
      expect(sha(a)).toBe(body.sha256);
      expect(sha(b)).toBe(body.sha256);
      await body.dispose();
      await body.dispose(); // idempotent
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an error mid-stream rejects done, closes the temp file and fails followers', async () => {
    const source = new Readable({ read() {} });
    const spool = new Spool({ memoryBytes: 1024 });
    const follower = collect(spool.follow());
    const piping = pipeline(source, spool);
    source.push(randomBytes(64 * 1024));
    await sleep(20);
    expect(openSpoolFiles()).toHaveLength(1);
    source.destroy(new Error('client reset'));
    await expect(piping).rejects.toThrow('client reset');
    await expect(spool.done).rejects.toThrow('client reset');
    await expect(follower).rejects.toThrow('client reset');
    await sleep(10);
  });

  it.each(['CLIENT_BODY_TOO_LARGE', 'SCAN_OVERSIZE'] as const)('maxBytes fails with the code the caller picks (%s)', async (code) => {
    const spool = new Spool({ memoryBytes: 100, maxBytes: 5000, tooLargeCode: code });
    const err = await pipeline(Readable.from(chunked(randomBytes(6000), 1000)), spool).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProxyError);
    expect((err as ProxyError).code).toBe(code);
    await expect(spool.done).rejects.toMatchObject({ code });
    await sleep(10);
  });

  it('maxBytes also releases everything when written directly, without pipeline()', async () => {
    const spool = new Spool({ memoryBytes: 10, maxBytes: 100, tooLargeCode: 'CLIENT_BODY_TOO_LARGE' });
    spool.on('error', () => undefined);
    spool.write(randomBytes(50));
    await sleep(5);
    expect(openSpoolFiles()).toHaveLength(1);
    const err = await new Promise((resolve) => spool.write(randomBytes(60), resolve));
    expect(err).toMatchObject({ code: 'CLIENT_BODY_TOO_LARGE' });
    await expect(spool.done).rejects.toMatchObject({ code: 'CLIENT_BODY_TOO_LARGE' });
    await sleep(10);
  });

  it('destroy() after done releases the body too (one cleanup call for every path)', async () => {
    const spool = new Spool({ memoryBytes: 10 });
    await pipeline(Readable.from([randomBytes(1000)]), spool);
    const body = await spool.done;
    expect(spoolStats().files).toBe(1);
    spool.destroy();
    await sleep(10);
    expect(() => body.replay()).toThrow(ProxyError);
    await body.dispose();
  });

  it('a body of exactly maxBytes is accepted', async () => {
    const body = await spoolAll(randomBytes(5000), { memoryBytes: 100, maxBytes: 5000 }, 1000);
    expect(body.sizeBytes).toBe(5000);
    await body.dispose();
  });

  it('follow() yields bytes as they arrive, across the move to disk, and ends with the spool', async () => {
    const data = randomBytes(300 * 1024);
    const spool = new Spool({ memoryBytes: 100 * 1024 });
    const early = spool.follow();
    const received: number[] = [];
    early.on('data', (c: Buffer) => received.push(c.length));
    const earlyAll = collect(early);
    const parts = chunked(data, 32 * 1024);
    let late: Promise<Buffer> | undefined;
    for (const [i, part] of parts.entries()) {
      await new Promise<void>((resolve, reject) => spool.write(part, (e) => (e ? reject(e) : resolve())));
      await sleep(2);
      if (i === 0) expect(received.reduce((a, b) => a + b, 0)).toBe(part.length); // before the spool ends
      if (i === 5) late = collect(spool.follow()); // joins after the spill: still starts at byte 0
    }
    spool.end();
    const body = await spool.done;
    expect(body.inMemory).toBe(false);
    expect(sha(await earlyAll)).toBe(sha(data));
    expect(sha(await late!)).toBe(sha(data));
    await body.dispose();
  });

  it('a slow follower does not stall the writer, and still reads everything', async () => {
    const data = randomBytes(512 * 1024);
    const spool = new Spool({ memoryBytes: 64 * 1024 });
    const follower = spool.follow();
    follower.pause();
    await pipeline(Readable.from(chunked(data, 16 * 1024)), spool);
    const body = await spool.done;
    expect(sha(await collect(follower))).toBe(sha(data));
    await body.dispose();
  });

  it('is a Writable with backpressure: write() reports false past its high-water mark until drained', async () => {
    const spool = new Spool({ memoryBytes: 0 });
    const ok = spool.write(Buffer.alloc(128 * 1024));
    expect(ok).toBe(false);
    await new Promise((resolve) => spool.once('drain', resolve));
    spool.end();
    const body = await spool.done;
    expect(body.inMemory).toBe(false);
    await body.dispose();
  });

  it('disposing while a replay runs fails that replay; replay after dispose throws', async () => {
    const body = await spoolAll(randomBytes(256 * 1024), { memoryBytes: 1024 });
    const replay = body.replay();
    replay.pause();
    const reading = collect(replay).catch((e: unknown) => e);
    await body.dispose();
    expect(await reading).toMatchObject({ code: 'SPOOL_FAILED' });
    expect(() => body.replay()).toThrow(ProxyError);
  });

  it('destroying the spool before it ends rejects done with SPOOL_FAILED', async () => {
    const spool = new Spool({ memoryBytes: 1024 });
    spool.write(Buffer.from('partial'));
    spool.destroy();
    await expect(spool.done).rejects.toMatchObject({ code: 'SPOOL_FAILED' });
  });

  it('an unusable spool directory fails with SPOOL_FAILED', async () => {
    const spool = new Spool({ memoryBytes: 10, dir: '/nonexistent/spool-dir' });
    await expect(pipeline(Readable.from([randomBytes(100)]), spool)).rejects.toMatchObject({ code: 'SPOOL_FAILED' });
    await expect(spool.done).rejects.toMatchObject({ code: 'SPOOL_FAILED' });
  });

  it('publishes spill and release on dlp-proxy:spool', async () => {
    const events: SpoolEvent[] = [];
    const listener = (m: unknown) => events.push(m as SpoolEvent);
    diagnostics_channel.subscribe('dlp-proxy:spool', listener);
    try {
      const body = await spoolAll(randomBytes(4096), { memoryBytes: 1024 }, 1024);
      await body.dispose();
    } finally {
      diagnostics_channel.unsubscribe('dlp-proxy:spool', listener);
    }
    expect(events).toEqual([
      { type: 'spill', sizeBytes: 2048 },
      { type: 'release', sizeBytes: 4096, onDisk: true, completed: true },
    ]);
  });
});
