// Single-flight across processes: who scans a key now, and who waits for its verdict. The
// cluster primary keeps one table for the host; an owner is a worker id. No I/O: answers go to
// the callbacks the waiters registered.
//
//   miss ──claim──► (none held) ─► claimed: the owner scans ──set──► settle: waiters get the verdict
//                   (held)      ─► wait ──┬─ settle ─► hit
//                                         ├─ the claim ends without a verdict (release, owner gone,
//                                         │  claim past timeoutMs) ─► the first waiter is claimed,
//                                         │  the others keep waiting
//                                         └─ its own wait past timeoutMs ─► scan (itself, no claim)
//
// Only cacheable verdicts settle a claim (DESIGN invariant 3): a claimant whose scan failed or
// was not complete releases it, and the next waiter scans. Every wait is bounded by timeoutMs
// from its own start, and the table by maxKeys claims and maxWaiters waiters.
import type { CachedVerdict } from './verdict-store.js';

export type ClaimOutcome = { kind: 'hit'; value: CachedVerdict; ttlMs: number } | { kind: 'claimed' } | { kind: 'scan' };

export interface ClaimTableOptions {
  /** how long a claim may run, and how long a waiter waits, before the next one scans */
  timeoutMs: number;
  maxKeys: number;
  maxWaiters: number;
}

export interface ClaimTableStats {
  /** keys being scanned now */
  claims: number;
  /** lookups waiting now for another owner's scan */
  waiting: number;
  /** claims or waits that ran past timeoutMs */
  timeouts: number;
  /** claims that passed to a waiter because their owner released, died or timed out */
  handovers: number;
}

interface Waiter {
  owner: number;
  answer: (outcome: ClaimOutcome) => void;
  timer: NodeJS.Timeout;
}

interface Claim {
  owner: number;
  timer: NodeJS.Timeout;
  waiters: Waiter[];
}

export class ClaimTable {
  readonly #options: ClaimTableOptions;
  readonly #claims = new Map<string, Claim>();
  #waiting = 0;
  #timeouts = 0;
  #handovers = 0;

  constructor(options: ClaimTableOptions) {
    this.#options = options;
  }

  /**
   * A miss of `owner` on `key`. 'claimed': the owner scans and must settle or release the key;
   * 'wait': another owner scans it, and `answer` is called once later; 'scan': the table is full,
   * the owner scans without a claim.
   */
  claim(key: string, owner: number, answer: (outcome: ClaimOutcome) => void): 'claimed' | 'wait' | 'scan' {
    const held = this.#claims.get(key);
    if (!held) {
      if (this.#claims.size >= this.#options.maxKeys) return 'scan';
      this.#claims.set(key, { owner, timer: this.#expiry(key), waiters: [] });
      return 'claimed';
    }
    // its earlier claim still stands (its lookup came again after an answer it did not wait for)
    if (held.owner === owner) return 'claimed';
    if (this.#waiting >= this.#options.maxWaiters) return 'scan';
    const waiter: Waiter = {
      owner,
      answer,
      timer: setTimeout(() => {
        const at = held.waiters.indexOf(waiter);
        if (at < 0) return;
        held.waiters.splice(at, 1);
        this.#waiting--;
        this.#timeouts++;
        answer({ kind: 'scan' });
      }, this.#options.timeoutMs).unref(),
    };
    held.waiters.push(waiter);
    this.#waiting++;
    return 'wait';
  }

  /** A cacheable verdict for `key` (from any owner): every waiter gets it, the claim ends. */
  settle(key: string, value: CachedVerdict, ttlMs: number): void {
    const held = this.#claims.get(key);
    if (!held) return;
    this.#claims.delete(key);
    clearTimeout(held.timer);
    for (const waiter of held.waiters) {
      clearTimeout(waiter.timer);
      this.#waiting--;
      waiter.answer({ kind: 'hit', value, ttlMs });
    }
  }

  /** The owner ends its claim without a verdict (its scan failed or is not to be shared). */
  release(key: string, owner: number): void {
    const held = this.#claims.get(key);
    if (held?.owner === owner) this.#handOver(key, held);
  }

  /** The owner's process is gone: its waits are dropped, its claims pass on. */
  ownerGone(owner: number): void {
    for (const [key, held] of this.#claims) {
      const mine = held.waiters.filter((w) => w.owner === owner);
      for (const waiter of mine) {
        clearTimeout(waiter.timer);
        this.#waiting--;
      }
      if (mine.length > 0) held.waiters = held.waiters.filter((w) => w.owner !== owner);
      if (held.owner === owner) this.#handOver(key, held);
    }
  }

  stats(): ClaimTableStats {
    return { claims: this.#claims.size, waiting: this.#waiting, timeouts: this.#timeouts, handovers: this.#handovers };
  }

  /** Every waiter scans for itself; nothing is held (the primary is stopping). */
  clear(): void {
    for (const held of this.#claims.values()) {
      clearTimeout(held.timer);
      for (const waiter of held.waiters) {
        clearTimeout(waiter.timer);
        waiter.answer({ kind: 'scan' });
      }
    }
    this.#claims.clear();
    this.#waiting = 0;
  }

  #expiry(key: string): NodeJS.Timeout {
    return setTimeout(() => {
      const held = this.#claims.get(key);
      if (!held) return;
      this.#timeouts++;
      this.#handOver(key, held);
    }, this.#options.timeoutMs).unref();
  }

  /** The claim ends without a verdict: the first waiter scans next, under a fresh claim. */
  #handOver(key: string, held: Claim): void {
    clearTimeout(held.timer);
    const next = held.waiters.shift();
    if (!next) {
      this.#claims.delete(key);
      return;
    }
    clearTimeout(next.timer);
    this.#waiting--;
    this.#handovers++;
    held.owner = next.owner;
    held.timer = this.#expiry(key);
    next.answer({ kind: 'claimed' });
  }
}
