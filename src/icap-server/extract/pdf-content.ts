// The text operators of PDF content streams (ISO 32000-1 §9.4): Tf picks the font, Tj, TJ, ' and "
// show strings, and the positioning operators (Td, TD, T*, Tm) tell a new line from a word gap.
// The stream is read from its bytes: strings are decoded straight to the font's byte codes
// (pdf-content-strings.ts) and held flat with their font's resource name (pdf-shown-text.ts),
// because the font's ToUnicode map may only come later in the file; pdf-fonts.ts turns them into
// text. The tokenizer is incremental: a token cut at the end of a chunk waits for the next one;
// inline images (BI … ID … EI) are skipped. From the end of each operator, where no operand is
// held, a WebAssembly kernel reads on (pdf-content-tokens.ts) as far as it reads exactly as this.
import { hexDigits, numberAt, part, readHexString, readLiteralPart, readLiteralString } from './pdf-content-strings.js';
import { readContent, type ShownReader } from './pdf-content-tokens.js';
import { CodeBuffer, doubled, giveBack, NEW_LINE, ShownText, spareIntsOr, WORD_GAP } from './pdf-shown-text.js';
import { ENDS_TOKEN } from './pdf-syntax.js';

const MAX_TOKEN_CHARS = 256 * 1024;
/** Characters a number starts with (§7.3.3); operators are letters. */
const STARTS_NUMBER = new Uint8Array(256);
for (const c of '+-.0123456789') STARTS_NUMBER[c.charCodeAt(0)] = 1;
/** White space (§7.2.2). */
const WHITE = new Uint8Array(256);
for (const c of ' \t\n\r\f\u0000') WHITE[c.charCodeAt(0)] = 1;
const END_OF_IMAGE = Buffer.from('EI');
/** Operands kept before an operator: more than any text operator takes (Tm takes six). */
const MAX_OPERANDS = 16;
const NUMBER = 1;
const STRING = 2;
const NAME = 3;
const ARRAY = 4;
/** An item of a TJ array that is a word gap rather than the end of a string's codes. */
const GAP = -1;
/** Inputs shorter than this are read here only. */
const KERNEL_BYTES = 256;
const NO_BYTES = new Uint8Array(0);
const NO_INTS = new Int32Array(0);
const NO_KINDS = new Int8Array(0);
const NO_NUMBERS = new Float64Array(0);

/**
 * Operands are kept as kinds and values (the last MAX_OPERANDS of them). The codes of the last
 * operand's string, or of the strings of the last operand's array, are in `scratch`, and after
 * them those of the outermost array or dictionary still open (from `levelCodes`, its items from
 * `levelItems`). Only what a text operator can use is kept: what nested arrays and dictionaries
 * hold, and names in arrays, are read past.
 */
export class ContentTextParser implements ShownReader {
  readonly shown = new ShownText();
  private carry: Buffer | undefined;
  /** Made when the byte reader first keeps an operand: the kernel reads most streams whole and keeps its own. */
  private kinds = NO_KINDS;
  private numbers = NO_NUMBERS;
  private readonly names: Array<string | undefined> = [];
  private count = 0;
  /** Arrays and dictionaries open (§7.3.6, §7.3.7). */
  private depth = 0;
  private readonly scratch = new CodeBuffer(true);
  /** A TJ array's items: where a string's codes end in `scratch`, or GAP. */
  private items: Int32Array = spareIntsOr(64);
  private itemCount = 0;
  private levelCodes = 0;
  private levelItems = 0;
  /** The font Tf picked (an index into shown.fonts). */
  font = 0;
  lastY: number | undefined;
  private inlineImage = false;
  /**
   * Inside a string longer than MAX_TOKEN_CHARS: its codes are shown as they come (in the current
   * font, as a text-showing operator would), else a card number deep in one string would never
   * be read; `depth` is a literal string's parenthesis depth.
   */
  private longString: { hex: false; depth: number } | { hex: true } | undefined;

  /** `kernelBytes`: the least input the kernel reads (Infinity: none, the tests' specification of it). */
  constructor(private readonly kernelBytes = KERNEL_BYTES) {}

  write(chunk: Buffer): void {
    // Room for what the first chunk may show, rather than growing to it step by step.
    if (this.shown.codes.length === 0) this.shown.codes.room(0, Math.min(chunk.length >> 1, MAX_TOKEN_CHARS));
    const carry = this.carry;
    this.carry = undefined;
    this.consume(carry === undefined ? chunk : Buffer.concat([carry, chunk]), false);
  }

  /** The stream is over: the parser is not written to again, and gives its spare arrays back. */
  end(): void {
    const carry = this.carry;
    this.carry = undefined;
    if (carry !== undefined) this.consume(carry, true);
    this.shown.seal();
    // Given back once, and not written again: a write after the end grows arrays of its own.
    giveBack(this.scratch.bytes);
    giveBack(this.items);
    this.scratch.bytes = NO_BYTES;
    this.scratch.length = 0;
    this.items = NO_INTS;
  }

  private cut(b: Buffer, from: number, final: boolean): void {
    if (!final && b.length - from < MAX_TOKEN_CHARS) this.carry = Buffer.from(b.subarray(from));
  }

  /** Reads b from `from` with the WebAssembly kernel when no operand is held and enough is left: where the byte reader goes on. */
  private kernelFrom(b: Buffer, from: number): number {
    if (this.count > 0 || this.depth > 0 || this.scratch.length > 0 || this.itemCount > 0 || this.inlineImage || this.longString !== undefined || b.length - from < this.kernelBytes) return from;
    const { at, inlineImage } = readContent(b, from, this);
    this.inlineImage = inlineImage;
    return at;
  }

  private consume(b: Buffer, final: boolean): void {
    const len = b.length;
    let i = this.kernelFrom(b, 0);
    while (i < len) {
      const c = b[i] as number;
      if (this.longString !== undefined) {
        i = this.continueLongString(b, i, final);
        if (this.longString !== undefined) return;
      } else if (this.inlineImage) {
        const at = b.indexOf(END_OF_IMAGE, i);
        if (at < 0) return this.cut(b, Math.max(i, len - 2), final);
        this.inlineImage = false;
        i = at + 2;
      } else if (WHITE[c] === 1) {
        i++;
      } else if (c === 0x28 || (c === 0x3c && b[i + 1] !== 0x3c)) {
        const start = this.scratch.length;
        const end = c === 0x28 ? readLiteralString(b, i + 1, this.scratch) : readHexString(b, i + 1, this.scratch);
        if (end < 0) {
          this.scratch.length = start;
          if (final || len - i < MAX_TOKEN_CHARS) return this.cut(b, i, final);
          this.longString = c === 0x28 ? { hex: false, depth: 1 } : { hex: true };
          this.continueLongString(b, i + 1, final);
          return;
        }
        this.pushString(start);
        i = end;
      } else if (c === 0x3c || c === 0x5b) {
        if (this.depth++ === 0) {
          this.levelCodes = this.scratch.length;
          this.levelItems = this.itemCount;
        }
        i += c === 0x3c ? 2 : 1;
      } else if (c === 0x3e && b[i + 1] === 0x3e) {
        // A dictionary closed: nothing is pushed, what stood before it is the last operand again.
        if (this.depth === 1) {
          this.scratch.length = this.levelCodes;
          this.itemCount = this.levelItems;
        }
        if (this.depth > 0) this.depth--;
        i += 2;
      } else if (c === 0x5d) {
        this.closeArray();
        i++;
      } else if (c === 0x25) {
        let eol = i + 1;
        while (eol < len && b[eol] !== 0x0a && b[eol] !== 0x0d) eol++;
        if (eol === len) return this.cut(b, i, final);
        i = eol;
      } else {
        let end = i + 1;
        while (end < len && ENDS_TOKEN[b[end] as number] !== 1) end++;
        if (end === len && !final) return this.cut(b, i, final);
        const number = STARTS_NUMBER[c] === 1 ? numberAt(b, i, end) : Number.NaN;
        if (!Number.isNaN(number)) {
          if (this.depth === 1 && number < -200) this.item(GAP);
          else if (this.depth === 0) this.operand(NUMBER, number, undefined);
        } else if (c === 0x2f) {
          if (this.depth === 0) this.operand(NAME, 0, this.shown.knownFont(b, i + 1, end) ?? b.toString('latin1', i + 1, end));
        } else {
          this.operator(b, i, end);
          i = this.kernelFrom(b, end);
          continue;
        }
        i = end;
      }
    }
  }

  /**
   * A string decoded to scratch[start, length): the new last operand (moved to the front, what
   * stood before it forgotten), an item of the outermost array, or nothing of use deeper.
   */
  private pushString(start: number): void {
    if (this.depth === 0) {
      this.scratch.bytes.copyWithin(0, start, this.scratch.length);
      this.scratch.length -= start;
      this.itemCount = 0;
      this.operand(STRING, 0, undefined);
    } else if (this.depth === 1) this.item(this.scratch.length);
    else this.scratch.length = start;
  }

  private operand(kind: number, value: number, name: string | undefined): void {
    // A number or a name is the last operand now: no string's codes are needed any more.
    if (kind === NUMBER || kind === NAME) {
      this.scratch.length = 0;
      this.itemCount = 0;
    }
    if (this.kinds.length === 0) {
      this.kinds = new Int8Array(MAX_OPERANDS);
      this.numbers = new Float64Array(MAX_OPERANDS);
    }
    if (this.count === MAX_OPERANDS) {
      this.kinds.copyWithin(0, 1);
      this.numbers.copyWithin(0, 1);
      this.names.copyWithin(0, 1);
      this.count--;
    }
    this.kinds[this.count] = kind;
    this.numbers[this.count] = value;
    this.names[this.count++] = name;
  }

  private item(value: number): void {
    if (this.itemCount === this.items.length) this.items = doubled(this.items);
    this.items[this.itemCount++] = value;
  }

  /** `]`: the outermost array becomes the last operand (its codes and items moved to the front); an inner one is read past. */
  private closeArray(): void {
    if (this.depth > 1) {
      this.depth--;
      return;
    }
    const shift = this.depth === 0 ? this.scratch.length : this.levelCodes;
    const firstItem = this.depth === 0 ? this.itemCount : this.levelItems;
    this.scratch.bytes.copyWithin(0, shift, this.scratch.length);
    this.scratch.length -= shift;
    this.items.copyWithin(0, firstItem, this.itemCount);
    this.itemCount -= firstItem;
    for (let k = 0; k < this.itemCount; k++) if (this.items[k] !== GAP) (this.items[k] as number) -= shift;
    this.depth = 0;
    this.operand(ARRAY, 0, undefined);
  }

  private operator(b: Buffer, from: number, to: number): void {
    const c0 = b[from];
    const c1 = to - from === 2 ? b[from + 1] : -1;
    const last = this.count > 0 ? this.kinds[this.count - 1] : 0;
    // With an array still open, the last operand's codes end where the array's begin.
    const codesEnd = this.depth > 0 ? this.levelCodes : this.scratch.length;
    if (c0 === 0x54 && c1 !== -1) {
      if (c1 === 0x66) {
        // Tf: the first name is the font's resource name.
        let at = 0;
        while (at < this.count && this.kinds[at] !== NAME) at++;
        if (at < this.count) this.font = this.shown.font(this.names[at] as string);
      } else if (c1 === 0x6a) {
        if (last === STRING) this.shown.show(this.font, this.scratch.bytes, 0, codesEnd);
      } else if (c1 === 0x4a) {
        if (last === ARRAY) this.showArray(this.depth > 0 ? this.levelItems : this.itemCount);
      } else if (c1 === 0x64 || c1 === 0x44) {
        this.shown.separator(this.count > 1 && this.kinds[1] === NUMBER && this.numbers[1] !== 0 ? NEW_LINE : WORD_GAP);
      } else if (c1 === 0x2a) {
        this.shown.separator(NEW_LINE);
      } else if (c1 === 0x6d) {
        const y = this.count > 5 && this.kinds[5] === NUMBER ? this.numbers[5] : undefined;
        this.shown.separator(y !== undefined && y === this.lastY ? WORD_GAP : NEW_LINE);
        if (y !== undefined) this.lastY = y;
      }
    } else if (to - from === 1 && (c0 === 0x27 || c0 === 0x22)) {
      this.shown.separator(NEW_LINE);
      if (last === STRING) this.shown.show(this.font, this.scratch.bytes, 0, codesEnd);
    } else if (c0 === 0x49 && c1 === 0x44) this.inlineImage = true;
    this.count = 0;
    this.depth = 0;
    this.scratch.length = 0;
    this.itemCount = 0;
  }

  /** TJ: the strings of its array, a displacement of more than a fifth of an em (thousandths, negative = to the right) a word gap. */
  private showArray(items: number): void {
    // The strings between two gaps lie one after another in `scratch`: shown at once.
    let from = 0;
    let to = -1;
    for (let k = 0; k <= items; k++) {
      const item = k < items ? (this.items[k] as number) : GAP;
      if (item !== GAP) to = item;
      else {
        if (to >= 0) this.shown.show(this.font, this.scratch.bytes, from, to);
        if (k < items) this.shown.separator(WORD_GAP);
        from = Math.max(from, to);
        to = -1;
      }
    }
  }

  /**
   * Shows the long string's codes in b from `from`; returns where it ended (the string is then
   * over, and stands as an empty operand for its operator), or keeps what a cut escape or hex digit
   * needs for the next chunk.
   */
  private continueLongString(b: Buffer, from: number, final: boolean): number {
    const long = this.longString as NonNullable<ContentTextParser['longString']>;
    const start = this.scratch.length;
    let end: number;
    let over: boolean;
    if (long.hex) {
      const close = b.indexOf(0x3e, from);
      end = close < 0 ? b.length : close;
      if (close < 0 && !final) {
        // a hex digit without its pair waits for the next chunk
        const digits = hexDigits(b, from, end);
        if (digits.count % 2 === 1) end = digits.last;
      }
      readHexString(b.subarray(0, end), from, this.scratch);
      over = close >= 0 || final;
      if (close >= 0) end = close + 1;
    } else {
      end = readLiteralPart(b, from, long.depth, this.scratch);
      over = part.depth === 0 || final;
      long.depth = part.depth;
    }
    this.shown.show(this.font, this.scratch.bytes, start, this.scratch.length);
    this.scratch.length = start;
    if (!over) {
      this.carry = Buffer.from(b.subarray(end));
      return b.length;
    }
    this.longString = undefined;
    this.pushString(this.scratch.length);
    return end;
  }
}
