// Retention and the size cap, oldest records first, in chunks of one transaction each so that a
// large deletion never holds the write lock for long (another writer of the file, or the next
// batch, gets in between).
//
// Size: what counts against maxBytes is the database's pages in use (page_count − freelist) plus
// the WAL (its size now, at least its journal_size_limit); past HIGH_WATER of the rest the oldest
// records go until LOW_WATER, so the cap is not hit again by the next batch. Between two checks
// the files may pass the cap by about one batch's pages. Freed pages are reused by the next inserts, so the file stops growing at the
// cap; they are given back to the file system (incremental_vacuum, the file was created with
// auto_vacuum = INCREMENTAL) only when the file itself is over the cap (the cap was lowered) or
// more than a quarter of it is free (a retention period shortened, a burst expired), because
// giving pages back that the next hour of records takes again is writing for nothing.
import type Database from 'better-sqlite3';

export const CHUNK_ROWS = 5_000;
export const HIGH_WATER = 0.95;
export const LOW_WATER = 0.9;
const FREE_SHARE_TO_VACUUM = 0.25;

export interface PageStats {
  pageSize: number;
  pageCount: number;
  freePages: number;
}

export function pageStats(db: Database.Database): PageStats {
  return {
    pageSize: db.pragma('page_size', { simple: true }) as number,
    pageCount: db.pragma('page_count', { simple: true }) as number,
    freePages: db.pragma('freelist_count', { simple: true }) as number,
  };
}

export function usedBytes(s: PageStats): number {
  return (s.pageCount - s.freePages) * s.pageSize;
}

/** Delete up to CHUNK_ROWS records older than `cutoffMs`; the number deleted. */
export function expireChunk(db: Database.Database, cutoffMs: number): number {
  return db
    .prepare('DELETE FROM incidents WHERE seq IN (SELECT seq FROM incidents WHERE time_ms < ? ORDER BY time_ms, incident LIMIT ?)')
    .run(cutoffMs, CHUNK_ROWS).changes;
}

/**
 * Delete the oldest records while the pages in use exceed HIGH_WATER of the budget (`maxBytes`
 * less what the WAL takes), down to LOW_WATER; the number deleted. Each round removes as many rows as the excess is worth at the
 * current bytes per row (at least 100, at most CHUNK_ROWS): index pages free up later than the
 * rows that filled them, so rounds repeat until the pages say it is enough.
 */
export function evictForSize(db: Database.Database, maxBytes: number, walBytes: number): number {
  const budget = maxBytes - walBytes;
  let stats = pageStats(db);
  if (usedBytes(stats) <= budget * HIGH_WATER) return 0;
  const count = db.prepare('SELECT count(*) AS n FROM incidents');
  const evict = db.prepare('DELETE FROM incidents WHERE seq IN (SELECT seq FROM incidents ORDER BY time_ms, incident LIMIT ?)');
  let deleted = 0;
  while (usedBytes(stats) > budget * LOW_WATER) {
    const rows = (count.get() as { n: number }).n;
    if (rows === 0) break;
    const perRow = usedBytes(stats) / rows;
    const want = Math.ceil((usedBytes(stats) - budget * LOW_WATER) / perRow);
    deleted += evict.run(Math.min(CHUNK_ROWS, Math.max(100, want))).changes;
    stats = pageStats(db);
  }
  return deleted;
}

/** Give free pages back to the file system when the file is over the cap or a quarter of it is free. */
export function vacuumIfWorth(db: Database.Database, maxBytes: number, walReserveBytes: number): boolean {
  const s = pageStats(db);
  if (s.freePages === 0) return false;
  if (s.pageCount * s.pageSize <= maxBytes - walReserveBytes && s.freePages < s.pageCount * FREE_SHARE_TO_VACUUM) return false;
  db.pragma(`incremental_vacuum(${s.freePages})`);
  return true;
}
