// RTF (Microsoft RTF 1.9.1) as text: groups and control words parsed as they stream, destinations
// that hold no document text (font and color tables, style sheets, pictures, object data, theme
// and `{\*\…}` groups) skipped, \par \line \row end a line, \tab \cell a tab, \'hh decoded in the
// document's code page (\ansicpg), \uN in Unicode with its \ucN fallback characters dropped, and
// \binN data skipped by count.
import type { ByteSink } from '../decode/byte-sink.js';
import type { TextSink } from '../decode/text-decoders.js';

const SKIPPED = new Set([
  'fonttbl', 'colortbl', 'stylesheet', 'listtable', 'listoverridetable', 'pict', 'objdata', 'themedata', 'colorschememapping',
  'datastore', 'latentstyles', 'rsidtbl', 'generator', 'xmlnstbl', 'mmathPr', 'filetbl', 'revtbl', 'pgdsctbl', 'bkmkstart', 'bkmkend',
  'blipuid', 'nonshppict', 'fldtype', 'wgrffmtfilter', 'panose', 'falt', 'listpicture', 'defchp', 'defpap',
]);
const LINE = new Set(['par', 'line', 'sect', 'page', 'row', 'pard']);
const TAB = new Set(['tab', 'cell']);
const SYMBOLS: Record<string, string> = { '~': '\u00a0', '-': '', _: '-', '\\': '\\', '{': '{', '}': '}', '\n': '\n', '\r': '\n', '\t': '\t' };
const CONTROL_WORD = /\\([a-zA-Z]{1,32})(-?\d{1,10})? ?/y;
/** Characters that are text as they are. */
const PLAIN = /[^\\{}\r\n\u0080-\u00ff]*/y;

interface Group {
  skip: boolean;
  uc: number;
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
    if (starred || SKIPPED.has(name)) {
      starred = false;
      flushBytes();
      group.skip = true;
      return;
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

  const consume = (s: string, final: boolean) => {
    let i = 0;
    while (i < s.length) {
      if (binRemaining > 0) {
        const skip = Math.min(binRemaining, s.length - i);
        binRemaining -= skip;
        i += skip;
        continue;
      }
      const c = s[i] as string;
      if (c === '\\') {
        if (i + 1 >= s.length && !final) return (carry = s.slice(i));
        const next = s[i + 1] ?? '';
        if (next === "'") {
          if (i + 3 >= s.length && !final) return (carry = s.slice(i));
          const value = Number.parseInt(s.slice(i + 2, i + 4), 16);
          i += 4;
          if (fallback > 0) fallback--;
          else if (!Number.isNaN(value)) bytes.push(value);
          continue;
        }
        if (/[a-zA-Z]/.test(next)) {
          CONTROL_WORD.lastIndex = i;
          const m = CONTROL_WORD.exec(s);
          // A control word may continue in the next chunk unless a delimiter already follows it.
          if (m === null || (!final && CONTROL_WORD.lastIndex >= s.length)) return (carry = s.slice(i));
          i = CONTROL_WORD.lastIndex;
          word(m[1] as string, m[2]);
          continue;
        }
        i += 2;
        if (next === '*') starred = true;
        else if (fallback > 0) fallback--;
        else emit(SYMBOLS[next] ?? '');
        continue;
      }
      i++;
      if (c === '{') {
        flushBytes();
        stack.push(group);
        group = { ...group };
      } else if (c === '}') {
        flushBytes();
        group = stack.pop() ?? { skip: false, uc: 1 };
        starred = false;
        fallback = 0;
      } else if (c === '\r' || c === '\n') {
        continue;
      } else if (fallback > 0) {
        fallback--;
      } else if (c.charCodeAt(0) >= 0x80) {
        bytes.push(c.charCodeAt(0));
      } else {
        PLAIN.lastIndex = i;
        const run = PLAIN.exec(s)?.[0] ?? '';
        emit(c + run);
        i += run.length;
      }
    }
    carry = '';
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
      await flush();
      await out.end();
    },
  };
}
