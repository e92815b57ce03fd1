// The verdict messages between cluster workers and the primary that holds the host's one verdict
// store (sans-IO: types, limits and validation, no channel). Each message carries a batch of
// operations or answers (what one turn of the event loop produced), so a burst of lookups costs
// one IPC write, not one per exchange.
//
//   worker ──verdict-ops[get(id, key, claim) | set(key, value, ttlMs) | release(key)
//                        | delete(id, key) | stats(id)]──► primary
//   primary ──verdict-answers[hit(id, value, ttlMs) | claimed(id) | wait(id) | scan(id)
//                             | deleted(id, present) | stats(id, stats)]──► worker
//
// A `get` with claim: true is a lookup that, on a miss, makes the asker the host's one scanner
// of that key (`claimed`), or tells it that another worker scans it (`wait`, later `hit` with the
// verdict or `scan`: scan yourself). The worker's `set` of a cacheable verdict ends its claim and
// answers the waiters; `release` ends it without a verdict. Everything arriving from the other
// process is validated: a key or a verdict past the limits below is refused, never stored.
import type { CachedVerdict, VerdictStoreStats } from './verdict-store.js';

/** A verdict key is ~100 characters (sha256 · direction · service · ISTag · policy version). */
export const MAX_KEY_CHARS = 1024;
/** reason and violations together; a verdict larger than this stays in the worker's local tier */
export const MAX_VALUE_CHARS = 8192;
export const MAX_VIOLATIONS = 128;
/** operations (or answers) per message: a larger batch is split by the sender */
export const MAX_BATCH = 256;

export type VerdictOp =
  | { op: 'get'; id: number; key: string; claim: boolean }
  | { op: 'set'; key: string; value: CachedVerdict; ttlMs: number }
  | { op: 'release'; key: string }
  | { op: 'delete'; id: number; key: string }
  | { op: 'stats'; id: number };

export type VerdictAnswer =
  /** ttlMs: what remains of the entry's time to live, 0 = none */
  | { id: number; kind: 'hit'; value: CachedVerdict; ttlMs: number }
  | { id: number; kind: 'claimed' }
  /** another worker scans this key: the verdict (hit) or scan follows */
  | { id: number; kind: 'wait' }
  /** a miss the asker scans without a claim (not asked to claim, the claimant failed, or the wait timed out) */
  | { id: number; kind: 'scan' }
  | { id: number; kind: 'deleted'; present: boolean }
  | { id: number; kind: 'stats'; stats: VerdictStoreStats };

export interface VerdictOpsMessage {
  type: 'verdict-ops';
  ops: VerdictOp[];
}

export interface VerdictAnswersMessage {
  type: 'verdict-answers';
  answers: VerdictAnswer[];
}

const isId = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) > 0;

export function isValidKey(key: unknown): key is string {
  return typeof key === 'string' && key.length > 0 && key.length <= MAX_KEY_CHARS;
}

/** A verdict that may cross: pass or block, a bounded reason and list of violations. */
export function isValidVerdict(value: unknown): value is CachedVerdict {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<Record<keyof CachedVerdict, unknown>>;
  if (v.action !== 'pass' && v.action !== 'block') return false;
  if (v.reason !== undefined && typeof v.reason !== 'string') return false;
  if (!Array.isArray(v.violations) || v.violations.length > MAX_VIOLATIONS) return false;
  let chars = typeof v.reason === 'string' ? v.reason.length : 0;
  for (const item of v.violations) {
    if (typeof item !== 'string') return false;
    chars += item.length;
  }
  return chars <= MAX_VALUE_CHARS;
}

/** A copy holding only the fields of a CachedVerdict (nothing else from the wire is kept). */
export function cleanVerdict(value: CachedVerdict): CachedVerdict {
  return { action: value.action, ...(value.reason === undefined ? {} : { reason: value.reason }), violations: [...value.violations] };
}

const isTtl = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/**
 * The valid operations of a message from a worker, and how many were refused. An operation that
 * is refused but carries an id is answered `scan` (a miss without claim), so its asker does not
 * wait out its timeout.
 */
export function parseOps(message: unknown): { ops: VerdictOp[]; refusedIds: number[]; refused: number } {
  const ops: VerdictOp[] = [];
  const refusedIds: number[] = [];
  let refused = 0;
  const list = (message as { ops?: unknown } | null)?.ops;
  if (!Array.isArray(list) || list.length > MAX_BATCH) return { ops, refusedIds, refused: Array.isArray(list) ? list.length : 1 };
  for (const raw of list) {
    const op = parseOp(raw);
    if (op) {
      ops.push(op);
      continue;
    }
    refused++;
    const id = (raw as { id?: unknown } | null)?.id;
    if (isId(id)) refusedIds.push(id);
  }
  return { ops, refusedIds, refused };
}

function parseOp(raw: unknown): VerdictOp | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const o = raw as Record<string, unknown>;
  switch (o.op) {
    case 'get':
      return isId(o.id) && isValidKey(o.key) && typeof o.claim === 'boolean' ? { op: 'get', id: o.id, key: o.key, claim: o.claim } : undefined;
    case 'set':
      return isValidKey(o.key) && isValidVerdict(o.value) && isTtl(o.ttlMs) ? { op: 'set', key: o.key, value: cleanVerdict(o.value), ttlMs: o.ttlMs } : undefined;
    case 'release':
      return isValidKey(o.key) ? { op: 'release', key: o.key } : undefined;
    case 'delete':
      return isId(o.id) && isValidKey(o.key) ? { op: 'delete', id: o.id, key: o.key } : undefined;
    case 'stats':
      return isId(o.id) ? { op: 'stats', id: o.id } : undefined;
    default:
      return undefined;
  }
}

/** The answers of a message from the primary that are well-formed (a worker trusts nothing either). */
export function parseAnswers(message: unknown): VerdictAnswer[] {
  const list = (message as { answers?: unknown } | null)?.answers;
  if (!Array.isArray(list)) return [];
  const answers: VerdictAnswer[] = [];
  for (const raw of list) {
    if (typeof raw !== 'object' || raw === null) continue;
    const a = raw as Record<string, unknown>;
    if (!isId(a.id)) continue;
    if (a.kind === 'hit' && isValidVerdict(a.value) && isTtl(a.ttlMs)) answers.push({ id: a.id, kind: 'hit', value: cleanVerdict(a.value), ttlMs: a.ttlMs });
    else if (a.kind === 'claimed' || a.kind === 'wait' || a.kind === 'scan') answers.push({ id: a.id, kind: a.kind });
    else if (a.kind === 'deleted' && typeof a.present === 'boolean') answers.push({ id: a.id, kind: 'deleted', present: a.present });
    else if (a.kind === 'stats' && isStats(a.stats)) answers.push({ id: a.id, kind: 'stats', stats: a.stats });
  }
  return answers;
}

function isStats(v: unknown): v is VerdictStoreStats {
  const s = v as Partial<Record<keyof VerdictStoreStats, unknown>> | null;
  return typeof s === 'object' && s !== null && isTtl(s.entries) && isTtl(s.bytes) && isTtl(s.evictions);
}

/** Split a list into messages of at most MAX_BATCH items. */
export function batches<T>(items: T[]): T[][] {
  if (items.length <= MAX_BATCH) return [items];
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += MAX_BATCH) out.push(items.slice(i, i + MAX_BATCH));
  return out;
}
