// A cluster worker's view of the host's one verdict store (VerdictHub, in the primary): a small
// local LRU answers repeated keys with no IPC at all (each entry keeps the primary's remaining
// time to live), and the rest goes over the cluster channel in batches: the lookups of one turn
// of the event loop leave in one message. A lookup may claim the key (claim()): the host then
// makes one ICAP transaction for identical bodies arriving on several workers at once.
//
// The primary is a peer like any other: every request has a deadline (ipcTimeoutMs, and
// claimTimeoutMs more once the primary said another worker scans the key); past it the lookup is a
// miss and the exchange scans. The store degrades, it never throws and never holds an exchange.
// A delete reaches the primary and this worker's tier; other workers' tiers keep the entry until its
// TTL (the pipeline never deletes: a new ISTag or policy version makes a new key).
import { MemoryVerdictStore } from './memory-verdict-store.js';
import {
  batches,
  isValidKey,
  isValidVerdict,
  parseAnswers,
  type VerdictAnswer,
  type VerdictOp,
  type VerdictOpsMessage,
} from './verdict-ipc-protocol.js';
import type { CachedVerdict, ClaimResult, VerdictStore, VerdictStoreStats } from './verdict-store.js';

export interface IpcVerdictStoreOptions {
  /** write to the primary; false, or a throw, when the channel is gone */
  send(message: VerdictOpsMessage): boolean;
  /** the local LRU in front (0: none, every lookup asks the primary) */
  localMaxBytes: number;
  /** the local tier's default time to live (cache.ttlMs); hits from the primary keep their own */
  ttlMs: number;
  /** how long the primary may take to answer */
  ipcTimeoutMs: number;
  /** how long to wait for another worker's scan of the same body, once the primary said so */
  claimTimeoutMs: number;
}

interface Pending {
  key: string | undefined;
  claim: boolean;
  /** the primary said another worker scans the key */
  waited: boolean;
  timer: NodeJS.Timeout;
  resolve(answer: VerdictAnswer | undefined): void;
}

/** Late answers remembered, so that a claim granted after its asker gave up is released. */
const MAX_ABANDONED = 1024;

export class IpcVerdictStore implements VerdictStore {
  readonly #options: IpcVerdictStoreOptions;
  readonly #local: MemoryVerdictStore;
  readonly #pending = new Map<number, Pending>();
  /** claim lookups whose asker stopped waiting: id → key */
  readonly #abandoned = new Map<number, string>();
  #outbox: VerdictOp[] = [];
  #flushing: NodeJS.Immediate | undefined;
  #nextId = 0;
  #storeErrors = 0;
  #closed = false;

  constructor(options: IpcVerdictStoreOptions) {
    this.#options = options;
    this.#local = new MemoryVerdictStore({ maxBytes: options.localMaxBytes, ttlMs: options.ttlMs });
  }

  /** A `verdict-answers` message from the primary. */
  receive(message: unknown): void {
    for (const answer of parseAnswers(message)) {
      const pending = this.#pending.get(answer.id);
      if (pending) {
        if (answer.kind === 'wait') {
          // another worker scans it: wait for its verdict up to the claim timeout
          clearTimeout(pending.timer);
          pending.waited = true;
          pending.timer = this.#deadline(answer.id, this.#options.claimTimeoutMs + this.#options.ipcTimeoutMs);
          continue;
        }
        this.#pending.delete(answer.id);
        clearTimeout(pending.timer);
        pending.resolve(answer);
        continue;
      }
      const key = this.#abandoned.get(answer.id);
      if (key === undefined || answer.kind === 'wait') continue;
      this.#abandoned.delete(answer.id);
      if (answer.kind === 'claimed') this.#queue({ op: 'release', key });
    }
  }

  async get(key: string): Promise<CachedVerdict | undefined> {
    return (await this.#claimOrGet(key, false)).value;
  }

  /** The verdict from the local tier or the primary; on a miss, the claim to scan it (or after waiting, another worker's verdict). */
  claim(key: string): Promise<ClaimResult> {
    return this.#claimOrGet(key, true);
  }

  /** The claim ends without a verdict: the next worker waiting for this key scans it. */
  release(key: string): void {
    if (isValidKey(key)) this.#queue({ op: 'release', key });
  }

  async set(key: string, value: CachedVerdict, ttlMs?: number): Promise<void> {
    this.#local.write(key, value, ttlMs);
    // too large to cross: it stays local (and a claim on it ends without a verdict)
    if (!isValidKey(key)) return;
    if (!isValidVerdict(value)) return this.release(key);
    this.#queue({ op: 'set', key, value, ttlMs: ttlMs ?? 0 });
  }

  async delete(key: string): Promise<boolean> {
    const local = this.#local.remove(key);
    if (!isValidKey(key)) return local;
    const { answer } = await this.#ask((id) => ({ op: 'delete', id, key }), key, false);
    return (answer?.kind === 'deleted' && answer.present) || local;
  }

  /** The host's store, as the primary holds it. */
  async stats(): Promise<VerdictStoreStats> {
    const { answer } = await this.#ask((id) => ({ op: 'stats', id }), undefined, false);
    const held = answer?.kind === 'stats' ? answer.stats : { entries: 0, bytes: 0, evictions: 0 };
    return { ...held, storeErrors: this.#storeErrors };
  }

  /** The primary reports the host store's size once for the machine; a worker reports only its own failures. */
  processStats(): VerdictStoreStats {
    return { entries: 0, bytes: 0, evictions: 0, storeErrors: this.#storeErrors };
  }

  /** The local tier's size (bounded by localMaxBytes). */
  localStats(): VerdictStoreStats {
    return this.#local.statsNow();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#flush();
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      this.#pending.delete(id);
      pending.resolve(undefined);
    }
    await this.#local.close();
  }

  async #claimOrGet(key: string, claim: boolean): Promise<ClaimResult> {
    const local = this.#local.entry(key);
    if (local) return { value: local.value, claimed: false, waited: false };
    if (!isValidKey(key)) return { value: undefined, claimed: false, waited: false };
    const { answer, waited } = await this.#ask((id) => ({ op: 'get', id, key, claim }), key, claim);
    if (answer?.kind === 'hit') {
      this.#local.write(key, answer.value, answer.ttlMs);
      return { value: answer.value, claimed: false, waited };
    }
    return { value: undefined, claimed: answer?.kind === 'claimed', waited };
  }

  /** One request and its answer; undefined when the primary does not answer in time or the channel is gone. */
  #ask(op: (id: number) => VerdictOp, key: string | undefined, claim: boolean): Promise<{ answer: VerdictAnswer | undefined; waited: boolean }> {
    if (this.#closed) return Promise.resolve({ answer: undefined, waited: false });
    const id = ++this.#nextId;
    return new Promise((resolve) => {
      const pending: Pending = { key, claim, waited: false, timer: this.#deadline(id, this.#options.ipcTimeoutMs), resolve: (answer) => resolve({ answer, waited: pending.waited }) };
      this.#pending.set(id, pending);
      this.#queue(op(id));
    });
  }

  #deadline(id: number, ms: number): NodeJS.Timeout {
    return setTimeout(() => {
      const pending = this.#pending.get(id);
      if (!pending) return;
      this.#pending.delete(id);
      this.#storeErrors++;
      if (pending.claim && pending.key !== undefined) this.#abandon(id, pending.key);
      pending.resolve(undefined);
    }, ms).unref();
  }

  #abandon(id: number, key: string): void {
    if (this.#abandoned.size >= MAX_ABANDONED) this.#abandoned.delete(this.#abandoned.keys().next().value!);
    this.#abandoned.set(id, key);
  }

  #queue(op: VerdictOp): void {
    if (this.#closed && op.op !== 'release' && op.op !== 'set') return;
    this.#outbox.push(op);
    this.#flushing ??= setImmediate(() => this.#flush());
  }

  #flush(): void {
    if (this.#flushing) clearImmediate(this.#flushing);
    this.#flushing = undefined;
    const ops = this.#outbox;
    this.#outbox = [];
    if (ops.length === 0) return;
    for (const batch of batches(ops)) {
      let sent = false;
      try {
        sent = this.#options.send({ type: 'verdict-ops', ops: batch });
      } catch {
        sent = false;
      }
      // no channel: every request of the batch is a miss now, not at its deadline
      if (!sent) for (const op of batch) if ('id' in op) this.#fail(op.id);
    }
  }

  #fail(id: number): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    this.#storeErrors++;
    pending.resolve(undefined);
  }
}
