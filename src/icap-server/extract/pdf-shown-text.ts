// What a content stream shows, held flat until every font's ToUnicode map is known (pdf-fonts.ts):
// the codes of its strings one after another in one byte array, and runs that say which font each
// stretch is in, or that a separator stands there. An object and a string per shown string were
// most of what the garbage collector did in a PDF scan, for operators held to the end of the file.

/** A run that is a line break (a new line of text, ISO 32000-1 §9.4.2) rather than codes. */
export const NEW_LINE = -1;
/** A run that is a word gap. */
export const WORD_GAP = -2;

/** Fonts knownFont() compares a name with. */
const RECENT_FONTS = 8;

/** Bytes written one after another: `bytes[0, length)`, grown as needed. */
export class CodeBuffer {
  bytes: Uint8Array = new Uint8Array(256);
  length = 0;

  /** The bytes, with room for `more` after `used` (a new array when they had not). */
  room(used: number, more: number): Uint8Array {
    if (used + more > this.bytes.length) {
      const grown = new Uint8Array(Math.max(this.bytes.length * 2, used + more));
      grown.set(this.bytes.subarray(0, used));
      this.bytes = grown;
    }
    return this.bytes;
  }
}

/** A copy of `array` with room for as many again. */
export function doubled(array: Int32Array): Int32Array {
  const grown = new Int32Array(array.length * 2);
  grown.set(array);
  return grown;
}

export class ShownText {
  /** The shown codes, one after another. */
  readonly codes = new CodeBuffer();
  /** Pairs of a font (an index into `fonts`) or a separator (NEW_LINE, WORD_GAP), and where the run's codes end. */
  runs: Int32Array = new Int32Array(32);
  /** Entries of `runs` in use (two a run). */
  used = 0;
  /** Resource names of the fonts, as Tf names them (§9.3.1). */
  readonly fonts: string[] = [''];
  private separators = 0;

  /** Characters held: codes and separators (what ContentText bounds). */
  get chars(): number {
    return this.codes.length + this.separators;
  }

  private readonly fontIndex = new Map<string, number>([['', 0]]);

  /** The index of the font named `name`. */
  font(name: string): number {
    let at = this.fontIndex.get(name);
    if (at === undefined) this.fontIndex.set(name, (at = this.fonts.push(name) - 1));
    return at;
  }

  /**
   * The name of one of the last fonts named, when b[from, to) spells it: a stream names its few
   * fonts again and again (`/F1 9 Tf`), and a string made for each was most of what its names cost.
   */
  knownFont(b: Uint8Array, from: number, to: number): string | undefined {
    const fonts = this.fonts;
    for (let f = fonts.length - 1; f > 0 && f >= fonts.length - RECENT_FONTS; f--) {
      const name = fonts[f] as string;
      if (name.length !== to - from) continue;
      let k = 0;
      while (k < name.length && name.charCodeAt(k) === b[from + k]) k++;
      if (k === name.length) return name;
    }
    return undefined;
  }

  /** Codes src[from, to) shown in `font`, joined to the run before when that is in the same font. */
  show(font: number, src: Uint8Array, from: number, to: number): void {
    const n = to - from;
    const at = this.codes.length;
    const codes = this.codes.room(at, n);
    // Most pieces are a few bytes: a loop beats a subarray view made for each.
    if (n < 64) for (let k = 0; k < n; k++) codes[at + k] = src[from + k] as number;
    else codes.set(src.subarray(from, to), at);
    this.codes.length = at + n;
    if (this.used > 0 && this.runs[this.used - 2] === font) this.runs[this.used - 1] = at + n;
    else this.run(font);
  }

  separator(kind: typeof NEW_LINE | typeof WORD_GAP): void {
    this.separators++;
    this.run(kind);
  }

  /** Drops the room left for more, once the stream is over, when it is more than a quarter. */
  seal(): void {
    const { bytes, length } = this.codes;
    if (bytes.length - length > length >> 2) this.codes.bytes = bytes.slice(0, length);
    if (this.runs.length - this.used > this.used >> 2) this.runs = this.runs.slice(0, this.used);
  }

  private run(kind: number): void {
    if (this.used === this.runs.length) this.runs = doubled(this.runs);
    this.runs[this.used++] = kind;
    this.runs[this.used++] = this.codes.length;
  }
}
