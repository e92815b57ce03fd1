// The bookkeeping behind two client-side limits, without sockets: the per-address connection cap
// (accept, then 429, then close unread; counted down on close) and the idle sweep (a connection
// whose byte counters stand still for idleMs is closed; one that moves is not; the one timer
// stops when nothing is watched).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClientConnectionCap } from '../../../src/proxy/client-connection-cap.js';
import { IdleSweep } from '../../../src/proxy/idle-sweep.js';

describe('ClientConnectionCap', () => {
  it('accepts up to the cap, refuses up to twice it, then drops; per address', () => {
    const cap = new ClientConnectionCap(2);
    const admissions = Array.from({ length: 6 }, () => cap.open('10.0.0.1'));
    expect(admissions).toEqual(['accept', 'accept', 'refuse', 'refuse', 'drop', 'drop']);
    expect(cap.open('10.0.0.2')).toBe('accept');
  });

  it('gives the room back as connections close, and forgets an address with none left', () => {
    const cap = new ClientConnectionCap(1);
    expect(cap.open('10.0.0.1')).toBe('accept');
    expect(cap.open('10.0.0.1')).toBe('refuse');
    cap.close('10.0.0.1');
    cap.close('10.0.0.1');
    expect(cap.open('10.0.0.1')).toBe('accept');
    cap.close('10.0.0.1');
    // a close too many (never expected) does not bank credit for later connections
    cap.close('10.0.0.1');
    expect(cap.open('10.0.0.1')).toBe('accept');
    expect(cap.open('10.0.0.1')).toBe('refuse');
  });
});

describe('IdleSweep', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('closes a connection whose counters stood still for idleMs, not before', () => {
    const sweep = new IdleSweep(1000);
    const close = vi.fn();
    sweep.watch(() => 42, close);
    vi.advanceTimersByTime(999);
    expect(close).not.toHaveBeenCalled();
    vi.advanceTimersByTime(250); // the next sweep (every idleMs / 4)
    expect(close).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(5000);
    expect(close).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('keeps a connection whose counters move, and closes it once they stop', () => {
    const sweep = new IdleSweep(1000);
    let bytes = 0;
    const close = vi.fn();
    sweep.watch(() => bytes, close);
    for (let i = 0; i < 20; i++) {
      bytes += 1;
      vi.advanceTimersByTime(250);
    }
    expect(close).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1500);
    expect(close).toHaveBeenCalledTimes(1);
  });

  it('stops watching when told to, and runs its timer only while something is watched', () => {
    const sweep = new IdleSweep(400);
    const close = vi.fn();
    const unwatch = sweep.watch(() => 0, close);
    const other = sweep.watch(() => 0, close);
    expect(vi.getTimerCount()).toBe(1);
    unwatch();
    other();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(2000);
    expect(close).not.toHaveBeenCalled();
  });
});
