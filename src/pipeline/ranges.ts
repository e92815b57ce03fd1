// Byte ranges of a scanned download, answered from the spool (RFC 9110 §14). The origin is asked
// for the whole representation (Range and If-Range stripped), the whole is scanned, and only then
// is the client's range cut from it: parts fetched one by one can never add up to a file whose
// whole would be blocked.
//
//   planRanges(Range, If-Range, validators, size) → full (200) | unsatisfiable (416) | ranges (206)
//   rangeBody(plan, size, type) → the 206 head fields and the segments to send, in order
import { randomBytes } from 'node:crypto';

export interface ByteRange {
  /** first byte, inclusive */
  start: number;
  /** last byte, inclusive */
  end: number;
}

export type RangePlan = { kind: 'full' } | { kind: 'unsatisfiable' } | { kind: 'ranges'; ranges: ByteRange[] };

/** More ranges than this in one request is an abuse pattern (RFC 9110 §14.2): answer the whole. */
const MAX_RANGES = 64;

/**
 * What to answer for `Range` against a representation of `size` bytes. If-Range (§13.1.5) holds
 * only for a strong ETag equal to the response's, or a date equal to its Last-Modified; otherwise
 * the whole is sent, as the origin would have. A header we cannot parse is ignored (§14.2).
 */
export function planRanges(range: string | undefined, ifRange: string | undefined, validators: { etag?: string | undefined; lastModified?: string | undefined }, size: number): RangePlan {
  if (range === undefined) return { kind: 'full' };
  if (ifRange !== undefined && !ifRangeHolds(ifRange.trim(), validators)) return { kind: 'full' };
  const parsed = parseRange(range, size);
  if (parsed === undefined) return { kind: 'full' };
  if (parsed.length === 0) return { kind: 'unsatisfiable' };
  if (parsed.length > MAX_RANGES) return { kind: 'full' };
  return { kind: 'ranges', ranges: coalesce(parsed) };
}

function ifRangeHolds(ifRange: string, validators: { etag?: string | undefined; lastModified?: string | undefined }): boolean {
  if (ifRange.startsWith('"')) return validators.etag !== undefined && !validators.etag.startsWith('W/') && validators.etag === ifRange;
  if (ifRange.startsWith('W/')) return false; // a weak validator never makes a range (§13.1.5)
  return validators.lastModified !== undefined && Date.parse(validators.lastModified) === Date.parse(ifRange) && !Number.isNaN(Date.parse(ifRange));
}

/**
 * `bytes=0-99, 200-, -50` → satisfiable ranges clipped to the size ([] when none is); undefined
 * when the header is not a valid bytes range set.
 */
export function parseRange(header: string, size: number): ByteRange[] | undefined {
  const match = /^\s*bytes\s*=\s*(.+)$/i.exec(header);
  if (!match) return undefined;
  const out: ByteRange[] = [];
  for (const part of match[1]!.split(',')) {
    const spec = part.trim();
    if (spec === '') continue;
    const m = /^(\d*)\s*-\s*(\d*)$/.exec(spec);
    if (!m || (m[1] === '' && m[2] === '')) return undefined;
    if (m[1] === '') {
      const suffix = Number(m[2]);
      if (suffix === 0 || size === 0) continue;
      out.push({ start: Math.max(0, size - suffix), end: size - 1 });
      continue;
    }
    const start = Number(m[1]);
    if (m[2] !== '' && Number(m[2]) < start) return undefined;
    if (start >= size) continue;
    out.push({ start, end: m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1) });
  }
  return out;
}

/** Overlapping or adjacent ranges merged (§14.2 lets a server coalesce), in ascending order. */
function coalesce(ranges: ByteRange[]): ByteRange[] {
  const sorted = [...ranges].sort((a, b) => a.start - b.start);
  const out: ByteRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.start <= last.end + 1) last.end = Math.max(last.end, r.end);
    else out.push({ ...r });
  }
  return out;
}

export type Segment = Buffer | ByteRange;

export interface RangeBody {
  /** fields of the 206 besides the origin's (Content-Range or a multipart Content-Type) */
  headers: Array<[string, string]>;
  contentLength: number;
  /** what to send, in order: literal bytes and ranges of the spool */
  segments: Segment[];
}

/** The 206 body: one range as is (§14.4), several as multipart/byteranges (§14.6). */
export function rangeBody(ranges: ByteRange[], size: number, contentType: string | undefined): RangeBody {
  if (ranges.length === 1) {
    const r = ranges[0]!;
    return { headers: [['Content-Range', `bytes ${r.start}-${r.end}/${size}`]], contentLength: r.end - r.start + 1, segments: [r] };
  }
  const boundary = randomBytes(12).toString('hex');
  const segments: Segment[] = [];
  let length = 0;
  for (const r of ranges) {
    const partHead = Buffer.from(`\r\n--${boundary}\r\n${contentType ? `Content-Type: ${contentType}\r\n` : ''}Content-Range: bytes ${r.start}-${r.end}/${size}\r\n\r\n`, 'latin1');
    segments.push(partHead, r);
    length += partHead.length + r.end - r.start + 1;
  }
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1');
  segments.push(tail);
  length += tail.length;
  return { headers: [['Content-Type', `multipart/byteranges; boundary=${boundary}`]], contentLength: length, segments };
}
