// What lies between the indirect objects of a PDF (ISO 32000-1 §7.5): the header and its binary
// marker (§7.5.2), cross-reference sections (§7.5.4), the trailer dictionary, `startxref` and
// `%%EOF` (§7.5.5), and the `endstream endobj` after a stream read by its /Length. That is
// structure: the trailer's strings are read as text, the rest is accounted for. Anything else there
// (a text behind the header, bytes after %%EOF, what follows a cut, an object too damaged to find)
// is not PDF, and goes to the leftover text as it stands, runs of it separated by a line break.
import { ENDS_TOKEN } from './pdf-syntax.js';
import { dictionaryEnd, objectStrings } from './pdf-strings.js';

export interface GapOutput {
  /** A string of a dictionary, decoded. */
  text(text: string): void;
  /** Bytes that are not PDF (latin1 characters, one per byte). */
  leftover(bytes: string): void;
}

/** How far a dictionary, a comment or a token waits for its end before it is taken as not PDF. */
const MAX_WAIT_CHARS = 64 * 1024;
/** A word longer than this is no keyword: it need not wait for its end. */
const MAX_KEYWORD_CHARS = 16;
/** §7.5.2 header, §7.5.5 end-of-file marker, and a comment of bytes ≥ 128 only (the binary marker). */
const KNOWN_COMMENT = /^%(?:PDF-\d\.\d|%EOF|[\u0080-\u00ff]+)[ \t\f]*$/;
/** §7.5.4: a subsection's first object number and count on a line of their own, then its entries. */
const SUBSECTION = /(\d{1,10})[ \t]+(\d{1,10})[ \t]*[\r\n]/y;
/** An entry is 20 bytes (10-digit offset, 5-digit generation, n or f); some writers pad less. */
const ENTRY = /\d{1,10}[ \t]+\d{1,5}[ \t]+[fn](?![^\s])/y;
const XREF_LINE_CHARS = 24;
const STARTXREF_OFFSET = /\s*\d+(?![^\s%])/y;
const KEYWORDS = new Set(['xref', 'trailer', 'startxref', 'endobj', 'endstream']);

/** White space (§7.2.2) by character code. */
const WHITE = new Uint8Array(256);
for (const c of ' \t\n\r\f\u0000') WHITE[c.charCodeAt(0)] = 1;

/** A step's answer: more bytes are needed to tell. */
const MORE = 0;

export class PdfGaps {
  private carry = '';
  /** The carry is not tried again before it is this long: a long wait is not rescanned at every small chunk. */
  private retryAt = 0;
  /** A run of bytes that are not PDF goes on from the start of the next piece. */
  private runOpen = false;
  /** Inside a cross-reference section: the entries left in the current subsection. */
  private entriesLeft: number | undefined;

  constructor(private readonly out: GapOutput) {}

  /** The next bytes between objects (latin1); `last` when an object or the end of the file follows them. */
  write(piece: string, last: boolean): void {
    if (this.carry === '' && !this.runOpen && isBlank(piece)) {
      if (last) this.entriesLeft = undefined;
      return;
    }
    const s = this.carry + piece;
    if (!last && s.length < this.retryAt) {
      this.carry = s;
      return;
    }
    this.carry = '';
    this.retryAt = 0;
    let run = this.runOpen ? 0 : -1;
    let i = 0;
    while (i < s.length) {
      if (WHITE[s.charCodeAt(i) & 0xff] === 1) {
        i++;
        continue;
      }
      const step = this.step(s, i, last);
      if (step === MORE) {
        this.carry = s.slice(i);
        this.retryAt = 2 * this.carry.length;
        break;
      }
      if (step > 0) {
        if (run >= 0) this.out.leftover(`${s.slice(run, i)}\n`);
        run = -1;
        i = step;
      } else {
        if (run < 0) run = i;
        i = -step;
      }
    }
    this.runOpen = run >= 0 && !last;
    if (run >= 0) this.out.leftover(last ? `${s.slice(run, i)}\n` : s.slice(run, i));
    if (last) {
      this.entriesLeft = undefined;
      this.carry = '';
    }
  }

  /** The bytes just before the next piece were not PDF either (a stream's, §7.3.8.1): they and the piece are one run. */
  continueRun(): void {
    this.runOpen = true;
  }

  /** At `s[i]` (not white space): the end of a structure, the negative end of a token that is not PDF, or MORE. */
  private step(s: string, i: number, last: boolean): number {
    const waits = !last && s.length - i < MAX_WAIT_CHARS;
    if (this.entriesLeft !== undefined) {
      const line = this.xrefLine(s, i, last);
      if (line !== -1) return line;
      this.entriesLeft = undefined;
    }
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      let eol = i + 1;
      while (eol < s.length && s.charCodeAt(eol) !== 0x0a && s.charCodeAt(eol) !== 0x0d) eol++;
      if (eol === s.length && waits) return MORE;
      return KNOWN_COMMENT.test(s.slice(i, eol)) ? eol : -eol;
    }
    if (c === 0x3c && s.charCodeAt(i + 1) === 0x3c) {
      const end = dictionaryEnd(s, i);
      if (end < 0) return waits ? MORE : -(i + 2);
      objectStrings(s.slice(i, end), (text) => this.out.text(text));
      return end;
    }
    let end = i + 1;
    // A name runs up to the next delimiter too; any other delimiter is a token by itself.
    if (c === 0x2f || ENDS_TOKEN[c & 0xff] !== 1) while (end < s.length && ENDS_TOKEN[s.charCodeAt(end) & 0xff] !== 1) end++;
    if (end === s.length && !last && end - i <= MAX_KEYWORD_CHARS) return MORE;
    const word = s.slice(i, end);
    if (!KEYWORDS.has(word)) return -end;
    if (word === 'xref') this.entriesLeft = 0;
    if (word !== 'startxref') return end;
    STARTXREF_OFFSET.lastIndex = end;
    const offset = STARTXREF_OFFSET.exec(s);
    if (offset === null) return !last && isBlank(s.slice(end)) ? MORE : end;
    return STARTXREF_OFFSET.lastIndex === s.length && !last ? MORE : STARTXREF_OFFSET.lastIndex;
  }

  /** A subsection header or entry of a cross-reference section at `i`: its end, MORE, or -1 when it is neither. */
  private xrefLine(s: string, i: number, last: boolean): number {
    const left = this.entriesLeft as number;
    const pattern = left > 0 ? ENTRY : SUBSECTION;
    pattern.lastIndex = i;
    const m = pattern.exec(s);
    if (m === null) return !last && s.length - i < XREF_LINE_CHARS ? MORE : -1;
    if (pattern.lastIndex === s.length && !last) return MORE;
    this.entriesLeft = left > 0 ? left - 1 : Number(m[2]);
    return pattern.lastIndex;
  }
}

function isBlank(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (WHITE[s.charCodeAt(i) & 0xff] !== 1) return false;
  return true;
}
