// The strings of PDF objects outside content streams (ISO 32000-1 §7.3.4): the document information
// dictionary (§14.3.3: /Title, /Author, /Subject, /Keywords), annotations (/Contents, §12.5.2),
// form fields (/V, /TU, §12.7.3.1), outline items (/Title, §12.3.3). Every string of an object is
// read, whatever its key: a writer may keep text under any key, and a hostile one does. They are
// text strings (§7.9.2.2): UTF-16BE after the byte order mark FE FF, UTF-8 after EF BB BF (PDF 2.0
// §7.9.2.2.1), else PDFDocEncoding, read as latin1 (the two agree on every ASCII character).
import { hexCodes, literalString } from './pdf-syntax.js';

/** §7.9.2.2: a language and country code between two ESC characters inside UTF-16 text. */
const LANGUAGE_ESCAPE = /\u001b[^\u001b]*\u001b/g;

/** The text of a string's bytes (latin1 characters, one per byte). */
export function textString(codes: string): string {
  if (codes.startsWith('\u00fe\u00ff')) return utf16(codes, false).replace(LANGUAGE_ESCAPE, '');
  // UTF-16LE with its mark is not PDF, but a viewer may show it, so it is read as what it says it is.
  if (codes.startsWith('\u00ff\u00fe')) return utf16(codes, true);
  if (codes.startsWith('\u00ef\u00bb\u00bf')) return Buffer.from(codes.slice(3), 'latin1').toString('utf8');
  return codes;
}

function utf16(codes: string, littleEndian: boolean): string {
  const even = 2 + ((codes.length - 2) & ~1);
  const bytes = Buffer.from(codes.slice(2, even), 'latin1');
  return (littleEndian ? bytes : bytes.swap16()).toString('utf16le');
}

/**
 * Each string (literal `( … )` with its escapes, §7.3.4.2, or hex `< … >`, §7.3.4.3) in the text
 * of an object, as text, to `emit`. A literal string left open runs to the end of the object; its
 * characters are emitted as they stand.
 */
export function objectStrings(body: string, emit: (text: string) => void): void {
  for (let i = 0; i < body.length; i++) {
    const c = body.charCodeAt(i);
    if (c === 0x28) {
      const str = literalString(body, i);
      if (str === undefined) {
        emit(body.slice(i + 1));
        return;
      }
      if (str.value !== '') emit(textString(str.value));
      i = str.end - 1;
    } else if (c === 0x3c) {
      if (body.charCodeAt(i + 1) === 0x3c) {
        i++;
        continue;
      }
      const end = body.indexOf('>', i);
      if (end < 0) return;
      const codes = hexCodes(body, i + 1, end);
      if (codes !== '') emit(textString(codes));
      i = end;
    }
  }
}

/**
 * The index after the `>>` that closes the dictionary opened at `start` (a `<<`), skipping the
 * strings inside (a `>>` in a string closes nothing); -1 when `s` ends first.
 */
export function dictionaryEnd(s: string, start: number): number {
  let depth = 0;
  for (let i = start; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x28) {
      const str = literalString(s, i);
      if (str === undefined) return -1;
      i = str.end - 1;
    } else if (c === 0x3c) {
      if (s.charCodeAt(i + 1) === 0x3c) {
        depth++;
        i++;
      } else {
        const end = s.indexOf('>', i);
        if (end < 0) return -1;
        i = end;
      }
    } else if (c === 0x3e && s.charCodeAt(i + 1) === 0x3e) {
      i++;
      if (--depth === 0) return i + 1;
    }
  }
  return -1;
}
