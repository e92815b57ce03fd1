// What the admin reports (src/admin/incidents/) read: a page of incidents by filters, newest first,
// with keyset paging; one incident; a summary of a period. Promises, because the store answers
// from its own thread (or, in cluster mode, in the primary).
import type { IncidentRecord } from './incident-record.js';

/** Where a page ends: the next page starts strictly before it (newest first). */
export interface IncidentCursor {
  time: string;
  incident: string;
  /**
   * the store's row number: breaks the tie between records of one incident stamped in the same
   * millisecond (a cursor without it may skip such a twin at a page boundary)
   */
  seq?: number;
}

export interface IncidentQuery {
  /** inclusive */
  from?: Date;
  /** exclusive */
  to?: Date;
  user?: string;
  client?: string;
  host?: string;
  rule?: string;
  direction?: 'upload' | 'download';
  action?: 'block' | 'monitor';
  /** one violation name the record carries (`payment-card`, `eicar`, ...) */
  violation?: string;
  /** 1 to 1000 */
  limit: number;
  before?: IncidentCursor;
}

export interface IncidentPage {
  items: IncidentRecord[];
  /** present when more records match */
  next?: IncidentCursor;
  /** every record matching the filters (paging aside) */
  total: number;
}

export interface IncidentCount {
  key: string;
  count: number;
}

export interface IncidentSummary {
  /** the range asked, ISO */
  from: string;
  to: string;
  /** every UTC day (YYYY-MM-DD) of the range that the store can hold, zeros included, oldest first */
  perDay: Array<{ day: string; count: number }>;
  topUsers: IncidentCount[];
  topHosts: IncidentCount[];
  topRules: IncidentCount[];
  topViolations: IncidentCount[];
  total: number;
}

export interface IncidentReader {
  query(q: IncidentQuery): Promise<IncidentPage>;
  /** the record an incident id leads to: its block if it has one, else its latest record */
  get(incident: string): Promise<IncidentRecord | undefined>;
  /** every record stored under one incident id, oldest first */
  getAll(incident: string): Promise<IncidentRecord[]>;
  /** `from` inclusive, `to` exclusive; `top` entries per list (default 10, at most 100) */
  summary(range: { from: Date; to: Date }, top?: number): Promise<IncidentSummary>;
}

export const MAX_QUERY_LIMIT = 1000;
export const DEFAULT_TOP = 10;
export const MAX_TOP = 100;
