// The text operators of PDF content streams (ISO 32000-1 §9.4): Tf picks the font, Tj, TJ, ' and "
// show strings, and the positioning operators (Td, TD, T*, Tm) tell a new line from a word gap.
// Strings stay as the font's byte codes (latin1 characters, one per byte) with their font's
// resource name, because the font's ToUnicode map may only come later in the file; pdf-fonts.ts
// turns them into text. The tokenizer is incremental: a token cut at the end of a chunk waits for
// the next one; inline images (BI … ID … EI) are skipped.

/** A string shown in a font, or a separator ('\n' or ' '). */
export type TextOp = { font: string; codes: string } | string;

const MAX_TOKEN_CHARS = 256 * 1024;
/** White space and delimiters (§7.2.2, §7.2.3) by character code: a token ends at any of them. */
export const ENDS_TOKEN = new Uint8Array(256);
for (const c of ' \t\n\r\f\u0000()<>[]{}/%') ENDS_TOKEN[c.charCodeAt(0)] = 1;
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)$/;
/** Characters a number starts with: only such tokens are tested against NUMBER (operators are letters). */
const STARTS_NUMBER = new Uint8Array(256);
for (const c of '+-.0123456789') STARTS_NUMBER[c.charCodeAt(0)] = 1;
const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', f: '\f', '(': '(', ')': ')', '\\': '\\' };

const HEX_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX_VALUE['0123456789abcdef'.charCodeAt(i)] = i;
  HEX_VALUE['0123456789ABCDEF'.charCodeAt(i)] = i;
}

/** Room for the bytes of one hex string; longer ones are decoded in pieces of this size. */
const HEX_PIECE = 4096;
const hexBytes = new Uint16Array(HEX_PIECE);

/**
 * The bytes of the hex string s[from, to) (§7.3.4.3: white space and other characters ignored, a
 * missing last digit is 0) as latin1 characters, read where it stands. A TJ array holds a hex
 * string every few characters: a Buffer each was a fifth of a PDF scan, and an object, a cleaned
 * copy and an array of codes each were most of what the garbage collector then did.
 */
export function hexCodes(s: string, from: number, to: number): string {
  let out = '';
  let n = 0;
  let high = -1;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    const v = c < 128 ? (HEX_VALUE[c] as number) : -1;
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

/** Hex strings are decoded where they stand: a string operand holds the codes either way. */
/**
 * The number s[from, to) is (§7.3.3: an optional sign, digits, at most one period, no exponent),
 * NaN when it is something else; read in place, as TJ arrays hold a number between every two
 * strings. Digits only up to 15 are summed here (exactly); longer ones go through Number().
 */
function numberAt(s: string, from: number, to: number): number {
  let i = from;
  const sign = s.charCodeAt(i);
  if (sign === 0x2b || sign === 0x2d) i++;
  let value = 0;
  let scale = 0;
  let digits = 0;
  for (; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) {
      value = value * 10 + (c - 0x30);
      digits++;
      if (scale > 0) scale *= 10;
    } else if (c === 0x2e && scale === 0) scale = 1;
    else return Number.NaN;
  }
  if (digits === 0) return Number.NaN;
  if (digits > 15) return Number(s.slice(from, to));
  const unsigned = scale > 1 ? value / scale : value;
  return sign === 0x2d ? -unsigned : unsigned;
}

type Operand = number | string | { name: string } | Operand[];

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
    const c = s[i] as string;
    if (c === '\\') {
      if (i + 1 >= s.length) return { value, end: i, depth };
      const e = s[i + 1] as string;
      if (e >= '0' && e <= '7') {
        const m = /^[0-7]{1,3}/.exec(s.slice(i + 1, i + 4)) as RegExpExecArray;
        if (i + 1 + m[0].length >= s.length && m[0].length < 3) return { value, end: i, depth };
        value += String.fromCharCode(Number.parseInt(m[0], 8) & 0xff);
        i += 1 + m[0].length;
      } else if (e === '\r' || e === '\n') {
        if (e === '\r' && i + 2 >= s.length) return { value, end: i, depth };
        i += e === '\r' && s[i + 2] === '\n' ? 3 : 2;
      } else {
        value += ESCAPES[e] ?? e;
        i += 2;
      }
      continue;
    }
    if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return { value, end: i + 1, depth };
    value += c;
    i++;
  }
  return { value, end: i, depth };
}

export class ContentTextParser {
  readonly ops: TextOp[] = [];
  private carry = '';
  private operands: Operand[] = [];
  private arrays: Operand[][] = [];
  private font = '';
  private lastY: number | undefined;
  private inlineImage = false;
  /**
   * Inside a string longer than MAX_TOKEN_CHARS: its codes are shown as they come (in the current
   * font, as a text-showing operator would), else a card number deep in one string would never
   * be read; `depth` is a literal string's parenthesis depth.
   */
  private longString: { hex: false; depth: number } | { hex: true } | undefined;

  write(chunk: string): void {
    const s = this.carry + chunk;
    this.carry = '';
    this.consume(s, false);
  }

  end(): void {
    const s = this.carry;
    this.carry = '';
    this.consume(s, true);
  }

  private push(op: Operand): void {
    const array = this.arrays[this.arrays.length - 1];
    if (array !== undefined) array.push(op);
    else {
      this.operands.push(op);
      if (this.operands.length > 16) this.operands.shift();
    }
  }

  private consume(s: string, final: boolean): void {
    let i = 0;
    const cut = (from: number) => {
      if (!final && s.length - from < MAX_TOKEN_CHARS) this.carry = s.slice(from);
    };
    while (i < s.length) {
      if (this.longString !== undefined) {
        i = this.continueLongString(s, i, final);
        if (this.longString !== undefined) return;
        continue;
      }
      if (this.inlineImage) {
        const at = s.indexOf('EI', i);
        if (at < 0) return cut(Math.max(i, s.length - 2));
        this.inlineImage = false;
        i = at + 2;
        continue;
      }
      const c = s[i] as string;
      if (c === ' ' || c === '\n' || c === '\r' || c === '\t' || c === '\f' || c === '\u0000') {
        i++;
      } else if (c === '%') {
        const eol = s.slice(i).search(/[\r\n]/);
        if (eol < 0) return cut(i);
        i += eol;
      } else if (c === '(') {
        const str = literalString(s, i);
        if (str === undefined) {
          if (final || s.length - i < MAX_TOKEN_CHARS) return cut(i);
          this.longString = { hex: false, depth: 1 };
          this.continueLongString(s, i + 1, final);
          return;
        }
        this.push(str.value);
        i = str.end;
      } else if (c === '<' && s[i + 1] === '<') {
        this.arrays.push([]);
        i += 2;
      } else if (c === '>' && s[i + 1] === '>') {
        this.arrays.pop();
        i += 2;
      } else if (c === '<') {
        const end = s.indexOf('>', i);
        if (end < 0) {
          if (final || s.length - i < MAX_TOKEN_CHARS) return cut(i);
          this.longString = { hex: true };
          this.continueLongString(s, i + 1, final);
          return;
        }
        this.push(hexCodes(s, i + 1, end));
        i = end + 1;
      } else if (c === '[') {
        this.arrays.push([]);
        i++;
      } else if (c === ']') {
        const array = this.arrays.pop() ?? [];
        i++;
        this.push(array);
      } else {
        let end = i + 1;
        while (end < s.length && ENDS_TOKEN[s.charCodeAt(end) & 0xff] !== 1) end++;
        if (end === s.length && !final) return cut(i);
        const number = STARTS_NUMBER[c.charCodeAt(0)] === 1 ? numberAt(s, i, end) : Number.NaN;
        if (!Number.isNaN(number)) this.push(number);
        else {
          const token = s.slice(i, end);
          if (c === '/') this.push({ name: token.slice(1) });
          else if (STARTS_NUMBER[c.charCodeAt(0)] !== 1 || !NUMBER.test(token)) this.operator(token);
        }
        i = end;
      }
    }
  }

  /**
   * Shows the long string's codes in s from `from`; returns where it ended (the string is then
   * over, and stands as an empty operand for its operator), or keeps what a cut escape or hex digit
   * needs for the next chunk.
   */
  private continueLongString(s: string, from: number, final: boolean): number {
    const long = this.longString as NonNullable<ContentTextParser['longString']>;
    if (long.hex) {
      const close = s.indexOf('>', from);
      let to = close < 0 ? s.length : close;
      if (close < 0 && !final) {
        // a hex digit without its pair waits for the next chunk
        let digits = 0;
        let last = -1;
        for (let k = from; k < to; k++) {
          const c = s.charCodeAt(k);
          if (c < 128 && (HEX_VALUE[c] as number) >= 0) {
            digits++;
            last = k;
          }
        }
        if (digits % 2 === 1) to = last;
      }
      this.text(hexCodes(s, from, to));
      if (close >= 0 || final) return this.endLongString(close < 0 ? s.length : close + 1);
      this.carry = s.slice(to);
      return s.length;
    }
    const part = literalPart(s, from, long.depth);
    this.text(part.value);
    if (part.depth === 0 || final) return this.endLongString(part.end);
    long.depth = part.depth;
    this.carry = s.slice(part.end);
    return s.length;
  }

  private endLongString(end: number): number {
    this.longString = undefined;
    this.push('');
    return end;
  }

  private operator(op: string): void {
    const args = this.operands;
    this.operands = [];
    this.arrays = [];
    if (op === 'Tf') {
      const name = args.find((a): a is { name: string } => typeof a === 'object' && !Array.isArray(a) && 'name' in a);
      if (name) this.font = name.name;
    } else if (op === 'Tj' || op === "'" || op === '"') {
      if (op !== 'Tj') this.ops.push('\n');
      this.show(args[args.length - 1]);
    } else if (op === 'TJ') {
      const array = args[args.length - 1];
      if (Array.isArray(array)) {
        for (const item of array) {
          // A displacement of more than a fifth of an em (thousandths, negative = to the right) is a word gap.
          if (typeof item === 'number') {
            if (item < -200) this.ops.push(' ');
          } else this.show(item);
        }
      }
    } else if (op === 'Td' || op === 'TD') {
      const ty = args[1];
      this.ops.push(typeof ty === 'number' && ty !== 0 ? '\n' : ' ');
    } else if (op === 'T*') {
      this.ops.push('\n');
    } else if (op === 'Tm') {
      const y = args[5];
      this.ops.push(typeof y === 'number' && this.lastY !== undefined && y === this.lastY ? ' ' : '\n');
      if (typeof y === 'number') this.lastY = y;
    } else if (op === 'ID') {
      this.inlineImage = true;
    }
  }

  private show(operand: Operand | undefined): void {
    if (typeof operand === 'string') this.text(operand);
  }

  /** Codes shown in the current font, joined to the previous piece when that was in the same font. */
  private text(codes: string): void {
    const last = this.ops[this.ops.length - 1];
    if (last !== undefined && typeof last !== 'string' && last.font === this.font) last.codes += codes;
    else this.ops.push({ font: this.font, codes });
  }
}
