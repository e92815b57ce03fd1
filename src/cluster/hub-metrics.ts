// The host verdict store's series on the primary's registry (cluster mode). The size series carry
// the names the workers' caches use (state-metrics): a worker on the primary's store reports zeros
// for them, so the aggregated /metrics sums to the store's figures once; with Redis the workers
// report their local tiers and the primary's store is empty. The claim series are the host's
// single-flight across workers.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { VerdictHubStats } from '../verdict/index.js';

export function registerHubMetrics(registry: Registry, stats: () => VerdictHubStats): void {
  const registers = [registry];
  const gauge = (name: string, help: string, pick: (s: VerdictHubStats) => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(pick(stats()));
      },
    });
  const total = (name: string, help: string, pick: (s: VerdictHubStats) => number) =>
    new Counter({
      name,
      help,
      registers,
      collect() {
        this.reset();
        this.inc(pick(stats()));
      },
    });
  gauge('dlp_proxy_verdict_cache_entries', 'Verdicts held in the cache', (s) => s.entries);
  gauge('dlp_proxy_verdict_cache_bytes', 'Bytes the cached verdicts account for', (s) => s.bytes);
  total('dlp_proxy_verdict_cache_evictions_total', 'Verdicts evicted to stay under cache.maxBytes', (s) => s.evictions);
  gauge('dlp_proxy_verdict_cache_claims', 'Bodies one worker scans for the host now (cross-worker single-flight)', (s) => s.claims);
  gauge('dlp_proxy_verdict_cache_claim_waiting', 'Lookups waiting for another worker\'s scan of the same body', (s) => s.waiting);
  total('dlp_proxy_verdict_cache_claim_timeouts_total', 'Claims or waits past cache.shared.claimTimeoutMs (the next worker scanned)', (s) => s.timeouts);
  total('dlp_proxy_verdict_cache_claim_handovers_total', 'Claims passed to a waiting worker because their scanner failed, died or timed out', (s) => s.handovers);
  total('dlp_proxy_verdict_cache_ipc_refused_total', 'Verdict operations from workers refused by validation (malformed or past the size limits)', (s) => s.refused);
}
