// The summary reads a small period by time and a large one through the per-column indexes: both
// ways must give the same answer, whatever the threshold picks.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { IncidentStore } from '../../../src/incidents/index.js';
import { summarize } from '../../../src/incidents/incident-summary.js';
import { incident } from '../../support/incident-store-contract.js';
import { tempDir } from '../../support/temp-dir.js';

describe('incident summary', () => {
  it('is the same read by time and read through the column indexes', () => {
    const dir = tempDir('dlp-proxy-incidents-');
    const store = new IncidentStore({ dir, retentionDays: 90, maxBytes: 1 << 30 });
    const now = Date.now();
    const records = Array.from({ length: 3000 }, (_, i) =>
      incident({
        time: new Date(now - (i % 40) * 86_400_000 - i * 1000).toISOString(),
        user: i % 11 === 0 ? undefined : `user${(i * 7) % 37}`,
        host: `h${(i * 13) % 53}.example`,
        rule: `rule${i % 5}`,
        violations: i % 3 === 0 ? ['iban', 'payment-card'] : ['payment-card'],
      }),
    );
    store.insert(records);
    store.close();
    const db = new Database(path.join(dir, 'incidents.sqlite'), { readonly: true });
    try {
      for (const days of [1, 7, 30, 60]) {
        const range = { from: new Date(now - days * 86_400_000), to: new Date(now + 1) };
        const byTime = summarize(db, range, 5, { retentionDays: 90, now, fewRows: Number.POSITIVE_INFINITY });
        const byIndex = summarize(db, range, 5, { retentionDays: 90, now, fewRows: 0 });
        expect(byIndex).toEqual(byTime);
        expect(byTime.total).toBe(records.filter((r) => Date.parse(r.time) >= range.from.getTime()).length);
        expect(byTime.topUsers).toHaveLength(5);
      }
    } finally {
      db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
