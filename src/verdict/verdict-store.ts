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

export interface VerdictStore {
  get(key: string): Promise<CachedVerdict | undefined>;
  /** ttlMs overrides the store's default; 0 or absent = the default */
  set(key: string, value: CachedVerdict, ttlMs?: number): Promise<void>;
  /** true when the key was present */
  delete(key: string): Promise<boolean>;
  stats(): Promise<VerdictStoreStats>;
  close(): Promise<void>;
}
