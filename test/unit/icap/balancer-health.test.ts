// The pure parts of balancing and health: the weighted balancer with its error penalty and
// preference for free pools, the suspension/revival state machine with its jittered backoff, and
// the body source that can start over for another server while it holds what it sent.
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Balancer } from '../../../src/icap/balancer.js';
import { BodySource } from '../../../src/icap/body-source.js';
import { DEFAULT_HEALTH, ServerHealth } from '../../../src/icap/server-health.js';

const picks = (b: Balancer<string>, n: number, usable?: (s: string) => boolean, busy?: (s: string) => boolean) =>
  Array.from({ length: n }, () => b.pick(usable, busy));
const tally = (list: Array<string | undefined>) => list.reduce<Record<string, number>>((acc, s) => ({ ...acc, [String(s)]: (acc[String(s)] ?? 0) + 1 }), {});

describe('Balancer', () => {
  it('spreads picks smoothly by weight (no bursts to one server)', () => {
    const b = new Balancer([{ item: 'a', weight: 2 }, { item: 'b', weight: 1 }]);
    expect(picks(b, 6)).toEqual(['a', 'b', 'a', 'a', 'b', 'a']);
  });

  it('sends less to a server after errors and restores it after successes', () => {
    const b = new Balancer([{ item: 'a', weight: 1 }, { item: 'b', weight: 1 }], { errorPenalty: 15 });
    for (let i = 0; i < 4; i++) b.report('a', false);
    expect(b.score('a')).toBe(40);
    expect(tally(picks(b, 140))).toEqual({ a: 40, b: 100 });
    for (let i = 0; i < 10; i++) b.report('a', true);
    expect(b.score('a')).toBe(100);
    expect(tally(picks(b, 100))).toEqual({ a: 50, b: 50 });
    for (let i = 0; i < 50; i++) b.report('b', false);
    expect(b.score('b')).toBe(1);
  });

  it('skips servers that are not usable and prefers ones with a free connection', () => {
    const b = new Balancer([{ item: 'a', weight: 5 }, { item: 'b', weight: 1 }, { item: 'c', weight: 1 }]);
    expect(new Set(picks(b, 10, (s) => s !== 'a'))).toEqual(new Set(['b', 'c']));
    expect(b.pick(() => false)).toBeUndefined();
    // a is full: the others take the work while they have room
    expect(new Set(picks(b, 10, undefined, (s) => s === 'a'))).toEqual(new Set(['b', 'c']));
    // all full: weights decide again, and the transaction queues where it lands
    expect(tally(picks(b, 7, undefined, () => true))).toEqual({ a: 5, b: 1, c: 1 });
  });
});

describe('ServerHealth', () => {
  const policy = { ...DEFAULT_HEALTH, failureLimit: 3, failureWindowMs: 1000, revivalDelayMs: 100, revivalDelayMaxMs: 500, revivalJitterRatio: 0.2 };

  it('suspends after failureLimit failures within the window, not when they are spread out', () => {
    const h = new ServerHealth(policy, 0);
    expect(h.noteFailure('x', 0)).toBeUndefined();
    expect(h.noteFailure('x', 600)).toBeUndefined();
    expect(h.noteFailure('x', 1200)).toBeUndefined(); // the first one left the window
    expect(h.failures).toBe(2);
    const change = h.noteFailure('connect refused', 1300);
    expect(change).toMatchObject({ state: 'suspended', failures: 3 });
    expect(change!.reason).toContain('connect refused');
    expect([h.state, h.since, h.lastError]).toEqual(['suspended', 1300, 'connect refused']);
  });

  it('a success between failures clears the count', () => {
    const h = new ServerHealth(policy, 0);
    h.noteFailure('x', 0);
    h.noteFailure('x', 1);
    expect(h.noteSuccess(false, 2)).toBeUndefined();
    expect(h.noteFailure('x', 3)).toBeUndefined();
    expect(h.failures).toBe(1);
  });

  it('only a probe revives a suspended server', () => {
    const h = new ServerHealth(policy, 0);
    for (let t = 0; t < 3; t++) h.noteFailure('x', t);
    expect(h.noteSuccess(false, 10)).toBeUndefined();
    expect(h.state).toBe('suspended');
    expect(h.noteSuccess(true, 20)).toEqual({ state: 'up', reason: 'OPTIONS probe answered', failures: 3 });
    expect([h.state, h.since, h.failures]).toEqual(['up', 20, 0]);
  });

  it('waits a jittered, doubling revival delay, capped at the maximum', () => {
    const h = new ServerHealth(policy, 0);
    for (let t = 0; t < 3; t++) h.noteFailure('x', t);
    const at = (r: number) => h.revivalDelay(() => r);
    expect([at(0), at(0.5), at(1)]).toEqual([80, 100, 120]);
    h.noteFailure('probe failed', 10);
    expect(at(0.5)).toBe(200);
    h.noteFailure('probe failed', 20);
    h.noteFailure('probe failed', 30);
    expect(at(0.5)).toBe(500);
    for (let i = 0; i < 50; i++) h.noteFailure('probe failed', 40);
    expect(at(1)).toBe(600);
  });

  it('failureLimit 0 never suspends', () => {
    const h = new ServerHealth({ ...policy, failureLimit: 0 }, 0);
    for (let t = 0; t < 20; t++) expect(h.noteFailure('x', t)).toBeUndefined();
    expect(h.state).toBe('up');
  });
});

describe('BodySource', () => {
  const chunks = (...parts: string[]) => Readable.from(parts.map((p) => Buffer.from(p)));
  async function rest(source: BodySource): Promise<string> {
    let out = '';
    for (let c = await source.read(); c !== null; c = await source.read()) out += c.toString();
    return out;
  }

  it('starts over from the first byte while it holds what it handed out', async () => {
    const source = new BodySource(chunks('hello ', 'big ', 'world'), 16);
    expect((await source.read(3))!.toString()).toBe('hel');
    expect((await source.read())!.toString()).toBe('lo ');
    expect(source.rewind()).toBe(true);
    expect(source.consumed).toBe(0);
    expect(await rest(source)).toBe('hello big world');
  });

  it('cannot start over past retainBytes or once drained', async () => {
    const source = new BodySource(chunks('0123456789', 'abcdef'), 8);
    await source.read();
    expect(source.rewind()).toBe(false);
    const drained = new BodySource(chunks('abc'), 8);
    await drained.read(1);
    drained.drain();
    expect(drained.rewind()).toBe(false);
    expect(new BodySource(chunks('abc'), 0).rewind()).toBe(true); // nothing sent yet
  });

  it('a read left waiting by an abandoned attempt gets null and takes nothing from the next', async () => {
    const stream = new Readable({ read() {} });
    const source = new BodySource(stream, 1024);
    stream.push(Buffer.from('first '));
    expect((await source.read())!.toString()).toBe('first ');
    const stale = source.read();
    expect(source.rewind()).toBe(true);
    stream.push(Buffer.from('second'));
    stream.push(null);
    expect(await stale).toBeNull();
    expect(await rest(source)).toBe('first second');
  });

  it('a body given as RAM chunks is handed out in bounded pieces, skips empty chunks, starts over, and never touches the chunks', async () => {
    const parts = [Buffer.from('hello '), Buffer.alloc(0), Buffer.from('big '), Buffer.from('world')];
    const copies = parts.map((p) => Buffer.from(p));
    const source = new BodySource(parts, 64);
    expect((await source.read(3))!.toString()).toBe('hel');
    expect(source.readReady(100)!.toString()).toBe('lo ');
    expect(await source.atEnd()).toBe(false);
    expect(source.rewind()).toBe(true);
    expect(await rest(source)).toBe('hello big world');
    expect(await source.atEnd()).toBe(true);
    expect(source.readReady()).toBeNull();
    source.recycle(parts[0]!); // a no-op: the chunks belong to the spool
    source.drain();
    expect(parts.every((p, i) => p.equals(copies[i]!))).toBe(true);
  });

  it('atEnd peeks without consuming', async () => {
    const source = new BodySource(chunks('ab'), 8);
    expect(await source.atEnd()).toBe(false);
    expect(source.consumed).toBe(0);
    expect(await rest(source)).toBe('ab');
    expect(await source.atEnd()).toBe(true);
  });
});
