// Files held for a patience fetch (delivery.ts). Each entry is reached by a one-time token of 256
// random bits, bound to the client address and to the URL (scheme, host, port, path) it was made
// for: another client's request with a stolen token gets 403, a token for another URL or none
// at all 404, and nothing is ever asked of the origin for either. In a cluster worker the links
// also name the worker holding the file (`TOKEN.N`): another worker relays them here
// (patience-relay.ts).
//
//   admit ──► scanning ──settle──► ready | blocked | failed ──take() or ttlMs──► deleted
//
// Bodies count against maxHeldBytes from admission (their declared length) until deleted; past
// it, admit() refuses and the exchange takes its rule's fallback. A settled entry not fetched
// within ttlMs is deleted with its spool (0600 temp file, closed and so freed); close() deletes all.
import { randomBytes } from 'node:crypto';
import type { Spool, SpooledBody } from '../body/index.js';
import type { Decision, Verdict } from '../core/types.js';
import type { Page } from './respond.js';

export type PatienceState = 'scanning' | 'ready' | 'blocked' | 'failed';

/** Who may fetch, and at which URL. */
export interface PatienceOwner {
  clientIp: string;
  scheme: string;
  host: string;
  port: number;
  path: string;
}

/** The scanned file as it will be answered. */
export interface HeldFile {
  status: number;
  reason: string;
  headers: string[];
  body: SpooledBody | null;
}

export type Settled = { state: 'ready'; file: HeldFile } | { state: 'blocked' | 'failed'; page: Page };

export class PatienceEntry {
  readonly token = randomBytes(32).toString('base64url');
  /** what the links carry: the token, and `.N` the cluster worker holding the file (patience-relay.ts) */
  readonly link: string;
  state: PatienceState = 'scanning';
  outcome: Settled | undefined;
  /** the scan's verdict, for the access line of the fetch */
  verdict: Verdict | undefined;
  readonly settled: Promise<void>;
  #resolve!: () => void;
  #spool: Spool | undefined;

  constructor(
    readonly owner: PatienceOwner,
    readonly totalBytes: number,
    /** the exchange that made it: its id (the incident id of a block) and download decision */
    readonly exchangeId: string,
    readonly decision: Decision,
    holder: number | undefined,
  ) {
    this.link = holder === undefined ? this.token : `${this.token}.${holder}`;
    this.settled = new Promise((resolve) => (this.#resolve = resolve));
  }

  /** Bytes of the body received so far. */
  get receivedBytes(): number {
    if (this.state === 'ready') return this.totalBytes;
    return this.#spool?.size ?? 0;
  }

  /** The scan's spool, for progress. */
  watch(spool: Spool): void {
    this.#spool = spool;
  }

  settle(outcome: Settled, verdict: Verdict | undefined): void {
    this.outcome = outcome;
    this.verdict = verdict;
    this.state = outcome.state;
    this.#spool = undefined;
    this.#resolve();
  }
}

export type Lookup = { found: PatienceEntry } | { refused: 403 | 404 };

export class PatienceStore {
  readonly #entries = new Map<string, PatienceEntry>();
  readonly #timers = new Map<PatienceEntry, NodeJS.Timeout>();
  readonly #maxHeldBytes: number;
  readonly #ttlMs: number;
  readonly #holder: number | undefined;
  #heldBytes = 0;
  #closed = false;

  /** `holder`: this process's cluster worker id, named in the links (one process: none). */
  constructor(bounds: { maxHeldBytes: number; ttlMs: number; holder?: number | undefined }) {
    this.#maxHeldBytes = bounds.maxHeldBytes;
    this.#ttlMs = bounds.ttlMs;
    this.#holder = bounds.holder;
  }

  /** The cluster worker id the links of this store name, if any. */
  get holder(): number | undefined {
    return this.#holder;
  }

  /** Bytes reserved by live entries. */
  get heldBytes(): number {
    return this.#heldBytes;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** A new entry for a body of `totalBytes`, or undefined when the bound would be passed. */
  admit(owner: PatienceOwner, totalBytes: number, exchangeId: string, decision: Decision): PatienceEntry | undefined {
    if (this.#closed || this.#heldBytes + totalBytes > this.#maxHeldBytes) return undefined;
    const entry = new PatienceEntry(owner, totalBytes, exchangeId, decision, this.#holder);
    this.#entries.set(entry.token, entry);
    this.#heldBytes += totalBytes;
    return entry;
  }

  /** The scan finished: keep the outcome until fetched, at most ttlMs. */
  settle(entry: PatienceEntry, outcome: Settled, verdict: Verdict | undefined): void {
    entry.settle(outcome, verdict);
    if (!this.#entries.has(entry.token)) {
      void dispose(outcome); // closed or taken meanwhile
      return;
    }
    const timer = setTimeout(() => this.#delete(entry), this.#ttlMs);
    timer.unref();
    this.#timers.set(entry, timer);
  }

  lookup(token: string, who: PatienceOwner): Lookup {
    const entry = this.#entries.get(token);
    if (!entry) return { refused: 404 };
    const o = entry.owner;
    if (o.scheme !== who.scheme || o.host !== who.host || o.port !== who.port || o.path !== who.path) return { refused: 404 };
    if (o.clientIp !== who.clientIp) return { refused: 403 };
    return { found: entry };
  }

  /**
   * The one fetch of a settled entry: it leaves the store at once; its body stays reserved until
   * `done` is called (after it was sent, or when the client went away).
   */
  take(entry: PatienceEntry): { outcome: Settled; done: () => void } | undefined {
    if (!entry.outcome || !this.#entries.delete(entry.token)) return undefined;
    clearTimeout(this.#timers.get(entry));
    this.#timers.delete(entry);
    const outcome = entry.outcome;
    let released = false;
    return {
      outcome,
      done: () => {
        if (released) return;
        released = true;
        this.#heldBytes -= entry.totalBytes;
        void dispose(outcome);
      },
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#entries.values()].map((entry) => this.#delete(entry)));
  }

  async #delete(entry: PatienceEntry): Promise<void> {
    if (!this.#entries.delete(entry.token)) return;
    clearTimeout(this.#timers.get(entry));
    this.#timers.delete(entry);
    this.#heldBytes -= entry.totalBytes;
    if (entry.outcome) await dispose(entry.outcome);
  }
}

async function dispose(outcome: Settled): Promise<void> {
  if (outcome.state === 'ready') await outcome.file.body?.dispose();
}
