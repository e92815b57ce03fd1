// What a verdict store keeps and the interface every store (memory, Redis, tiered) implements.
// test/support/verdict-store-contract.ts is the shared suite each implementation must pass.

/** Only pass and block are ever stored: a replace carries a body, a failure is not a verdict. */
export interface CachedVerdict {
  action: 'pass' | 'block';
  reason?: string;
  violations: string[];
}

export interface VerdictStoreStats {
  entries: number;
  /** approximate bytes held (keys and values) */
  bytes: number;
  /** entries dropped to stay within the size bound (not expiries, not deletes) */
  evictions: number;
  /** a store that degrades instead of throwing (the tiered store) counts its own failures here */
  storeErrors?: number;
}

/** A lookup that, on a miss, may have made this process the one to scan the key. */
export interface ClaimResult {
  value?: CachedVerdict;
  /** this process scans the key and must set() a cacheable verdict or release() it */
  claimed: boolean;
  /** the verdict (or the miss) came after waiting for another process's scan */
  waited: boolean;
}

export interface VerdictStore {
  get(key: string): Promise<CachedVerdict | undefined>;
  /** ttlMs overrides the store's default; 0 or absent = the default */
  set(key: string, value: CachedVerdict, ttlMs?: number): Promise<void>;
  /** true when the key was present */
  delete(key: string): Promise<boolean>;
  stats(): Promise<VerdictStoreStats>;
  close(): Promise<void>;
  /**
   * Single-flight across processes (the cluster's shared store): a lookup that on a miss claims
   * the key for this process, or waits for the process that holds the claim.
   */
  claim?(key: string): Promise<ClaimResult>;
  /** End a claim without a verdict (the scan failed, or its verdict is not to be cached). */
  release?(key: string): void;
  /**
   * What this process's metrics report of the store, when that is not stats(): a store held by
   * another process (the cluster primary) has its size reported there, once for the host.
   */
  processStats?(): VerdictStoreStats;
}
