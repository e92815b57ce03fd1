// multipart/* bodies (RFC 2046 §5.1, RFC 7578 for form-data), parsed as they stream: every part
// goes to its own decoder chosen by the part's headers. The delimiter is "CRLF--boundary"; the
// first one may come without its CRLF, so the parser starts as if a CRLF preceded the body.
//
//   preamble ──delimiter──► headers ──CRLFCRLF──► body ──delimiter──► headers … ──"--"──► epilogue
//
// Bytes that belong to no part travel with the body all the same, so they are scanned (`raw`), in
// order: the preamble and the epilogue (RFC 2046 §5.1.1: readers ignore them), non-blank text on a
// delimiter line, header lines that are no field, a header block cut by the body's end or past its
// limit and all that follows it. A body whose boundary never appears is all preamble. A part cut
// by the body's end keeps its bytes.
import type { ByteSink } from './byte-sink.js';

export type PartHeaders = Map<string, string>;

/** Header blocks of a part larger than this end multipart parsing; the rest is scanned as it is. */
const MAX_PART_HEADER_BYTES = 16 * 1024;
/** A delimiter line longer than this is no delimiter line: multipart parsing ends there too. */
const MAX_PADDING_BYTES = 1024;

export function multipartBoundary(contentType: string): string | undefined {
  const m = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(contentType);
  return m ? (m[1] ?? m[2]) : undefined;
}

/** A part's header fields, and its lines that are no field (damage, or text put there to hide it). */
function parsePartHeaders(block: string): { headers: PartHeaders; stray: string[] } {
  const headers: PartHeaders = new Map();
  const stray: string[] = [];
  let last: string | undefined;
  for (const line of block.split('\r\n')) {
    // A folded field (RFC 5322 §2.2.3) continues on lines that start with white space.
    if (last !== undefined && (line.startsWith(' ') || line.startsWith('\t'))) {
      headers.set(last, `${headers.get(last) ?? ''} ${line.trim()}`);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) {
      if (line.trim() !== '') stray.push(line);
      continue;
    }
    last = line.slice(0, colon).trim().toLowerCase();
    headers.set(last, line.slice(colon + 1).trim());
  }
  return { headers, stray };
}

export function multipartDecoder(boundary: string, openPart: (headers: PartHeaders) => ByteSink, raw: ByteSink): ByteSink {
  const delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
  let state: 'preamble' | 'after-delimiter' | 'headers' | 'body' | 'epilogue' = 'preamble';
  let pending: Buffer = Buffer.from('\r\n');
  /** Bytes at the head of `pending` that the parser put there (the CRLF before a first delimiter), not the body's. */
  let invented = 2;
  let part: ByteSink | undefined;

  /** Bytes that belong to no part go to `raw`, in the order they came. */
  const unclaimed = async (bytes: Buffer) => {
    const from = Math.min(invented, bytes.length);
    invented -= from;
    if (bytes.length > from) await raw.write(bytes.subarray(from));
  };
  const closePart = async () => {
    const p = part;
    part = undefined;
    if (p) await p.end();
  };

  const consume = async (): Promise<void> => {
    for (;;) {
      if (state === 'preamble' || state === 'body') {
        const at = pending.indexOf(delimiter);
        // Without a delimiter, keep back only what could be the start of one split across chunks.
        const upTo = at >= 0 ? at : Math.max(0, pending.length - delimiter.length + 1);
        if (upTo > 0) await (part ? part.write(pending.subarray(0, upTo)) : unclaimed(pending.subarray(0, upTo)));
        if (at < 0) {
          pending = pending.subarray(upTo);
          return;
        }
        invented = 0;
        await closePart();
        pending = pending.subarray(at + delimiter.length);
        state = 'after-delimiter';
      } else if (state === 'after-delimiter') {
        // "--" closes the body; otherwise optional transport padding, then CRLF (RFC 2046 §5.1.1).
        if (pending.length < 2) return;
        if (pending[0] === 0x2d && pending[1] === 0x2d) {
          pending = pending.subarray(2);
          state = 'epilogue';
          continue;
        }
        const eol = pending.indexOf('\r\n');
        if (eol < 0) {
          // A line this long after "--boundary" is no delimiter line: nothing after it is parsed.
          if (pending.length > MAX_PADDING_BYTES) state = 'epilogue';
          else return;
          continue;
        }
        // Padding is white space in a well-formed body; anything else on the line is scanned.
        const padding = pending.subarray(0, eol);
        if (padding.some((b) => b !== 0x20 && b !== 0x09)) await unclaimed(padding);
        pending = pending.subarray(eol);
        state = 'headers';
      } else if (state === 'headers') {
        // pending starts with the CRLF that ended the delimiter line; an empty header block is CRLFCRLF.
        const end = pending.indexOf('\r\n\r\n');
        if (end < 0) {
          if (pending.length > MAX_PART_HEADER_BYTES) state = 'epilogue';
          else return;
          continue;
        }
        const { headers, stray } = parsePartHeaders(pending.subarray(2, end).toString('latin1'));
        if (stray.length > 0) await unclaimed(Buffer.from(`${stray.join('\r\n')}\r\n`, 'latin1'));
        part = openPart(headers);
        // An empty body is followed at once by the next delimiter, whose CRLF belongs to it.
        pending = pending.subarray(end + 4);
        state = 'body';
      } else {
        if (pending.length > 0) await unclaimed(pending);
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
      // A part cut short still gets all its bytes scanned; so does a cut delimiter line or header block.
      if (pending.length > 0) await (state === 'body' && part ? part.write(pending) : unclaimed(pending));
      pending = Buffer.alloc(0);
      await closePart();
      await raw.end();
    },
  };
}
