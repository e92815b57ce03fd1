// Retention and the size cap, oldest records first, in chunks of one transaction each so that a
// large deletion never holds the write lock for long (another writer of the file, or the next
// batch, gets in between).
//
// Size: what counts against maxBytes is the database's pages in use (page_count − freelist) plus
// the WAL (its size now: at least its journal_size_limit, at most a quarter of the cap); past
// HIGH_WATER of the rest the oldest records go until LOW_WATER, so the cap is not hit again by the
// next batch. Between two checks the files may pass the cap by about one batch's pages. Freed
// pages are reused by the next inserts, so the file stops growing at the cap; they are given back
// to the file system (incremental_vacuum, the file was created with auto_vacuum = INCREMENTAL)
// only when the file itself is over the cap (the cap was lowered) or more than a quarter of it is
// free (a retention period shortened, a burst expired), because giving pages back that the next
// hour of records takes again is writing for nothing.
import type Database from 'better-sqlite3';

export const CHUNK_ROWS = 2_000;
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
 * One round of the size cap: when the pages in use exceed HIGH_WATER of the budget (`maxBytes`
 * less what the WAL takes), or a cut begun earlier has not reached LOW_WATER yet (`cutting`),
 * delete the oldest records, as many as the excess is worth at the current bytes per row (at
 * least 100, at most CHUNK_ROWS). Index pages free up later than the rows that filled them, so
 * rounds repeat until the pages say it is enough. The caller runs one round per batch and the
 * rest between requests, so a large cut never holds the store for long.
 */
export function evictChunk(db: Database.Database, budget: number, cutting: boolean): { deleted: number; cutting: boolean } {
  const stats = pageStats(db);
  const used = usedBytes(stats);
  if (used <= budget * (cutting ? LOW_WATER : HIGH_WATER)) return { deleted: 0, cutting: false };
  const rows = (db.prepare('SELECT count(*) AS n FROM incidents').get() as { n: number }).n;
  if (rows === 0) return { deleted: 0, cutting: false };
  const want = Math.ceil((used - budget * LOW_WATER) / (used / rows));
  const deleted = db.prepare('DELETE FROM incidents WHERE seq IN (SELECT seq FROM incidents ORDER BY time_ms, incident LIMIT ?)').run(Math.min(CHUNK_ROWS, Math.max(100, want))).changes;
  return { deleted, cutting: usedBytes(pageStats(db)) > budget * LOW_WATER };
}

/** Give free pages back to the file system when the file is over the cap or a quarter of it is free. */
export function vacuumIfWorth(db: Database.Database, maxBytes: number, walReserveBytes: number): boolean {
  const s = pageStats(db);
  if (s.freePages === 0) return false;
  if (s.pageCount * s.pageSize <= maxBytes - walReserveBytes && s.freePages < s.pageCount * FREE_SHARE_TO_VACUUM) return false;
  db.pragma(`incremental_vacuum(${s.freePages})`);
  return true;
}
