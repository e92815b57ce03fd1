// The real incident store (SQLite through IncidentRecorder, in a temp dir) filled with given
// records, behind a reader that also remembers what it was asked: for tests of the admin reports
// against the store they will read in production. Closed with closeTestStores() after each test.
import type { IncidentQuery, IncidentReader, IncidentRecord } from '../../src/incidents/index.js';
import { IncidentRecorder } from '../../src/incidents/index.js';
import { tempDir } from './temp-dir.js';

export interface TestStore extends IncidentReader {
  /** the records stored, newest first (the store's order) */
  rows: IncidentRecord[];
  /** every query asked */
  queries: IncidentQuery[];
}

const open = new Set<IncidentRecorder>();

export async function openTestStore(records: readonly IncidentRecord[]): Promise<TestStore> {
  const recorder = await IncidentRecorder.open({ dir: tempDir('dlp-proxy-incidents-'), retentionDays: 36_500, maxBytes: 64 * 1024 * 1024, queueSize: 100_000, batchMs: 10 });
  open.add(recorder);
  for (const r of records) if (!recorder.record(r)) throw new Error('incident queue full');
  await recorder.flush();
  const reader = recorder.reader!;
  const queries: IncidentQuery[] = [];
  const rows = [...records].sort((a, b) => (a.time !== b.time ? (a.time < b.time ? 1 : -1) : a.incident < b.incident ? 1 : -1));
  return {
    rows,
    queries,
    query: (q) => {
      queries.push(q);
      return reader.query(q);
    },
    get: (id) => reader.get(id),
    getAll: (id) => reader.getAll(id),
    summary: (range, top) => reader.summary(range, top),
  };
}

export async function closeTestStores(): Promise<void> {
  for (const recorder of open) await recorder.close();
  open.clear();
}
