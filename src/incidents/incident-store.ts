// The incident store over better-sqlite3: synchronous, one connection, one file. It runs in its own
// thread (store-thread.ts) so that no query, batch, retention or checkpoint ever holds the event
// loop of a process that carries traffic; tests and the bench also drive it directly.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ProxyError } from '../core/errors.js';
import { incidentFilter } from './incident-filter.js';
import type { IncidentRecord } from './incident-record.js';
import type { IncidentPage, IncidentQuery, IncidentSummary } from './incident-reader.js';
import { evictChunk, expireChunk, pageStats, usedBytes, vacuumIfWorth } from './incident-retention.js';
import { applySchema, fromRow, INSERT_INCIDENT, INSERT_VIOLATION, toRow, type IncidentRow } from './incident-schema.js';
import { DAY_MS, summarize } from './incident-summary.js';

export const STORE_FILE = 'incidents.sqlite';

export interface IncidentStoreOptions {
  dir: string;
  retentionDays: number;
  maxBytes: number;
}

export interface MaintenanceResult {
  expired: number;
  evicted: number;
  vacuumed: boolean;
}

export class IncidentStore {
  readonly file: string;
  readonly #options: IncidentStoreOptions;
  readonly #db: Database.Database;
  readonly #insert: (records: readonly IncidentRecord[]) => number;
  /** the WAL's share of maxBytes: what a checkpoint truncates it to */
  readonly #walReserveBytes: number;
  /** a cut for the size cap is under way (past HIGH_WATER, not yet down to LOW_WATER) */
  #cutting = false;

  /** Open (creating the directory 0700 and the file 0600: records name people) or fail with CONFIG_INVALID. */
  constructor(options: IncidentStoreOptions) {
    this.#options = options;
    const dir = path.resolve(options.dir);
    this.file = path.join(dir, STORE_FILE);
    try {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      // SQLite gives its -wal and -shm files the mode of the database file
      fs.closeSync(fs.openSync(this.file, 'a', 0o600));
      this.#db = new Database(this.file);
    } catch (err) {
      throw new ProxyError('CONFIG_INVALID', `incidents.dir: cannot open ${this.file}: ${(err as Error).message}`, { cause: err });
    }
    try {
      const pageSize = this.#db.pragma('page_size', { simple: true }) as number;
      // the WAL is part of what the cap bounds: a twentieth of it, between 16 pages and SQLite's default 1000
      const walPages = Math.max(16, Math.min(1000, Math.floor(options.maxBytes / 20 / pageSize)));
      this.#walReserveBytes = walPages * pageSize;
      // a sixteenth of the cap, at most 64 MiB
      applySchema(this.#db, { autocheckpointPages: walPages, journalSizeLimitBytes: this.#walReserveBytes, cacheBytes: Math.min(64 * 1024 * 1024, options.maxBytes / 16) });
    } catch (err) {
      this.#db.close();
      throw new ProxyError('CONFIG_INVALID', `incidents.dir: ${this.file} is not a usable incident store: ${(err as Error).message}`, { cause: err });
    }
    const incident = this.#db.prepare(INSERT_INCIDENT);
    const violation = this.#db.prepare(INSERT_VIOLATION);
    this.#insert = this.#db.transaction((records: readonly IncidentRecord[]) => {
      for (const record of records) {
        const row = toRow(record);
        const seq = incident.run(row).lastInsertRowid;
        for (const name of new Set(record.violations)) violation.run(name, row.time_ms, seq);
      }
      return records.length;
    });
  }

  /**
   * One batch, one transaction (all or nothing); then one round of the size cap (the thread runs
   * further rounds between requests). The WAL is left to SQLite's autocheckpoint (a forced
   * checkpoint per batch would cost an fsync each: half the throughput, measured); what it holds
   * between checkpoints counts against the cap.
   */
  insert(records: readonly IncidentRecord[]): { written: number; evicted: number } {
    if (records.length === 0) return { written: 0, evicted: 0 };
    const written = this.#insert(records);
    return { written, evicted: this.evictChunk() };
  }

  query(q: IncidentQuery): IncidentPage {
    const { count, page, order, limit } = incidentFilter(q);
    const rows = this.#db.prepare(`SELECT i.* ${page.from} ${order} LIMIT ${limit + 1}`).all(page.params) as IncidentRow[];
    const total = (this.#db.prepare(`SELECT count(*) AS n ${count.from}`).get(count.params) as { n: number }).n;
    const more = rows.length > limit;
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return {
      items: items.map(fromRow),
      ...(more && last ? { next: { time: new Date(last.time_ms).toISOString(), incident: last.incident, seq: last.seq } } : {}),
      total,
    };
  }

  get(incident: string): IncidentRecord | undefined {
    const row = this.#db.prepare("SELECT * FROM incidents WHERE incident = ? ORDER BY action = 'block' DESC, time_ms DESC, seq DESC LIMIT 1").get(String(incident)) as IncidentRow | undefined;
    return row ? fromRow(row) : undefined;
  }

  getAll(incident: string): IncidentRecord[] {
    return (this.#db.prepare('SELECT * FROM incidents WHERE incident = ? ORDER BY time_ms, seq').all(String(incident)) as IncidentRow[]).map(fromRow);
  }

  summary(range: { from: Date; to: Date }, top?: number, now = Date.now()): IncidentSummary {
    return summarize(this.#db, range, top, { retentionDays: this.#options.retentionDays, now });
  }

  /** Delete up to one chunk of records past the retention period; call until it returns 0. */
  expireChunk(now = Date.now()): number {
    return expireChunk(this.#db, now - this.#options.retentionDays * DAY_MS);
  }

  /**
   * One round of the size cap (incident-retention.ts); the number of records deleted, 0 once under
   * it. The WAL's share is what it takes now, at least its journal_size_limit and at most a
   * quarter of the cap (a cut writes pages to the WAL too: counted whole, the cut would chase its
   * own tail); the end of a cut folds the WAL in and truncates it.
   */
  evictChunk(): number {
    const wal = Math.min(Math.max(this.#walReserveBytes, this.#walBytes()), this.#options.maxBytes / 4);
    const { deleted, cutting } = evictChunk(this.#db, this.#options.maxBytes - wal, this.#cutting);
    if (this.#cutting && !cutting) this.#db.pragma('wal_checkpoint(TRUNCATE)');
    this.#cutting = cutting;
    return deleted;
  }

  /** Retention, size cap and the vacuum policy in one go (tests, the bench; the thread runs the steps itself). */
  maintain(now = Date.now()): MaintenanceResult {
    let expired = 0;
    for (let n = this.expireChunk(now); n > 0; n = this.expireChunk(now)) expired += n;
    let evicted = 0;
    for (let n = this.evictChunk(); n > 0; n = this.evictChunk()) evicted += n;
    return { expired, evicted, vacuumed: this.vacuumAndCheckpoint() };
  }

  /** The vacuum policy (incident-retention.ts), then the WAL folded in and truncated. */
  vacuumAndCheckpoint(): boolean {
    const vacuumed = vacuumIfWorth(this.#db, this.#options.maxBytes, this.#walReserveBytes);
    this.#db.pragma('wal_checkpoint(TRUNCATE)');
    return vacuumed;
  }

  /** Bytes on disk: the database file and its WAL. */
  sizeBytes(): number {
    return fileSize(this.file) + this.#walBytes();
  }

  #walBytes(): number {
    return fileSize(`${this.file}-wal`);
  }

  /** Pages in use, the number the size cap is enforced on. */
  usedBytes(): number {
    return usedBytes(pageStats(this.#db));
  }

  count(): number {
    return (this.#db.prepare('SELECT count(*) AS n FROM incidents').get() as { n: number }).n;
  }

  /** Refresh the planner's statistics (sqlite.org/lang_analyze.html: "PRAGMA optimize" periodically and at close). */
  optimize(): void {
    this.#db.pragma('optimize');
  }

  close(): void {
    if (!this.#db.open) return;
    try {
      this.optimize();
      this.#db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      this.#db.close();
    }
  }
}

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}
