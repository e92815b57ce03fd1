// The lexical conventions of PDF (ISO 32000-1 §7.2, §7.3.4) that every reader of the format shares:
// which bytes end a token, the value of a hex digit, and the escapes of a literal string. The
// strings of objects outside content streams (pdf-strings.ts) are read here from latin1 text, one
// character a byte; content streams are read from their bytes (pdf-content.ts).

/** White space and delimiters (§7.2.2, §7.2.3) by character code: a token ends at any of them. */
export const ENDS_TOKEN = new Uint8Array(256);
for (const c of ' \t\n\r\f\u0000()<>[]{}/%') ENDS_TOKEN[c.charCodeAt(0)] = 1;

/** A hex digit's value by character code, -1 for any other (§7.3.4.3). */
export const HEX_VALUE = new Int8Array(256).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX_VALUE['0123456789abcdef'.charCodeAt(i)] = i;
  HEX_VALUE['0123456789ABCDEF'.charCodeAt(i)] = i;
}

/** §7.3.4.2 Table 3: the byte an escape `\x` stands for, by the code of x; -1 for octal digits and line ends (read apart). */
export const ESCAPED = new Int16Array(256);
for (let c = 0; c < 256; c++) ESCAPED[c] = c;
for (const [c, v] of [['n', 10], ['r', 13], ['t', 9], ['b', 8], ['f', 12]] as const) ESCAPED[c.charCodeAt(0)] = v;
for (const c of '01234567\r\n') ESCAPED[c.charCodeAt(0)] = -1;

/** Room for the bytes of one hex string; longer ones are decoded in pieces of this size. */
const HEX_PIECE = 4096;
const hexBytes = new Uint16Array(HEX_PIECE);

/**
 * The bytes of the hex string s[from, to) (§7.3.4.3: white space and other characters ignored, a
 * missing last digit is 0) as latin1 characters, read where it stands.
 */
export function hexCodes(s: string, from: number, to: number): string {
  let out = '';
  let n = 0;
  let high = -1;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    const v = c < 256 ? (HEX_VALUE[c] as number) : -1;
    if (v < 0) continue;
    if (high < 0) {
      high = v;
      continue;
    }
    hexBytes[n++] = (high << 4) | v;
    high = -1;
    if (n === HEX_PIECE) {
      out += String.fromCharCode.apply(null, hexBytes as unknown as number[]);
      n = 0;
    }
  }
  if (high >= 0) hexBytes[n++] = high << 4;
  return out + String.fromCharCode.apply(null, hexBytes.subarray(0, n) as unknown as number[]);
}

/** A literal string from `(` at `start`: its value and the index after `)`, or undefined when cut. */
export function literalString(s: string, start: number): { value: string; end: number } | undefined {
  // Most strings hold no escape and no parenthesis: one search finds their end.
  const close = s.indexOf(')', start + 1);
  if (close < 0) return undefined;
  const plain = s.slice(start + 1, close);
  if (!plain.includes('\\') && !plain.includes('(')) return { value: plain, end: close + 1 };
  const part = literalPart(s, start + 1, 1);
  return part.depth === 0 ? { value: part.value, end: part.end } : undefined;
}

/**
 * A literal string's characters from `from`, where it is `depth` parentheses deep, as far as `s`
 * goes: its value, and where it stopped (after its `)` when `depth` came to 0, else the end of `s`
 * or an escape that `s` cuts).
 */
function literalPart(s: string, from: number, depth: number): { value: string; end: number; depth: number } {
  let value = '';
  let i = from;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === 0x5c) {
      if (i + 1 >= s.length) return { value, end: i, depth };
      const e = s.charCodeAt(i + 1);
      const escaped = e < 256 ? (ESCAPED[e] as number) : e;
      if (escaped >= 0) {
        value += String.fromCharCode(escaped);
        i += 2;
      } else if (e === 0x0d || e === 0x0a) {
        if (e === 0x0d && i + 2 >= s.length) return { value, end: i, depth };
        i += e === 0x0d && s.charCodeAt(i + 2) === 0x0a ? 3 : 2;
      } else {
        const m = /^[0-7]{1,3}/.exec(s.slice(i + 1, i + 4)) as RegExpExecArray;
        if (i + 1 + m[0].length >= s.length && m[0].length < 3) return { value, end: i, depth };
        value += String.fromCharCode(Number.parseInt(m[0], 8) & 0xff);
        i += 1 + m[0].length;
      }
      continue;
    }
    if (c === 0x28) depth++;
    else if (c === 0x29 && --depth === 0) return { value, end: i + 1, depth };
    value += s[i];
    i++;
  }
  return { value, end: i, depth };
}

/** White space as JavaScript's `\s` has it in latin1 text: \t \n \v \f \r, space and no-break space. */
const isSpace = (c: number) => c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0xa0;
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;

/** The last header objectHeader found: where its `obj` ends, and its object number. */
export const header = { end: 0, number: 0 };

/**
 * Where the first indirect object's header `N G obj` (§7.3.10) of latin1 text `s` at or after
 * `from` starts, as /(\d{1,10})\s+(\d{1,5})\s+obj(?![A-Za-z])/g from lastIndex `from` finds it;
 * -1 when there is none. Read back from each `obj`: the expression, which has no word to look
 * for first, was a thirtieth of a PDF scan, about a microsecond for each of the file's objects.
 */
export function objectHeader(s: string, from: number): number {
  for (let q = s.indexOf('obj', from); q >= 0; q = s.indexOf('obj', q + 1)) {
    const next = s.charCodeAt(q + 3) | 0x20;
    if (next >= 0x61 && next <= 0x7a) continue;
    let k = q;
    while (k > from && isSpace(s.charCodeAt(k - 1))) k--;
    if (k === q) continue;
    const generationEnd = k;
    while (k > from && isDigit(s.charCodeAt(k - 1)) && generationEnd - k <= 5) k--;
    // Six digits or more: the expression's generation would start after a digit, not a space.
    if (k === generationEnd || generationEnd - k > 5) continue;
    const spaceEnd = k;
    while (k > from && isSpace(s.charCodeAt(k - 1))) k--;
    if (k === spaceEnd) continue;
    const numberEnd = k;
    // Of a longer number, the last ten digits (where the expression's leftmost match starts).
    while (k > from && isDigit(s.charCodeAt(k - 1)) && numberEnd - k < 10) k--;
    if (k === numberEnd) continue;
    let number = 0;
    for (let i = k; i < numberEnd; i++) number = number * 10 + s.charCodeAt(i) - 0x30;
    header.end = q + 3;
    header.number = number;
    return k;
  }
  return -1;
}
