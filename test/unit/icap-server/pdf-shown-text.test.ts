// What a content stream shows, read from its bytes and held flat (pdf-content.ts, pdf-shown-text.ts),
// and the ToUnicode table it is decoded through (pdf-cmap.ts): the operand rules a text operator
// depends on (the last operand, the first name, arrays and dictionaries nested or left open),
// attacked at every chunk size from 1 to 7, and CMaps dense, sparse, wide and hostile.
import { describe, expect, it } from 'vitest';
import { APART, decodeCodes, parseToUnicode, TextUnits, type ToUnicode } from '../../../src/icap-server/extract/pdf-cmap.js';
import { ContentTextParser } from '../../../src/icap-server/extract/pdf-content.js';
import { shownRuns } from './pdf-shown-runs.js';

/** What a stream shows: codes (latin1) in brackets after their font's name, separators as they are. */
function shown(content: string, chunk = content.length): string {
  const parser = new ContentTextParser();
  for (let at = 0; at < content.length; at += chunk) parser.write(Buffer.from(content.slice(at, at + chunk), 'latin1'));
  parser.end();
  return shownRuns(parser.shown);
}

/** The same at every chunk size from 1 to 7 and whole. */
function shownAnyhow(content: string): string {
  const whole = shown(content);
  for (let chunk = 1; chunk <= 7; chunk++) expect(shown(content, chunk), `chunks of ${chunk}`).toBe(whole);
  return whole;
}

function decode(codes: number[], cmap: ToUnicode | undefined, twoByte = false): string {
  const out = new TextUnits();
  decodeCodes(Uint8Array.from(codes), 0, codes.length, cmap, twoByte, out);
  return out.take();
}

describe('content stream operands', () => {
  it('tells apart fonts whose names share a length, a prefix or all but one byte, named again and again and more than eight of them', () => {
    const names = ['F1', 'F2', 'F12', 'F21', 'F\u00e9', 'F\u00e8', 'G1', 'F', 'TT0', 'TT1', 'F1a'];
    // No font twice in a row: the codes of one font shown one after another are one run.
    const order = [...names, ...names.slice(0, -1).reverse(), 'F2', 'F1a', 'F1'];
    const content = order.map((n, k) => `/${n} 9 Tf (${k % 10}) Tj`).join(' ');
    const expected = order.map((n, k) => `${n}[${k % 10}]`).join('');
    expect(shownAnyhow(content)).toBe(expected);
  });

  it('shows the last operand of Tj, and the strings of the last array of TJ, in the font of the first name before Tf', () => {
    expect(shownAnyhow('/F1 /F2 9 Tf (a) (b) Tj (c) 5 Tj [(d)] (e) TJ (f) [(g) -201 (h) -200 (i)] TJ')).toBe('F1[bg] F1[hi]');
  });

  it('reads past what nested arrays and dictionaries hold, and names and numbers in arrays', () => {
    expect(shownAnyhow('/F1 Tf [(a) [(x) -900 (y)] /N (b) <</K (z)>> -300 (c)] TJ')).toBe('F1[ab] F1[c]');
  });

  it('keeps the operand before a dictionary that closes (nothing is pushed), not before an array that closes', () => {
    expect(shownAnyhow('/F1 Tf (keep) <</ActualText (no)>> Tj (lost) [(arr)] Tj [(a)] <<(d)>> TJ')).toBe('F1[keepa]');
  });

  it('shows an operand before an array still open, and nothing for a ] that closes nothing', () => {
    expect(shownAnyhow('/F1 Tf (open) [(x) Tj (y) ] TJ [(z)] ] TJ')).toBe('F1[open]');
  });

  it('counts Td and Tm operands from the first of the last sixteen', () => {
    const many = Array.from({ length: 20 }, (_, i) => i).join(' ');
    expect(shownAnyhow(`/F1 Tf 0 5 Td (a) Tj 0 0 Td (b) Tj ${many} Td (c) Tj 1 0 0 1 0 7 Tm (d) Tj 1 0 0 1 9 7 Tm (e) Tj`)).toBe('\nF1[a] F1[b]\nF1[c]\nF1[d] F1[e]');
  });

  it('skips an inline image and a comment, whatever the chunks cut', () => {
    expect(shownAnyhow('/F1 Tf BI /W 4 /H 1 ID (x) Tj \u00ff\u0000EI (a) Tj % (no) Tj\r(b) \' 1 2 (c) "')).toBe('F1[a]\nF1[b]\nF1[c]');
  });

  it('keeps a font table as long as the stream names fonts, each name once', () => {
    const parser = new ContentTextParser();
    parser.write(Buffer.from(Array.from({ length: 100_000 }, (_, i) => `/F${i % 50_000} 9 Tf (${i}) Tj`).join('\n')));
    parser.end();
    expect(parser.shown.fonts.length).toBe(50_001);
    expect(parser.shown.used).toBe(2 * 100_000);
  });

  it('decodes escapes, nesting and hex pairs split by white space the same at every cut', () => {
    expect(shownAnyhow('/F1 Tf (a\\(b\\)c (d) \\101\\7x\\0123\\\r\n\\\ne\\q) Tj <41 4 2\n43 4> Tj <zz> Tj')).toBe('F1[a(b)c (d) A\u0007x\n3eqABC@]');
  });
});

describe('content streams cut anywhere', () => {
  // Pieces a hostile or odd writer puts together: strings with every kind of escape, nesting and
  // cut escapes, arrays and dictionaries nested, left open and closed twice, inline images, comments.
  const pieces = ['(keep)', '<<', '>>', '<<(d)>>', '[(arr)]', 'BT', '/F1 9 Tf', '/F2 12 Tf', 'Tf', '(a\\(b\\)c)', '(x(y)z)', '(\\101\\7\\0123)', '(\\n\\q)', '(l\\\r\nc)', '(l\\\rc)', '<41 42 4>', '<414243>', '<>', '()', 'Tj', 'TJ', "'", '"', '[', ']', '-300', '-12', '0', '700.5', 'Td', 'T*', 'Tm', '%c\n', 'BI /W 1 ID', 'xyzEI', ' ', '\n', ')', '>', '/N', '\u00ff', '[(A) -250 (B) [(C)] (D) <<(E)>> (F)] TJ'];

  it('shows the same at every chunk size from 1 to 7 as whole, on a thousand random streams', () => {
    let seed = 13;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return Math.floor((seed / 0x80000000) * n);
    };
    let showing = 0;
    for (let t = 0; t < 1000; t++) {
      const content = Array.from({ length: 1 + random(30) }, () => pieces[random(pieces.length)]).join(random(10) < 7 ? ' ' : '');
      if (shownAnyhow(content) !== '') showing++;
    }
    // Most of them show something, so that the comparison compares something.
    expect(showing).toBeGreaterThan(500);
  });
});

describe('ToUnicode tables', () => {
  it('looks one- and two-byte codes up in a table, targets of other lengths in the map', () => {
    const cmap = parseToUnicode('1 begincodespacerange <0000> <FFFF> endcodespacerange 4 beginbfchar <0001> <0041> <0002> <D83DDE00> <0003> <> <0004> <FFFF> endbfchar 1 beginbfrange <0010> <0012> <0030> endbfrange');
    expect(cmap.units?.[1]).toBe(0x41);
    expect(cmap.units?.[2]).toBe(APART);
    expect([...cmap.map.keys()].sort()).toEqual([2, 3, 4]);
    expect(decode([0, 1, 0, 2, 0, 3, 0, 4, 0, 0x11, 0x7f, 0x7f, 0], cmap)).toBe('A\u{1F600}\uffff1');
  });

  it('takes unmapped one-byte codes as Latin-1, and a font without a map as Latin-1 or, two-byte, as nothing', () => {
    const cmap = parseToUnicode('begincodespacerange <00> <FF> endcodespacerange beginbfchar <41> <0062> <42> <00630064> endbfchar');
    expect(decode([0x41, 0x42, 0x43, 0xe9], cmap)).toBe('bcdC\u00e9');
    expect(decode([0x41, 0xe9], undefined)).toBe('A\u00e9');
    expect(decode([0x41, 0xe9], undefined, true)).toBe('');
  });

  it('reads codes without a map as Latin-1 at every length and offset, short ones a unit at a time and long ones copied at once', () => {
    const codes = Uint8Array.from({ length: 300 }, (_, i) => (i * 37 + 11) & 0xff);
    for (const from of [0, 1, 7]) {
      for (let length = 0; length <= 100; length++) {
        const out = new TextUnits();
        out.string('\u0100');
        decodeCodes(codes, from, from + length, undefined, false, out);
        decodeCodes(codes, from, from + length, undefined, false, out);
        const once = Buffer.from(codes.subarray(from, from + length)).toString('latin1');
        expect(out.take()).toBe(`\u0100${once}${once}`);
      }
    }
  });

  it('keeps a sparse map a map, and reads three- and four-byte codes through it', () => {
    const sparse = parseToUnicode('begincodespacerange <0000> <FFFF> endcodespacerange beginbfchar <0001> <0041> <FFF0> <0042> endbfchar');
    expect(sparse.units).toBeUndefined();
    expect(decode([0, 1, 0xff, 0xf0, 0, 2], sparse)).toBe('AB');
    const wide = parseToUnicode('begincodespacerange <00000000> <FFFFFFFF> endcodespacerange beginbfchar <00010203> <0041> endbfchar');
    expect(decode([0, 1, 2, 3, 0, 1, 2, 4, 9], wide)).toBe('A');
  });

  it('reads a table the same as code by code through its map, at every offset and length, with runs of codes apart, codes past the table and an odd last byte', () => {
    const hex = (n: number, digits: number) => n.toString(16).padStart(digits, '0');
    const utf16 = (s: string) => [...Buffer.from(s, 'utf16le').swap16()].map((b) => hex(b, 2)).join('');
    for (const width of [1, 2]) {
      // Codes of one unit (some past Latin-1), of two units and of none, and the rest unmapped.
      const map = new Map<number, string>();
      for (let code = 0; code < 0xc0; code++) {
        const r = (code * 29) % 7;
        if (r < 3) map.set(code, String.fromCharCode(0x41 + (code % 26)));
        else if (r === 3) map.set(code, '\u20ac');
        else if (r === 4) map.set(code, code % 2 ? '\u{1F600}' : 'fi');
        else if (r === 5 && code % 3 === 0) map.set(code, '');
      }
      const cmap = parseToUnicode(`begincodespacerange <${'00'.repeat(width)}> <${'FF'.repeat(width)}> endcodespacerange beginbfchar ${[...map].map(([code, text]) => `<${hex(code, 2 * width)}> <${utf16(text)}>`).join(' ')} endbfchar`);
      expect(cmap.units).toBeDefined();
      // One code a byte (or two), now and then past the table; and runs of codes apart only.
      const codes = Uint8Array.from({ length: 400 }, (_, i) => (width === 2 && i % 2 === 0 ? (i % 34 === 0 ? 1 : 0) : (i * 53 + 7) % 0xd0));
      const apart = [...map].filter(([, text]) => text.length !== 1).map(([code]) => code);
      const allApart = Uint8Array.from({ length: 200 }, (_, i) => (width === 2 ? (i % 2 ? (apart[(i >> 1) % apart.length] as number) : 0) : (apart[i % apart.length] as number)));
      for (const bytes of [codes, allApart]) {
        for (const from of [0, 1, 2, 3]) {
          for (let length = 0; length <= bytes.length - from; length += length < 40 ? 1 : 37) {
            let want = '';
            for (let i = from; i + width <= from + length; i += width) {
              const code = width === 1 ? (bytes[i] as number) : ((bytes[i] as number) << 8) | (bytes[i + 1] as number);
              want += map.get(code) ?? (width === 1 ? String.fromCharCode(code) : '');
            }
            const out = new TextUnits();
            decodeCodes(bytes, from, from + length, cmap, width === 2, out);
            expect(out.take(), `width ${width} from ${from} length ${length}`).toBe(want);
          }
        }
      }
    }
  });

  it('bounds a hostile range, and gives a text beyond Latin-1 as it is, lone surrogates included', () => {
    const huge = parseToUnicode('begincodespacerange <0000> <FFFF> endcodespacerange beginbfrange <0000> <FFFFFFFF> <0041> endbfrange');
    expect(huge.units?.length).toBe(0x10000);
    const cmap = parseToUnicode('begincodespacerange <0000> <FFFF> endcodespacerange beginbfchar <0001> <D83D> <0002> <20AC> endbfchar');
    expect(decode([0, 1, 0, 2], cmap)).toBe('\ud83d\u20ac');
  });
});

describe('arrays a content stream parser takes from the spares and gives back at its end', () => {
  /** A stream whose strings, arrays and fonts are its own: `k` in each, long ones now and then. */
  const stream = (k: number) => `/F${k % 3} 9 Tf [(a${k}) -300 <00${(k % 256).toString(16).padStart(2, '0')}41> (${'x'.repeat(k % 7 === 0 ? 5000 : k % 40)})] TJ T* (s${k}\\)) Tj ${'(y) '.repeat(k % 90)}Tj`;

  /** What each of `contents` shows, read by parsers side by side (several hold spare arrays at once), chunks of 5 taking turns. */
  const sideBySide = (contents: Buffer[]): ContentTextParser[] => {
    const parsers = contents.map(() => new ContentTextParser());
    for (let at = 0; contents.some((c) => at < c.length); at += 5) contents.forEach((c, k) => at < c.length && (parsers[k] as ContentTextParser).write(c.subarray(at, at + 5)));
    parsers.forEach((p) => p.end());
    return parsers;
  };
  const text = (p: ContentTextParser): string => shownRuns(p.shown);

  it('parsers one after another, side by side, and written to after their end read what each reads alone', () => {
    const contents = Array.from({ length: 60 }, (_, k) => Buffer.from(stream(k), 'latin1'));
    const want = contents.map((c) => shown(c.toString('latin1')));
    const parsers = sideBySide(contents);
    // A parser written to and ended again after its end keeps what it showed, and gives back no array twice.
    const late = parsers[0] as ContentTextParser;
    late.write(Buffer.from(stream(98)));
    late.end();
    late.end();
    const seen = parsers.map(text);
    expect(seen.slice(1)).toEqual(want.slice(1));
    expect(seen[0]?.startsWith(want[0] as string)).toBe(true);
    expect(sideBySide(contents).map(text)).toEqual(want);
  });

  it('a parser written to after its end does not write into the arrays it gave back, which another parser now holds', () => {
    const ended = new ContentTextParser();
    ended.write(Buffer.from(stream(7), 'latin1'));
    ended.end();
    const next = new ContentTextParser();
    const content = Buffer.from(stream(8), 'latin1');
    // The next parser has shown its first array and holds an operand when the ended one is written to.
    const cut = content.indexOf('T*') + 6;
    next.write(content.subarray(0, cut));
    ended.write(Buffer.from('[(zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz) (zzz', 'latin1'));
    next.write(content.subarray(cut));
    next.end();
    expect(text(next)).toBe(shown(content.toString('latin1')));
  });

  it('what an ended parser showed stays as it was while later parsers reuse the arrays it gave back', () => {
    const first = new ContentTextParser();
    first.write(Buffer.from(stream(5), 'latin1'));
    first.end();
    const codes = Buffer.from(first.shown.codes.bytes.subarray(0, first.shown.codes.length)).toString('latin1');
    const runs = Array.from(first.shown.runs.subarray(0, first.shown.used));
    for (let k = 0; k < 20; k++) shown(stream(k));
    expect(Buffer.from(first.shown.codes.bytes.subarray(0, first.shown.codes.length)).toString('latin1')).toBe(codes);
    expect(Array.from(first.shown.runs.subarray(0, first.shown.used))).toEqual(runs);
    expect(codes).toContain('a5');
  });

  it('what thousands of ended parsers showed, sealed side by side in shared slabs and some past a slab piece, stays as each showed it, sealed again or written after the end', () => {
    // Streams of a few bytes to more than a slab piece (16 KiB of codes or 4 Ki runs), enough of them to fill several slabs.
    const content = (k: number) => (k % 97 === 0 ? `/F1 9 Tf (${'c'.repeat(20_000 + k)}) Tj ${'T* (r) Tj '.repeat(k % 5 === 0 ? 5000 : 1)}` : stream(k));
    const parsers: ContentTextParser[] = [];
    const want: string[] = [];
    for (let k = 0; k < 1500; k++) {
      const parser = new ContentTextParser();
      parser.write(Buffer.from(content(k), 'latin1'));
      parser.end();
      parsers.push(parser);
      want.push(text(parser));
      if (k % 50 === 0) {
        // Sealed again: it keeps what it showed.
        parser.end();
      }
      if (k % 71 === 0) {
        // Written after its end: it grows arrays of its own, and the slabs beside it stay as they were.
        parser.write(Buffer.from('/F9 9 Tf (zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz) Tj', 'latin1'));
        parser.end();
        want[k] = text(parser);
      }
    }
    expect(parsers.map(text)).toEqual(want);
    expect(want.some((w) => w.includes('c'.repeat(20_000)))).toBe(true);
  });
});
