// Byte ranges for the ranged-download bench, on both ends of the wire: the bench origin answers
// Range itself (RFC 9110 §14: one range as 206 with Content-Range, several as
// multipart/byteranges), and the bench checks every byte the proxy hands back against the file.
// The file is a pattern computable at any offset, so a range is verified without holding the whole.
// Written apart from src/pipeline/ranges.ts on purpose: a shared bug would agree with itself.

export interface ByteSpan {
  /** first byte, inclusive */
  start: number;
  /** last byte, inclusive */
  end: number;
}

/** The bench file's bytes [start, endExclusive): 32-bit word k is a hash of k (murmur3's fmix32). */
export function patternBytes(start: number, endExclusive: number): Buffer {
  if (endExclusive <= start) return Buffer.alloc(0);
  const firstWord = Math.floor(start / 4);
  const words = Buffer.alloc((Math.ceil(endExclusive / 4) - firstWord) * 4);
  for (let i = 0; i < words.length / 4; i++) words.writeUInt32LE(fmix32((firstWord + i) ^ 0x5bd1e995), i * 4);
  return words.subarray(start - firstWord * 4, endExclusive - firstWord * 4);
}

function fmix32(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** `length` bytes from the middle of a file of `size`: bytes=50%..50%+length-1. */
export function middleSpan(size: number, length: number): ByteSpan {
  const start = Math.floor(size / 2);
  return { start, end: Math.min(size, start + length) - 1 };
}

/** Three pieces of `length` bytes at 10 %, 50 % and 90 % of the file. */
export function threeSpans(size: number, length: number): ByteSpan[] {
  return [0.1, 0.5, 0.9].map((at) => {
    const start = Math.floor(size * at);
    return { start, end: Math.min(size, start + length) - 1 };
  });
}

export function rangeHeader(spans: readonly ByteSpan[]): string {
  return `bytes=${spans.map((s) => `${s.start}-${s.end}`).join(',')}`;
}

/**
 * The origin's reading of Range (RFC 9110 §14.1.2): `a-b`, `a-` and `-n` specs clipped to the
 * size; [] when none is satisfiable; undefined when the header is not a bytes range set.
 */
export function parseRangeHeader(header: string, size: number): ByteSpan[] | undefined {
  const m = /^bytes=(.+)$/i.exec(header.trim());
  if (!m) return undefined;
  const spans: ByteSpan[] = [];
  for (const raw of m[1]!.split(',')) {
    const spec = /^\s*(\d*)-(\d*)\s*$/.exec(raw);
    if (!spec || (spec[1] === '' && spec[2] === '')) return undefined;
    if (spec[1] === '') {
      const suffix = Number(spec[2]);
      if (suffix > 0 && size > 0) spans.push({ start: Math.max(0, size - suffix), end: size - 1 });
      continue;
    }
    const start = Number(spec[1]);
    const end = spec[2] === '' ? size - 1 : Math.min(Number(spec[2]), size - 1);
    if (spec[2] !== '' && Number(spec[2]) < start) return undefined;
    if (start < size) spans.push({ start, end });
  }
  return spans;
}

/** A multipart/byteranges body (RFC 9110 §14.6) as the parts to write, in order. */
export function multipartBody(spans: readonly ByteSpan[], size: number, contentType: string, boundary: string, slice: (span: ByteSpan) => Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (const span of spans) {
    out.push(Buffer.from(`\r\n--${boundary}\r\nContent-Type: ${contentType}\r\nContent-Range: bytes ${span.start}-${span.end}/${size}\r\n\r\n`, 'latin1'), slice(span));
  }
  out.push(Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1'));
  return out;
}

export interface RangePart {
  span: ByteSpan;
  /** the complete length after the slash of Content-Range */
  size: number;
  data: Buffer;
}

/** The boundary parameter of a multipart Content-Type, unquoted. */
export function boundaryOf(contentType: string | undefined): string | undefined {
  const m = /^multipart\/byteranges\s*;.*?\bboundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? '');
  return m ? (m[1] ?? m[2]) : undefined;
}

function parseContentRange(value: string | undefined): { span: ByteSpan; size: number } | undefined {
  const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(value?.trim() ?? '');
  return m ? { span: { start: Number(m[1]), end: Number(m[2]) }, size: Number(m[3]) } : undefined;
}

/**
 * The parts of a multipart/byteranges body. Each part's length is taken from its Content-Range,
 * not from a search for the boundary, which binary data may contain. Throws on anything malformed.
 */
export function parseMultipartByteranges(body: Buffer, boundary: string): RangePart[] {
  const parts: RangePart[] = [];
  const delimiter = `--${boundary}`;
  let at = body.indexOf(delimiter, 0, 'latin1');
  if (at < 0) throw new Error('multipart body without its boundary');
  for (;;) {
    at += delimiter.length;
    if (body.toString('latin1', at, at + 2) === '--') return parts;
    const headEnd = body.indexOf('\r\n\r\n', at, 'latin1');
    if (body.toString('latin1', at, at + 2) !== '\r\n' || headEnd < 0) throw new Error(`part ${parts.length + 1}: no header block`);
    const fields = new Map<string, string>();
    for (const line of body.toString('latin1', at + 2, headEnd).split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon > 0) fields.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    const range = parseContentRange(fields.get('content-range'));
    if (!range) throw new Error(`part ${parts.length + 1}: no valid Content-Range`);
    const dataStart = headEnd + 4;
    const dataEnd = dataStart + range.span.end - range.span.start + 1;
    if (dataEnd > body.length) throw new Error(`part ${parts.length + 1}: body cut short`);
    parts.push({ ...range, data: body.subarray(dataStart, dataEnd) });
    if (body.toString('latin1', dataEnd, dataEnd + 2 + delimiter.length) !== `\r\n${delimiter}`) throw new Error(`part ${parts.length}: not followed by the boundary`);
    at = dataEnd + 2;
  }
}

export interface RangeAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/**
 * Why `answer` is not the right answer to a request for `spans` of the pattern file of `size`
 * (undefined when it is): 200 with the whole for no spans, 206 with Content-Range for one,
 * multipart/byteranges with every span for several, each byte equal to the file's.
 */
export function checkRangeAnswer(spans: readonly ByteSpan[], size: number, answer: RangeAnswer): string | undefined {
  const expectBytes = (span: ByteSpan, data: Buffer): string | undefined =>
    data.equals(patternBytes(span.start, span.end + 1)) ? undefined : `bytes ${span.start}-${span.end} differ from the file`;
  if (spans.length === 0) {
    if (answer.status !== 200) return `status ${answer.status}, expected 200`;
    if (answer.body.length !== size) return `${answer.body.length} bytes, expected ${size}`;
    return expectBytes({ start: 0, end: size - 1 }, answer.body);
  }
  if (answer.status !== 206) return `status ${answer.status}, expected 206`;
  const contentType = answer.headers['content-type'];
  if (spans.length === 1) {
    const range = parseContentRange(String(answer.headers['content-range'] ?? ''));
    const want = spans[0]!;
    if (!range || range.span.start !== want.start || range.span.end !== want.end || range.size !== size) return `Content-Range ${String(answer.headers['content-range'])}, expected bytes ${want.start}-${want.end}/${size}`;
    return expectBytes(want, answer.body);
  }
  const boundary = boundaryOf(typeof contentType === 'string' ? contentType : undefined);
  if (!boundary) return `Content-Type ${String(contentType)}, expected multipart/byteranges`;
  let parts: RangePart[];
  try {
    parts = parseMultipartByteranges(answer.body, boundary);
  } catch (err) {
    return (err as Error).message;
  }
  if (parts.length !== spans.length) return `${parts.length} parts, expected ${spans.length}`;
  for (const [i, part] of parts.entries()) {
    const want = spans[i]!;
    if (part.span.start !== want.start || part.span.end !== want.end || part.size !== size) return `part ${i + 1} is bytes ${part.span.start}-${part.span.end}/${part.size}`;
    const wrong = expectBytes(want, part.data);
    if (wrong) return wrong;
  }
  return undefined;
}
