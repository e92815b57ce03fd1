// patches/sonic-boom+4.2.1.patch: sonic-boom keeps the byte length of its last pending string
// instead of measuring it (and so flattening it) again on every write. What it must keep: no
// pending piece grows past maxWrite bytes, multi-byte characters are counted as bytes, and the
// file receives every line, whole and in order, however the writes were split. It is reached as
// the proxy reaches it: pino.destination.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

interface Pending {
  _bufs: string[];
  _lastLen?: number;
}

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlp-sonic-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const line = (i: number) => `{"n":${i},"text":"${i % 3 === 0 ? 'Grüße, 東京 ✓ '.repeat(1 + (i % 7)) : 'plain '.repeat(1 + (i % 11))}"}\n`;

type SonicBoom = ReturnType<typeof pino.destination>;

function ended(sb: SonicBoom): Promise<void> {
  return new Promise((resolve, reject) => {
    sb.once('close', () => resolve());
    sb.once('error', reject);
    sb.end();
  });
}

describe('sonic-boom pending pieces (patched)', () => {
  it('is the patched copy', async () => {
    // without the patch the cost of a log line grows with the lines pending before it
    const sb = pino.destination({ dest: path.join(dir, 'log'), sync: true });
    expect(String(sb.write)).toContain('_lastLen');
    await ended(sb);
  });

  it('keeps every pending piece within maxWrite bytes, counting multi-byte characters as bytes', async () => {
    const file = path.join(dir, 'log');
    const sb = pino.destination({ dest: file, sync: false, minLength: 0, maxWrite: 512 });
    await new Promise<void>((resolve) => sb.once('ready', () => resolve()));
    const written: string[] = [];
    // one burst in one turn: the first line starts a write, the rest pend behind it
    for (let i = 0; i < 400; i++) {
      const text = line(i);
      written.push(text);
      sb.write(text);
      const pending = sb as unknown as Pending;
      for (const piece of pending._bufs) expect(Buffer.byteLength(piece)).toBeLessThanOrEqual(512);
      const last = pending._bufs.at(-1);
      if (last !== undefined && pending._lastLen !== undefined) expect(pending._lastLen).toBe(Buffer.byteLength(last));
    }
    expect((sb as unknown as Pending)._bufs.length).toBeGreaterThan(10);
    await ended(sb);
    expect(fs.readFileSync(file, 'utf8')).toBe(written.join(''));
  });

  it('writes every line whole and in order across bursts, flushSync and minLength', async () => {
    const file = path.join(dir, 'log');
    const sb = pino.destination({ dest: file, sync: false, minLength: 4096 });
    await new Promise<void>((resolve) => sb.once('ready', () => resolve()));
    const written: string[] = [];
    for (let burst = 0; burst < 50; burst++) {
      for (let i = 0; i < 40; i++) {
        const text = line(burst * 40 + i);
        written.push(text);
        sb.write(text);
      }
      // a flush mid-way (as pino.final does at exit) puts what is being written back in front
      if (burst === 20) await new Promise<void>((resolve) => sb.flush(() => resolve()));
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    await ended(sb);
    expect(fs.readFileSync(file, 'utf8')).toBe(written.join(''));
  });
});
