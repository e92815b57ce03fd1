// TLS server contexts per host: bounded (lru-cache evicts the least recently used) and
// single-flight (concurrent handshakes for one new host wait on the same issuance, so a burst of
// 100 connections to a new site signs one certificate). A failed issuance is not cached.
// Issuances for different hosts run a few at a time: each has ~2 ms of synchronous work (TBS
// encoding, SSL_CTX setup), so a burst of new hosts is spread over many event-loop turns instead
// of blocking one, and the signatures leave libuv pool threads free for fs and dns.
import type tls from 'node:tls';
import { LRUCache } from 'lru-cache';

export interface CreatedContext {
  context: tls.SecureContext;
  /** How long the entry may be served; the caller keeps it well inside the leaf's validity. */
  ttlMs: number;
}

export class ContextCache {
  private readonly entries: LRUCache<string, tls.SecureContext>;
  private readonly pending = new Map<string, Promise<tls.SecureContext>>();
  private readonly waiting: Array<() => void> = [];
  private running = 0;
  private hitCount = 0;
  private missCount = 0;

  constructor(
    maxEntries: number,
    private readonly maxConcurrentIssues: number,
  ) {
    this.entries = new LRUCache({ max: maxEntries });
  }

  /** A hit is a completed entry; a miss either starts an issuance or joins the one in flight. */
  get(key: string, create: () => Promise<CreatedContext>): Promise<tls.SecureContext> {
    const cached = this.entries.get(key);
    if (cached) {
      this.hitCount++;
      return Promise.resolve(cached);
    }
    this.missCount++;
    const inFlight = this.pending.get(key);
    if (inFlight) return inFlight;
    const issuing = this.withSlot(create)
      .then(({ context, ttlMs }) => {
        this.entries.set(key, context, { ttl: ttlMs });
        return context;
      })
      .finally(() => this.pending.delete(key));
    this.pending.set(key, issuing);
    return issuing;
  }

  private async withSlot(create: () => Promise<CreatedContext>): Promise<CreatedContext> {
    if (this.running < this.maxConcurrentIssues) this.running++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve)); // the slot is handed over
    try {
      return await create();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }

  get hits(): number {
    return this.hitCount;
  }

  get misses(): number {
    return this.missCount;
  }

  get size(): number {
    return this.entries.size;
  }
}
