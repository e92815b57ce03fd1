// The trickle against a real spool and a response that records what it was given (no sockets):
// the head waits for trickleMinBytes, bytes follow at the rate and never reach the last
// holdBytes of what arrived, a freeze stops everything, finish sends exactly the rest.
import type http from 'node:http';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Spool } from '../../../src/body/index.js';
import { Trickle } from '../../../src/pipeline/trickle.js';
import { deterministicBytes } from '../../support/origin.js';

class RecordingResponse extends Writable {
  head: { status: number; reason: string; headers: string[] } | undefined;
  flushed = false;
  readonly chunks: Buffer[] = [];
  writeHead(status: number, reason: string, headers: string[]): this {
    this.head = { status, reason, headers };
    return this;
  }
  flushHeaders(): void {
    this.flushed = true;
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.chunks.push(chunk);
    cb();
  }
  get body(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

const plan = (over: Partial<{ holdBytes: number; bytesPerSecond: number; minBytes: number }> = {}) => ({
  holdBytes: 1000,
  bytesPerSecond: 1_000_000,
  minBytes: 2000,
  status: 200,
  reason: 'OK',
  headers: ['Content-Length', '10000'],
  ...over,
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const spools: Spool[] = [];
/** In RAM by default; `memoryBytes` small: a temp file written in stages (what a reader sees lags). */
function spool(memoryBytes = 1024 * 1024): Spool {
  const s = new Spool({ memoryBytes });
  spools.push(s);
  return s;
}
afterEach(async () => {
  for (const s of spools.splice(0)) await s.release();
});

describe('trickle', () => {
  it('sends no head before minBytes arrived, then never more than received − holdBytes', async () => {
    const data = deterministicBytes(10_000);
    const res = new RecordingResponse();
    const t = new Trickle(res as unknown as http.ServerResponse, plan(), () => undefined);
    const s = spool();
    t.attach(s);
    s.write(data.subarray(0, 1500));
    await sleep(250);
    expect(res.head).toBeUndefined();
    expect(t.started).toBe(false);
    s.write(data.subarray(1500, 6000));
    await vi.waitFor(() => expect(res.body.length).toBe(5000), { timeout: 5000 });
    expect(res.head).toEqual({ status: 200, reason: 'OK', headers: ['Content-Length', '10000'] });
    expect(res.flushed).toBe(true);
    expect(res.body.equals(data.subarray(0, 5000))).toBe(true);
    s.write(data.subarray(6000, 10_000));
    await vi.waitFor(() => expect(res.body.length).toBe(9000), { timeout: 5000 });
    await sleep(300);
    expect(res.body.length).toBe(9000); // the last holdBytes stay back however long it runs
    expect(t.freeze()).toBe(true);
    s.end();
    const whole = await s.done;
    t.finish(whole.replay(t.sentBytes));
    await new Promise((r) => res.once('finish', r));
    expect(res.body.equals(data)).toBe(true);
  });

  it('a spool on disk: never past received − holdBytes either, and the rest completes byte-exact', async () => {
    const size = 1024 * 1024;
    const hold = 100 * 1024;
    const data = deterministicBytes(size, 5);
    const res = new RecordingResponse();
    const t = new Trickle(res as unknown as http.ServerResponse, plan({ holdBytes: hold, minBytes: hold + 1, bytesPerSecond: 100_000_000 }), () => undefined);
    const s = spool(4096);
    t.attach(s);
    for (let at = 0; at < size; at += 64 * 1024) s.write(data.subarray(at, at + 64 * 1024));
    await vi.waitFor(() => expect(res.body.length).toBeGreaterThan(0), { timeout: 5000 });
    await sleep(300);
    expect(res.body.length).toBeLessThanOrEqual(size - hold);
    expect(res.body.equals(data.subarray(0, res.body.length))).toBe(true);
    t.freeze();
    s.end();
    t.finish((await s.done).replay(t.sentBytes));
    await new Promise((r) => res.once('finish', r));
    expect(res.body.equals(data)).toBe(true);
  });

  it('releases at bytesPerSecond, not as fast as the body arrives', async () => {
    const res = new RecordingResponse();
    const t = new Trickle(res as unknown as http.ServerResponse, plan({ bytesPerSecond: 10_000, holdBytes: 10, minBytes: 11 }), () => undefined);
    const s = spool();
    t.attach(s);
    const started = performance.now();
    s.write(deterministicBytes(100_000));
    await sleep(500);
    // 0.5 s at 10,000 B/s plus one tick's worth (100 ms): about 6,000, far from the 99,990 it may
    // send; bounded by the time that really passed (a loaded machine oversleeps)
    const elapsedMs = performance.now() - started;
    expect(res.body.length).toBeGreaterThan(2000);
    expect(res.body.length).toBeLessThanOrEqual(Math.ceil((10_000 * (elapsedMs + 100)) / 1000));
    t.freeze();
  });

  it('nothing more leaves after freeze(), and cut() destroys the response', async () => {
    const res = new RecordingResponse();
    const counted: number[] = [];
    const t = new Trickle(res as unknown as http.ServerResponse, plan({ bytesPerSecond: 5000 }), (n) => counted.push(n));
    const s = spool();
    t.attach(s);
    s.write(deterministicBytes(8000));
    await vi.waitFor(() => expect(res.body.length).toBeGreaterThan(0), { timeout: 5000 });
    t.freeze();
    const sent = res.body.length;
    expect(sent).toBeGreaterThan(0);
    s.write(deterministicBytes(8000));
    await sleep(300);
    expect(res.body.length).toBe(sent);
    expect(counted.reduce((a, b) => a + b, 0)).toBe(sent);
    t.cut();
    expect(res.destroyed).toBe(true);
  });

  it('a client that goes away stops the trickle (no write after close)', async () => {
    const res = new RecordingResponse();
    const t = new Trickle(res as unknown as http.ServerResponse, plan(), () => undefined);
    const s = spool();
    t.attach(s);
    s.write(deterministicBytes(3000));
    await sleep(200);
    res.destroy();
    await sleep(10);
    s.write(deterministicBytes(5000));
    await sleep(250);
    expect(res.body.length).toBeLessThanOrEqual(2000);
    expect(t.freeze()).toBe(true);
  });
});
