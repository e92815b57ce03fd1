// The host's one verdict store, held by the cluster primary for every worker (cache.store:
// memory with workers > 1): the authoritative in-memory store (cache.maxBytes, cache.ttlMs) and
// the cross-worker single-flight table. Workers reach it over IPC (IpcVerdictStore); this side
// validates every operation, answers in order, and batches its answers per worker: what one turn
// of the event loop produced for a worker leaves in one message.
import { ClaimTable, type ClaimOutcome, type ClaimTableStats } from './claim-table.js';
import { MemoryVerdictStore } from './memory-verdict-store.js';
import { batches, parseOps, type VerdictAnswer, type VerdictAnswersMessage, type VerdictOp } from './verdict-ipc-protocol.js';
import type { VerdictStoreStats } from './verdict-store.js';

export interface VerdictHubOptions {
  maxBytes: number;
  ttlMs: number;
  /** how long a worker waits for another worker's scan of the same body before it scans itself */
  claimTimeoutMs: number;
  /** deliver a message to a worker (the cluster channel); false or a throw = it is gone */
  send(owner: number, message: VerdictAnswersMessage): void;
}

export interface VerdictHubStats extends VerdictStoreStats, ClaimTableStats {
  /** operations refused by validation (malformed, a key or verdict past the limits) */
  refused: number;
}

/** At most this many keys claimed at once, and lookups waiting: past them a miss scans unclaimed. */
const MAX_CLAIMS = 10_000;
const MAX_WAITERS = 10_000;

export class VerdictHub {
  readonly #store: MemoryVerdictStore;
  readonly #claims: ClaimTable;
  readonly #send: VerdictHubOptions['send'];
  readonly #outbox = new Map<number, VerdictAnswer[]>();
  #flushing: NodeJS.Immediate | undefined;
  #refused = 0;

  constructor(options: VerdictHubOptions) {
    this.#store = new MemoryVerdictStore({ maxBytes: options.maxBytes, ttlMs: options.ttlMs });
    this.#claims = new ClaimTable({ timeoutMs: options.claimTimeoutMs, maxKeys: MAX_CLAIMS, maxWaiters: MAX_WAITERS });
    this.#send = options.send;
  }

  /** A `verdict-ops` message from worker `owner`, whatever it holds. */
  receive(owner: number, message: unknown): void {
    const { ops, refusedIds, refused } = parseOps(message);
    this.#refused += refused;
    for (const id of refusedIds) this.#answer(owner, { id, kind: 'scan' });
    for (const op of ops) this.#apply(owner, op);
  }

  /** The worker exited: its claims pass to the next waiter, its waits are dropped. */
  ownerGone(owner: number): void {
    this.#outbox.delete(owner);
    this.#claims.ownerGone(owner);
  }

  stats(): VerdictHubStats {
    return { ...this.#store.statsNow(), ...this.#claims.stats(), refused: this.#refused };
  }

  close(): void {
    this.#claims.clear();
    this.#flush();
    void this.#store.close();
  }

  #apply(owner: number, op: VerdictOp): void {
    switch (op.op) {
      case 'get': {
        const entry = this.#store.entry(op.key);
        if (entry) return this.#answer(owner, { id: op.id, kind: 'hit', value: entry.value, ttlMs: entry.ttlMs });
        if (!op.claim) return this.#answer(owner, { id: op.id, kind: 'scan' });
        const state = this.#claims.claim(op.key, owner, (outcome: ClaimOutcome) => this.#answer(owner, { id: op.id, ...outcome }));
        return this.#answer(owner, { id: op.id, kind: state });
      }
      case 'set': {
        this.#store.write(op.key, op.value, op.ttlMs);
        const entry = this.#store.entry(op.key);
        // a store of maxBytes smaller than the entry keeps nothing: the waiters get it all the same
        this.#claims.settle(op.key, op.value, entry?.ttlMs ?? op.ttlMs);
        return;
      }
      case 'release':
        return this.#claims.release(op.key, owner);
      case 'delete':
        return this.#answer(owner, { id: op.id, kind: 'deleted', present: this.#store.remove(op.key) });
      case 'stats':
        return this.#answer(owner, { id: op.id, kind: 'stats', stats: this.#store.statsNow() });
    }
  }

  #answer(owner: number, answer: VerdictAnswer): void {
    let queue = this.#outbox.get(owner);
    if (!queue) this.#outbox.set(owner, (queue = []));
    queue.push(answer);
    this.#flushing ??= setImmediate(() => this.#flush());
  }

  #flush(): void {
    if (this.#flushing) clearImmediate(this.#flushing);
    this.#flushing = undefined;
    const outbox = [...this.#outbox];
    this.#outbox.clear();
    for (const [owner, answers] of outbox) {
      for (const batch of batches(answers)) {
        try {
          this.#send(owner, { type: 'verdict-answers', answers: batch });
        } catch {
          // the worker is gone: its exit hands its claims on (ownerGone)
          break;
        }
      }
    }
  }
}
