// The Grafana dashboard in config/grafana/ only queries series the proxy exports, and has the
// panels the operations issue asks for.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../../src/metrics/index.js';

interface Panel {
  type: string;
  title: string;
  targets?: Array<{ expr: string }>;
  gridPos: { x: number; y: number; w: number; h: number };
}
const dashboard = JSON.parse(fs.readFileSync('config/grafana/dlp-proxy.json', 'utf8')) as { uid: string; panels: Panel[] };

describe('Grafana dashboard', () => {
  it('queries only metric names the proxy exports', async () => {
    const metrics = createMetrics({
      cache: { stats: async () => ({ hits: 0, misses: 0, joins: 0, inflight: 0, storeErrors: 0, entries: 0, bytes: 0, evictions: 0 }) },
      services: new Map([['dlp', { icap: { stats: () => [], options: async () => ({ fetchedAt: Date.now() }) } }]]),
      ca: { stats: () => ({ hits: 0, misses: 0, issued: 0, size: 0 }) },
      spool: () => ({ spools: 0, memoryBytes: 0, diskBytes: 0, files: 0 }),
      front: { stats: () => ({ openSockets: 0, clientConnections: 0 }) },
      alerts: { stats: () => [] },
    });
    try {
      const exported = new Map((await metrics.registry.getMetricsAsJSON()).map((m) => [m.name, String(m.type)]));
      const queried = new Set(dashboard.panels.flatMap((p) => (p.targets ?? []).flatMap((t) => t.expr.match(/dlp_proxy_[a-z0-9_]+/g) ?? [])));
      expect(queried.size).toBeGreaterThan(25);
      for (const name of queried) {
        const base = name.replace(/_(bucket|count|sum)$/, '');
        const known = exported.has(name) || (base !== name && exported.get(base) === 'histogram');
        expect(known, name).toBe(true);
      }
    } finally {
      metrics.close();
    }
  });

  it('has the panels operators asked for, laid out without overlap', () => {
    const titles = dashboard.panels.map((p) => p.title);
    for (const t of ['Verdict cache hit rate', 'ICAP latency p50 by server', 'ICAP latency p99 by server', 'Blocks per minute', 'Fail-open events', 'Exchanges per second', 'ICAP pool connections']) {
      expect(titles).toContain(t);
    }
    const cells = new Set<string>();
    for (const p of dashboard.panels) {
      for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) {
        for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
          expect(cells.has(`${x},${y}`), `${p.title} overlaps at ${x},${y}`).toBe(false);
          cells.add(`${x},${y}`);
        }
      }
      expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
    }
  });
});
