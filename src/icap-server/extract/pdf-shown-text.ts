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

/**
 * Arrays that a stream's reading grew into, given back when it is over for the next stream to
 * take: a PDF holds thousands of small content streams, and the arrays each one made and grew
 * (memory outside the heap, a few kilobytes each) were a fifth of reading them. A few are kept,
 * none larger than MAX_SPARE_BYTES.
 */
const MAX_SPARE = 4;
const MAX_SPARE_BYTES = 256 * 1024;
const spareBytes: Uint8Array[] = [];
const spareInts: Int32Array[] = [];

/** A spare array (of the last one given back) or a new one of `length`. */
export function spareOr(length: number): Uint8Array {
  return spareBytes.pop() ?? new Uint8Array(length);
}

export function spareIntsOr(length: number): Int32Array {
  return spareInts.pop() ?? new Int32Array(length);
}

/** Gives `array` back: it is no one's any more. */
export function giveBack(array: Uint8Array | Int32Array): void {
  // A view of a slab (sealed) is never a spare: other streams' codes stand beside it.
  if (array.length === 0 || array.byteLength > MAX_SPARE_BYTES || array.byteLength !== array.buffer.byteLength) return;
  // An array given back twice would be taken by two parsers.
  if (array instanceof Int32Array) {
    if (spareInts.length < MAX_SPARE && !spareInts.includes(array)) spareInts.push(array);
  } else if (spareBytes.length < MAX_SPARE && !spareBytes.includes(array)) spareBytes.push(array);
}

/** Bytes written one after another: `bytes[0, length)`, grown as needed. */
export class CodeBuffer {
  bytes: Uint8Array;
  length = 0;

  /** `bytes` a spare array when `spare`, given back by the owner (else a new one of 256 bytes). */
  constructor(spare = false) {
    this.bytes = spare ? spareOr(256) : new Uint8Array(256);
  }

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

/**
 * Sealed codes and runs are copied into slabs, each kept as a view of its size: an array made for
 * each of thousands of streams (an ArrayBuffer of its own, memory outside the heap that the
 * collector tracks one by one) was most of what sealing cost. Slabs are only appended to, never
 * written again, so a view stays as it was; a slab lives while a view of it does.
 */
const SLAB_BYTES = 256 * 1024;
/** Longer than this, sealed arrays are arrays of their own (a slab is not kept alive for one). */
const MAX_SLAB_PIECE_BYTES = 16 * 1024;
let byteSlab = new Uint8Array(0);
let byteSlabUsed = 0;
let intSlab = new Int32Array(0);
let intSlabUsed = 0;

/** bytes[0, length) copied where they stay. */
export function sealedBytes(bytes: Uint8Array, length: number): Uint8Array {
  if (length > MAX_SLAB_PIECE_BYTES) return bytes.slice(0, length);
  if (byteSlabUsed + length > byteSlab.length) {
    byteSlab = new Uint8Array(SLAB_BYTES);
    byteSlabUsed = 0;
  }
  const at = byteSlabUsed;
  byteSlabUsed += length;
  byteSlab.set(bytes.subarray(0, length), at);
  return byteSlab.subarray(at, at + length);
}

/** ints[0, length) copied where they stay. */
export function sealedInts(ints: Int32Array, length: number): Int32Array {
  if (4 * length > MAX_SLAB_PIECE_BYTES) return ints.slice(0, length);
  if (intSlabUsed + length > intSlab.length) {
    intSlab = new Int32Array(SLAB_BYTES / 4);
    intSlabUsed = 0;
  }
  const at = intSlabUsed;
  intSlabUsed += length;
  intSlab.set(ints.subarray(0, length), at);
  return intSlab.subarray(at, at + length);
}

/** A copy of `array` with room for as many again (and for some, when it has none). */
export function doubled(array: Int32Array): Int32Array {
  const grown = new Int32Array(Math.max(16, array.length * 2));
  grown.set(array);
  return grown;
}

export class ShownText {
  /** The shown codes, one after another (in a spare array until seal()). */
  readonly codes = new CodeBuffer(true);
  /** Pairs of a font (an index into `fonts`) or a separator (NEW_LINE, WORD_GAP), and where the run's codes end. */
  runs: Int32Array = spareIntsOr(32);
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
    const f = this.knownFontIndex(b, from, to);
    return f < 0 ? undefined : (this.fonts[f] as string);
  }

  /** knownFont()'s font as its index (what font() would answer for its name), or -1. */
  knownFontIndex(b: Uint8Array, from: number, to: number): number {
    const fonts = this.fonts;
    for (let f = fonts.length - 1; f > 0 && f >= fonts.length - RECENT_FONTS; f--) {
      const name = fonts[f] as string;
      if (name.length !== to - from) continue;
      let k = 0;
      while (k < name.length && name.charCodeAt(k) === b[from + k]) k++;
      if (k === name.length) return f;
    }
    return -1;
  }

  /** Codes src[from, to) shown in `font`, joined to the run before when that is in the same font. */
  show(font: number, src: Uint8Array, from: number, to: number): void {
    const n = to - from;
    const at = this.codes.length;
    const codes = this.codes.room(at, n);
    // Most pieces are a few bytes: a loop beats a subarray view made for each.
    if (n < 64) for (let k = 0; k < n; k++) codes[at + k] = src[from + k] as number;
    else codes.set(src.subarray(from, to), at);
    this.shownTo(font, at + n);
  }

  /** The codes written after the last shown, up to `end` (codes.bytes, room made for them), shown in `font`: show() but the copy. */
  shownTo(font: number, end: number): void {
    this.codes.length = end;
    if (this.used > 0 && this.runs[this.used - 2] === font) this.runs[this.used - 1] = end;
    else this.run(font);
  }

  separator(kind: typeof NEW_LINE | typeof WORD_GAP): void {
    this.separators++;
    this.run(kind);
  }

  /** Once the stream is over: what it shows kept in arrays of their size, the spare ones given back. */
  seal(): void {
    const { bytes, length } = this.codes;
    this.codes.bytes = sealedBytes(bytes, length);
    const runs = this.runs;
    this.runs = sealedInts(runs, this.used);
    // Given back once: a second seal() has arrays of its own here.
    giveBack(bytes);
    giveBack(runs);
  }

  private run(kind: number): void {
    if (this.used === this.runs.length) this.runs = doubled(this.runs);
    this.runs[this.used++] = kind;
    this.runs[this.used++] = this.codes.length;
  }
}
