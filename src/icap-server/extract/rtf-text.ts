// RTF (Microsoft RTF 1.9.1) as text: groups and control words parsed as they stream, destinations
// that hold no document text (font and color tables, style sheets, pictures, object data, theme)
// skipped, `{\*\…}` groups a reader may ignore read all the same (comments, form fields, custom
// properties travel in them), \par \line \row end a line, \tab \cell a tab, \'hh decoded in the
// document's code page (\ansicpg), \uN in Unicode with its \ucN fallback characters dropped, and
// \binN data skipped by count. What a skipped group, \bin data or a fallback hides is scanned after
// all when the document ends before it does (HiddenBytes): a cut RTF must not hide what follows.
import type { ByteSink } from '../decode/byte-sink.js';
import type { TextSink } from '../decode/text-decoders.js';

/** Destinations that hold tables, binary data in hex or names of formats, never document text. */
const SKIPPED = new Set([
  'fonttbl', 'colortbl', 'stylesheet', 'listtable', 'listoverridetable', 'pict', 'objdata', 'themedata', 'colorschememapping',
  'datastore', 'latentstyles', 'rsidtbl', 'generator', 'xmlnstbl', 'mmathPr', 'filetbl', 'revtbl', 'pgdsctbl', 'bkmkstart', 'bkmkend',
  'blipuid', 'nonshppict', 'fldtype', 'wgrffmtfilter', 'panose', 'falt', 'listpicture', 'defchp', 'defpap', 'passwordhash', 'protusertbl',
  'oldcprops', 'oldpprops', 'oldsprops', 'oldtprops', 'pnseclvl',
]);
const LINE = new Set(['par', 'line', 'sect', 'page', 'row', 'pard']);
const TAB = new Set(['tab', 'cell']);
const SYMBOLS: Record<string, string> = { '~': '\u00a0', '-': '', _: '-', '\\': '\\', '{': '{', '}': '}', '\n': '\n', '\r': '\n', '\t': '\t' };
const CONTROL_WORD = /\\([a-zA-Z]{1,32})(-?\d{1,10})? ?/y;
/** Characters that are text as they are. */
const PLAIN = /[^\\{}\r\n\u0080-\u00ff]*/y;

/** Hidden bytes held past this are scanned as they come, so memory stays bounded. */
const MAX_HIDDEN_BYTES = 1024 * 1024;

/**
 * Bytes the reader hides (a skipped destination, \binN data, the \ucN fallback of a \uN) are held
 * until their group closes or their count is read. An RTF cut inside one, or one whose group never
 * closes, hides all that follows: whatever is still held at the end is scanned as text, as UTF-8
 * (the document's own text has gone out already). Past MAX_HIDDEN_BYTES they are scanned as they
 * come.
 */
class HiddenBytes {
  private held: string[] = [];
  private heldBytes = 0;
  private spilling = false;
  private readonly utf8 = new TextDecoder('utf-8');

  constructor(
    readonly open: () => boolean,
    private readonly out: (text: string) => void,
  ) {}

  /** Bytes (as latin1 characters) still hidden. */
  keep(s: string): void {
    if (this.spilling) return this.spill(s);
    this.held.push(s);
    this.heldBytes += s.length;
    if (this.heldBytes > MAX_HIDDEN_BYTES) this.spillHeld();
  }

  /** The last hidden bytes of a region that ended as the format says: accounted for. */
  close(s: string): void {
    if (this.spilling) {
      this.spill(s);
      this.out(`${this.utf8.decode()}\n`);
    }
    this.held = [];
    this.heldBytes = 0;
    this.spilling = false;
  }

  /** At the end of the document: what is still hidden was never accounted for. */
  end(): void {
    if (!this.open()) return;
    this.spillHeld();
    this.out(this.utf8.decode());
  }

  private spillHeld(): void {
    if (!this.spilling) this.out('\n');
    this.spilling = true;
    for (const s of this.held) this.spill(s);
    this.held = [];
    this.heldBytes = 0;
  }

  private spill(s: string): void {
    this.out(this.utf8.decode(Buffer.from(s, 'latin1'), { stream: true }));
  }
}

interface Group {
  skip: boolean;
  uc: number;
  /** An ignorable destination read as text: apart from the text around it. */
  apart?: boolean;
}

export function rtfText(out: TextSink): ByteSink {
  const stack: Group[] = [];
  let group: Group = { skip: false, uc: 1 };
  let decoder = new TextDecoder('windows-1252');
  let bytes: number[] = [];
  let text = '';
  let carry = '';
  let binRemaining = 0;
  /** Fallback characters still to drop after a \uN. */
  let fallback = 0;
  /** The next control word names an ignorable destination (`\*`). */
  let starred = false;
  const hidden = new HiddenBytes(
    () => group.skip || binRemaining > 0 || fallback > 0,
    (s) => {
      flushBytes();
      text += s;
    },
  );

  const flushBytes = () => {
    if (bytes.length === 0) return;
    if (!group.skip) text += decoder.decode(Uint8Array.from(bytes));
    bytes = [];
  };
  const emit = (s: string) => {
    flushBytes();
    if (!group.skip) text += s;
  };

  const word = (name: string, param: string | undefined) => {
    const n = param === undefined ? undefined : Number.parseInt(param, 10);
    if (SKIPPED.has(name)) {
      starred = false;
      flushBytes();
      group.skip = true;
      return;
    }
    if (starred) {
      // An ignorable destination a reader does not know (`{\*\…}`) is still text that travels
      // with the file: comments (\annotation), form field values (\ffdeftext), custom properties
      // (\userprops), document variables (\docvar), field codes (\fldinst). It is read apart.
      starred = false;
      emit(' ');
      group.apart = true;
    }
    if (name === 'u' && n !== undefined) {
      emit(String.fromCharCode(n < 0 ? n + 65536 : n));
      fallback = group.uc;
    } else if (name === 'uc' && n !== undefined) group.uc = n;
    else if (name === 'bin' && n !== undefined) binRemaining = n;
    else if (name === 'ansicpg' && n !== undefined) {
      try {
        decoder = new TextDecoder(n === 932 ? 'shift_jis' : n === 936 ? 'gbk' : n === 949 ? 'euc-kr' : n === 950 ? 'big5' : `windows-${n}`);
      } catch {
        // An unknown code page: keep windows-1252.
      }
    } else if (LINE.has(name)) emit('\n');
    else if (TAB.has(name)) emit('\t');
  };

  /** One token of `s` at `i`: the index after it, or -1 when it may go on in the next chunk. */
  const step = (s: string, i: number, final: boolean): number => {
    if (binRemaining > 0) {
      const skip = Math.min(binRemaining, s.length - i);
      binRemaining -= skip;
      return i + skip;
    }
    const c = s[i] as string;
    if (c === '\\') {
      if (i + 1 >= s.length && !final) return -1;
      const next = s[i + 1] ?? '';
      if (next === "'") {
        if (i + 3 >= s.length && !final) return -1;
        const value = Number.parseInt(s.slice(i + 2, i + 4), 16);
        if (fallback > 0) fallback--;
        else if (!Number.isNaN(value)) bytes.push(value);
        return i + 4;
      }
      if (/[a-zA-Z]/.test(next)) {
        CONTROL_WORD.lastIndex = i;
        const m = CONTROL_WORD.exec(s);
        // A control word may continue in the next chunk unless a delimiter already follows it.
        if (m === null || (!final && CONTROL_WORD.lastIndex >= s.length)) return -1;
        const after = CONTROL_WORD.lastIndex;
        word(m[1] as string, m[2]);
        return after;
      }
      if (next === '*') starred = true;
      else if (fallback > 0) fallback--;
      else emit(SYMBOLS[next] ?? '');
      return i + 2;
    }
    if (c === '{') {
      flushBytes();
      stack.push(group);
      group = { skip: group.skip, uc: group.uc };
    } else if (c === '}') {
      flushBytes();
      const closed = group;
      group = stack.pop() ?? { skip: false, uc: 1 };
      starred = false;
      fallback = 0;
      if (closed.apart) emit(' ');
    } else if (c === '\r' || c === '\n') {
      return i + 1;
    } else if (fallback > 0) {
      fallback--;
    } else if (c.charCodeAt(0) >= 0x80) {
      bytes.push(c.charCodeAt(0));
    } else {
      PLAIN.lastIndex = i + 1;
      const run = PLAIN.exec(s)?.[0] ?? '';
      emit(c + run);
      return i + 1 + run.length;
    }
    return i + 1;
  };

  const consume = (s: string, final: boolean) => {
    let i = 0;
    /** Where the hidden bytes of `s` began, while they are hidden. */
    let from = hidden.open() ? 0 : -1;
    while (i < s.length) {
      const next = step(s, i, final);
      if (next < 0) break;
      if (from < 0 && hidden.open()) from = i;
      else if (from >= 0 && !hidden.open()) {
        hidden.close(s.slice(from, next));
        from = -1;
      }
      i = next;
    }
    if (from >= 0) hidden.keep(s.slice(from, i));
    carry = s.slice(i);
  };
  const flush = async () => {
    flushBytes();
    const chunk = text;
    text = '';
    if (chunk.length > 0) await out.write(chunk);
  };
  return {
    async write(chunk) {
      consume(carry + chunk.toString('latin1'), false);
      await flush();
    },
    async end() {
      consume(carry, true);
      hidden.end();
      await flush();
      await out.end();
    },
  };
}
