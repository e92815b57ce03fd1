// multipart/* bodies (RFC 2046 §5.1, RFC 7578 for form-data), parsed as they stream: every part
// goes to its own decoder chosen by the part's headers. The delimiter is "CRLF--boundary"; the
// first one may come without its CRLF, so the parser starts as if a CRLF preceded the body.
//
//   preamble ──delimiter──► headers ──CRLFCRLF──► body ──delimiter──► headers … ──"--"──► epilogue
import type { ByteSink } from './byte-sink.js';

export type PartHeaders = Map<string, string>;

/** Header blocks of a part larger than this end multipart parsing; the rest is scanned as it is. */
const MAX_PART_HEADER_BYTES = 16 * 1024;

export function multipartBoundary(contentType: string): string | undefined {
  const m = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(contentType);
  return m ? (m[1] ?? m[2]) : undefined;
}

function parsePartHeaders(block: string): PartHeaders {
  const headers: PartHeaders = new Map();
  let last: string | undefined;
  for (const line of block.split('\r\n')) {
    // A folded field (RFC 5322 §2.2.3) continues on lines that start with white space.
    if (last !== undefined && (line.startsWith(' ') || line.startsWith('\t'))) {
      headers.set(last, `${headers.get(last) ?? ''} ${line.trim()}`);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    last = line.slice(0, colon).trim().toLowerCase();
    headers.set(last, line.slice(colon + 1).trim());
  }
  return headers;
}

export function multipartDecoder(boundary: string, openPart: (headers: PartHeaders) => ByteSink, raw: ByteSink): ByteSink {
  const delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
  let state: 'preamble' | 'after-delimiter' | 'headers' | 'body' | 'epilogue' | 'raw' = 'preamble';
  let pending: Buffer = Buffer.from('\r\n');
  let part: ByteSink | undefined;

  const closePart = async () => {
    const p = part;
    part = undefined;
    if (p) await p.end();
  };

  const consume = async (): Promise<void> => {
    for (;;) {
      if (state === 'preamble' || state === 'body') {
        const at = pending.indexOf(delimiter);
        if (at < 0) {
          // Keep what could be the start of a delimiter split across chunks.
          const safe = Math.max(0, pending.length - delimiter.length + 1);
          if (state === 'body' && part && safe > 0) await part.write(pending.subarray(0, safe));
          pending = pending.subarray(safe);
          return;
        }
        if (state === 'body' && part && at > 0) await part.write(pending.subarray(0, at));
        await closePart();
        pending = pending.subarray(at + delimiter.length);
        state = 'after-delimiter';
      } else if (state === 'after-delimiter') {
        // "--" closes the body; otherwise optional transport padding, then CRLF (RFC 2046 §5.1.1).
        if (pending.length < 2) return;
        if (pending[0] === 0x2d && pending[1] === 0x2d) {
          state = 'epilogue';
          continue;
        }
        const eol = pending.indexOf('\r\n');
        if (eol < 0) {
          if (pending.length > 1024) state = 'epilogue';
          return;
        }
        pending = pending.subarray(eol);
        state = 'headers';
      } else if (state === 'headers') {
        // pending starts with the CRLF that ended the delimiter line; an empty header block is CRLFCRLF.
        const end = pending.indexOf('\r\n\r\n');
        if (end < 0) {
          if (pending.length > MAX_PART_HEADER_BYTES) {
            state = 'raw';
            continue;
          }
          return;
        }
        part = openPart(parsePartHeaders(pending.subarray(2, end).toString('latin1')));
        // An empty body is followed at once by the next delimiter, whose CRLF belongs to it.
        pending = pending.subarray(end + 4);
        state = 'body';
      } else if (state === 'raw') {
        if (pending.length > 0) await raw.write(pending);
        pending = Buffer.alloc(0);
        return;
      } else {
        pending = Buffer.alloc(0);
        return;
      }
    }
  };

  return {
    async write(chunk) {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      await consume();
    },
    async end() {
      // A body cut short still gets its last part scanned.
      if (state === 'body' && part && pending.length > 0) await part.write(pending);
      await closePart();
      if (state === 'raw' && pending.length > 0) await raw.write(pending);
      await raw.end();
    },
  };
}
