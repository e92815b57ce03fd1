// A held content stream's codes to text, a line break after it (extract/pdf-codes.ts): the WebAssembly decoder against the
// same stream decoded a run at a time in JavaScript, for fonts with and without a ToUnicode table,
// one- and two-byte codes, codes past a table, runs of an odd length cut at every offset, text of
// more than one unit (ligatures, surrogate pairs, empty), Latin-1 and wider text; and the bounds:
// more tables than the kernel keeps, a stream or a text larger than it takes (decoded in
// JavaScript instead, into the TextUnits the caller gave).
import { describe, expect, it } from 'vitest';
import { parseToUnicode, TextUnits } from '../../../src/icap-server/extract/pdf-cmap.js';
import { type CodeFont, shownText, shownTextInJs } from '../../../src/icap-server/extract/pdf-codes.js';
import { NEW_LINE, ShownText, WORD_GAP } from '../../../src/icap-server/extract/pdf-shown-text.js';
import { seeded } from '../../corpus/secrets.js';

const hex = (n: number, bytes: number) => `<${n.toString(16).padStart(2 * bytes, '0')}>`;
const cmapOf = (bytes: number, pairs: Array<[number, string]>, ranges = '') =>
  parseToUnicode(`begincodespacerange ${hex(0, bytes)} ${hex(2 ** (8 * bytes) - 1, bytes)} endcodespacerange ${pairs.length} beginbfchar ${pairs.map(([c, t]) => `${hex(c, bytes)} <${t}>`).join(' ')} endbfchar ${ranges}`);

/** Fonts by index, as PdfFonts resolves them; the last two have no table (decoded in JavaScript). */
const FONTS: CodeFont[] = [
  { cmap: undefined, twoByte: false },
  { cmap: undefined, twoByte: true },
  // one-byte codes: mapped, a ligature, a surrogate pair, empty, wide, the rest Latin-1
  { cmap: cmapOf(1, [[0x41, '0066006C'], [0x42, 'D83DDE00'], [0x43, ''], [0x44, '4E2D'], [0x45, '00E9'], [0x46, 'FFFE'], [0x47, 'FFFF']]), twoByte: false },
  // two-byte codes, a table of 0x120 units: mapped to Latin-1, a ligature, past the table beyond
  { cmap: cmapOf(2, [[0x0005, '00660069'], [0x0006, '0041']], 'beginbfrange <0010> <011F> <0061> endbfrange'), twoByte: true },
  // two-byte codes, wider text
  { cmap: cmapOf(2, [[0x0003, '4E2D'], [0x0004, '0042'], [0x0007, 'D835DC00']]), twoByte: true },
  // sparse: no table
  { cmap: cmapOf(2, [[0x1000, '0058'], [0xf000, '0059']]), twoByte: true },
  // three-byte codes: no table
  { cmap: cmapOf(3, [[0x010203, '005A']]), twoByte: false },
];

/** A stream of `pieces`: [font, codes] shown, or a separator. */
function streamOf(pieces: Array<[number, number[]] | typeof NEW_LINE | typeof WORD_GAP>): ShownText {
  const shown = new ShownText();
  for (let f = 1; f < FONTS.length; f++) shown.font(`F${f}`);
  for (const piece of pieces) {
    if (typeof piece === 'number') shown.separator(piece);
    else shown.show(piece[0], Uint8Array.from(piece[1]), 0, piece[1].length);
  }
  shown.seal();
  return shown;
}


/** TextUnits that count the texts taken from them: one taken means the stream was decoded in JavaScript. */
class CountedUnits extends TextUnits {
  taken = 0;
  override take(): string {
    this.taken++;
    return super.take();
  }
}

/**
 * The stream's text both ways, the kernel's checked equal to the JavaScript one; the fonts its runs
 * name given as PdfFonts gives them (only those), and whether the kernel read it.
 */
function bothWays(shown: ShownText, kernel: boolean): string {
  const fonts: CodeFont[] = [];
  for (let k = 0; k < shown.used; k += 2) if ((shown.runs[k] as number) >= 0) fonts[shown.runs[k] as number] = FONTS[shown.runs[k] as number] as CodeFont;
  const expected = shownTextInJs(shown, fonts, new TextUnits());
  const units = new CountedUnits();
  expect(shownText(shown, fonts, units)).toBe(expected);
  expect(units.taken).toBe(kernel ? 0 : 1);
  return expected;
}

describe('codes decoded in WebAssembly', () => {
  it('a text much longer than its codes (every code a ligature of 40 units) grows the memory as it goes', () => {
    const long = 'A'.repeat(40).split('').map((_, k) => (0x61 + (k % 26)).toString(16).padStart(4, '0')).join('');
    const fonts: CodeFont[] = [{ cmap: cmapOf(1, [[0x41, long], [0x42, '4E2D']]), twoByte: false }];
    const shown = new ShownText();
    const codes = Uint8Array.from({ length: 4000 }, (_, k) => (k % 7 === 6 ? 0x42 : k % 3 === 0 ? 0x41 : 0x20 + (k % 90)));
    shown.show(0, codes, 0, codes.length);
    shown.seal();
    const units = new CountedUnits();
    const text = shownText(shown, fonts, units);
    expect(units.taken).toBe(0);
    expect(text).toBe(shownTextInJs(shown, fonts, new TextUnits()));
    // As units, more than the first page of memory the kernel had.
    expect(2 * text.length).toBeGreaterThan(65536);
  });

  it('reads each font as decodeCodes does: mapped, unmapped, past the table, more than a unit, none, Latin-1', () => {
    expect(bothWays(streamOf([[0, [0x41, 0xe9, 0x00]], NEW_LINE, [1, [0, 3, 0, 4]], WORD_GAP, [2, [0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48]]]), true)).toBe('A\u00e9\u0000\n fl\u{1f600}\u4e2d\u00e9\ufffe\uffffH\n');
    expect(bothWays(streamOf([[3, [0, 5, 0, 6, 0, 0x10, 1, 0x1f, 1, 0x20, 0xff, 0xff, 0, 3]]]), true)).toBe('fiAa\u0170\n');
    expect(bothWays(streamOf([[4, [0, 3, 0, 4, 0, 7, 0, 9]]]), true)).toBe('\u4e2dB\u{1d400}\n');
    expect(bothWays(streamOf([[5, [0x10, 0, 0xf0, 0, 0x20, 0]], [6, [1, 2, 3, 1, 2]]]), false)).toBe('XYZ\n');
    // Latin-1 text past ASCII, as units narrowed to bytes: 129 of them, sixteen a step and one more.
    const high = Array.from({ length: 128 }, (_, k) => 0x80 + k);
    expect(bothWays(streamOf([[0, high], WORD_GAP, [3, [0, 0x9f]]]), true)).toBe(`${Buffer.from(high).toString('latin1')} \u00f0\n`);
    expect(bothWays(streamOf([]), true)).toBe('\n');
    expect(bothWays(streamOf([NEW_LINE, WORD_GAP]), true)).toBe('\n \n');
  });

  it('two runs of the same codes cut at every offset: an odd byte at the end of a run is no code', () => {
    const codes = [0, 5, 0, 0x11, 0, 6, 1, 0x10, 0, 0x41, 0x41, 0, 0x46, 0x42, 0, 3, 0x45, 0x43, 0, 0x12, 0, 0x13, 1, 2, 3, 0, 4, 0x44, 0, 7, 0, 0x14, 0x80];
    for (const [a, b] of [[3, 3], [3, 4], [2, 4], [0, 3], [2, 2], [0, 2]] as const) {
      for (let cut = 0; cut <= codes.length; cut++) {
        for (const gap of [false, true]) {
          const pieces: Array<[number, number[]] | typeof WORD_GAP> = [[a, codes.slice(0, cut)]];
          if (gap) pieces.push(WORD_GAP);
          pieces.push([b, codes.slice(cut)]);
          bothWays(streamOf(pieces), true);
        }
      }
    }
  });

  it('random streams of every font, separators and lengths (Latin-1 text and wider, 16 units a step and not)', () => {
    const rand = seeded(14);
    for (let round = 0; round < 400; round++) {
      const pieces: Array<[number, number[]] | typeof NEW_LINE | typeof WORD_GAP> = [];
      // Some streams in the fonts with a table only (the kernel), some with the others too (JavaScript).
      const fonts = round % 3 === 0 ? 7 : 5;
      const narrow = round % 2 === 0;
      for (let k = Math.floor(rand() * 40); k > 0; k--) {
        const r = rand();
        if (r < 0.15) pieces.push(r < 0.07 ? NEW_LINE : WORD_GAP);
        else {
          const font = Math.floor(rand() * fonts);
          const bytes = Array.from({ length: Math.floor(rand() * rand() * 70) }, () => (narrow ? (rand() < 0.5 ? 0 : 0x10 + Math.floor(rand() * 0x40)) : Math.floor(rand() * 256)));
          pieces.push([font, bytes]);
        }
      }
      const shown = streamOf(pieces);
      let kernel = true;
      for (let k = 0; k < shown.used; k += 2) if ((shown.runs[k] as number) >= 5) kernel = false;
      bothWays(shown, kernel);
    }
  });

  it('more tables than the kernel keeps: placed anew as needed, each stream still read through its own; a stream whose tables do not fit at once is read in JavaScript', () => {
    // Tables of 0x10000 units (128 KiB): eight fit in the kernel's area.
    const wide = Array.from({ length: 20 }, (_, k): CodeFont => ({ cmap: cmapOf(2, [[0xffff, '0041'], [0x0100 + k, (0x4e00 + k).toString(16)]], `beginbfrange <0000> <3fff> <${(0x100 * (k + 1)).toString(16).padStart(4, '0')}> endbfrange`), twoByte: true }));
    expect(wide[0]?.cmap?.units?.length).toBe(0x10000);
    const codes = [0, 1, 0, 0xfe, 0xff, 0xff, 1, 0, 1, 5, 1, 19];
    for (let round = 0; round < 3; round++) {
      for (let k = 0; k < wide.length; k++) {
        const fonts = [wide[k] as CodeFont, wide[(k * 7) % wide.length] as CodeFont];
        const shown = new ShownText();
        shown.show(0, Uint8Array.from(codes), 0, codes.length);
        shown.show(shown.font('G'), Uint8Array.from(codes), 0, codes.length);
        shown.seal();
        const units = new CountedUnits();
        expect(shownText(shown, fonts, units)).toBe(shownTextInJs(shown, fonts, new TextUnits()));
        expect(units.taken).toBe(0);
      }
    }
    const shown = new ShownText();
    for (let k = 0; k < 10; k++) shown.show(k === 0 ? 0 : shown.font(`G${k}`), Uint8Array.from(codes), 0, codes.length);
    shown.seal();
    const units = new CountedUnits();
    expect(shownText(shown, wide.slice(0, 10), units)).toBe(shownTextInJs(shown, wide.slice(0, 10), new TextUnits()));
    expect(units.taken).toBe(1);
  });

  it('a stream too large for the kernel, or whose text grows too large as it is read, is read in JavaScript', () => {
    const big = new ShownText();
    const piece = Uint8Array.from({ length: 65536 }, (_, k) => 0x20 + (k % 95));
    for (let k = 0; k < 130; k++) big.show(k % 2, piece, 0, piece.length);
    big.seal();
    const units = new CountedUnits();
    expect(shownText(big, FONTS, units)).toBe(shownTextInJs(big, FONTS, new TextUnits()));
    expect(units.taken).toBe(1);

    // 70,000 codes of 64 units each: 8.5 MiB of text from 70 KB of codes.
    const long = Array.from({ length: 64 }, (_, k) => (0x41 + (k % 26)).toString(16).padStart(4, '0')).join('');
    const fonts: CodeFont[] = [{ cmap: cmapOf(1, [[0x41, long]]), twoByte: false }];
    const grown = new ShownText();
    const codes = new Uint8Array(70_000).fill(0x41);
    codes[5] = 0x42;
    grown.show(0, codes, 0, codes.length);
    grown.seal();
    const grownUnits = new CountedUnits();
    const text = shownText(grown, fonts, grownUnits);
    expect(grownUnits.taken).toBe(1);
    expect(text.length).toBe(69_999 * 64 + 2);
    expect(text.slice(5 * 64, 5 * 64 + 2)).toBe('BA');
  });
});
