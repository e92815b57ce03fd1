// Fonts of held content streams (extract/pdf-fonts.ts): what a font object and a /Font dictionary
// mean is read once per release and kept, but a font asked for before the file showed its object,
// or its ToUnicode map, is asked again; which page lists a stream is kept from one release to the
// next, and a page the file stores again is read again.
import { describe, expect, it } from 'vitest';
import { parseToUnicode, type ToUnicode } from '../../../src/icap-server/extract/pdf-cmap.js';
import { ContentTextParser } from '../../../src/icap-server/extract/pdf-content.js';
import { opensCmap, PageContents, PdfFonts } from '../../../src/icap-server/extract/pdf-fonts.js';

function shownOf(content: string) {
  const parser = new ContentTextParser();
  parser.write(Buffer.from(content, 'latin1'));
  parser.end();
  return parser.shown;
}

const CMAP = parseToUnicode('begincodespacerange <0000> <FFFF> endcodespacerange 2 beginbfchar <0003> <0041> <0004> <0042> endbfchar');
const TYPE0 = '<< /Type /Font /Subtype /Type0 /Encoding /Identity-H /ToUnicode 6 0 R >>';
const page = (contents: string) => `<< /Type /Page /Resources << /Font << /F1 3 0 R /F2 7 0 R >> >> /Contents ${contents} >>`;

describe('PdfFonts', () => {
  it('a font whose ToUnicode map comes after it was first asked for reads through the map from then on', () => {
    const objects = new Map([[3, TYPE0], [8, page('9 0 R')], [9, '<< /Length 20 >>']]);
    const cmaps = new Map<number, ToUnicode>();
    const fonts = new PdfFonts(objects, cmaps);
    const shown = shownOf('/F1 9 Tf <00030004> Tj');
    // A Type0 font without its map: its CIDs mean nothing.
    expect(fonts.text(shown, 9)).toBe('\n');
    cmaps.set(6, CMAP);
    expect(fonts.text(shown, 9)).toBe('AB\n');
  });

  it('a font object the file has not shown yet is read once it has; one it has shown is read once', () => {
    const objects = new Map([[8, page('9 0 R')], [9, '<< >>']]);
    const fonts = new PdfFonts(objects, new Map([[6, CMAP]]));
    const shown = shownOf('/F1 9 Tf <00030004> Tj /F2 9 Tf (xy) Tj');
    // No object 3 yet: its codes are read as Latin-1, as a font without a map.
    expect(fonts.text(shown, 9)).toBe('\u0000\u0003\u0000\u0004xy\n');
    objects.set(3, TYPE0);
    expect(fonts.text(shown, 9)).toBe('ABxy\n');
    objects.set(3, '<< /Type /Font /Subtype /Type1 >>');
    expect(fonts.text(shown, 9)).toBe('ABxy\n');
  });

  it('streams of many pages naming fonts through the same and through other /Font dictionaries', () => {
    const objects = new Map<number, string>([[3, TYPE0], [7, '<< /Type /Font /Subtype /Type1 >>'], [30, '<< /F1 7 0 R >>']]);
    for (let k = 0; k < 300; k++) {
      objects.set(100 + 2 * k, k % 3 === 0 ? `<< /Type /Page /Resources << /Font 30 0 R >> /Contents ${101 + 2 * k} 0 R >>` : page(`${101 + 2 * k} 0 R`));
      objects.set(101 + 2 * k, '<< >>');
    }
    const fonts = new PdfFonts(objects, new Map([[6, CMAP]]));
    const shown = shownOf('/F1 9 Tf <00030004> Tj');
    for (let k = 0; k < 300; k++) expect(fonts.text(shown, 101 + 2 * k)).toBe(k % 3 === 0 ? '\u0000\u0003\u0000\u0004\n' : 'AB\n');
  });
});

describe('PageContents', () => {
  /** `objects` with `more` stored in them, as the reader stores them: each one told. */
  const store = (contents: PageContents, objects: Map<number, string>, more: Array<[number, string]>) => {
    for (const [object, dict] of more) {
      objects.set(object, dict);
      contents.define(object);
    }
  };

  it('reads the pages the file stored since, and a page the file stored again, and keeps the rest', () => {
    const objects = new Map<number, string>();
    const contents = new PageContents();
    store(contents, objects, [[8, page('9 0 R')], [10, page('[11 0 R 12 0 R]')], [9, '<< >>']]);
    expect([...contents.read(objects)].sort()).toEqual([[11, 10], [12, 10], [9, 8]]);
    store(contents, objects, [[20, page('21 0 R')], [10, page('[13 0 R]')]]);
    // Page 10 stored again lists 13; the streams its first definition listed keep it as their page.
    expect([...contents.read(objects)].sort()).toEqual([[11, 10], [12, 10], [13, 10], [21, 20], [9, 8]]);
    // A stream listed by a page stored later is that page's.
    store(contents, objects, [[22, page('9 0 R')]]);
    expect(contents.read(objects).get(9)).toBe(22);
    expect(contents.read(objects).size).toBe(5);
  });

  it('an object stored again and again, more often than the list of stored objects holds, still has every page read', () => {
    const objects = new Map<number, string>();
    const contents = new PageContents();
    store(contents, objects, Array.from({ length: 100_000 }, (_, k): [number, string] => [1, k === 99_999 ? page('5 0 R') : '']));
    store(contents, objects, [[2, page('6 0 R')]]);
    expect([...contents.read(objects)].sort()).toEqual([[5, 1], [6, 2]]);
    store(contents, objects, [[3, page('7 0 R')]]);
    expect(contents.read(objects).get(7)).toBe(3);
  });
});

describe('opensCmap', () => {
  const asBefore = (head: Buffer) => head.includes('begincmap') || head.includes('begincodespacerange') || head.includes('/CIDInit');

  it('finds each word, and no near miss, at every offset of a head, cut by its end or not', () => {
    const words = ['begincmap', 'begincodespacerange', '/CIDInit', 'begin cmap', 'begincma', 'beginbegincmap', 'beginbegin', '/CIDIni', 'CIDInit', '/IDInit', 'C/CIDInit', 'IDInit', '//CIDInit', 'begincodespace'];
    for (const word of words) {
      for (const filler of ['', 'b', 'begi', '/C', '/F1 9 Tf [<0003>] TJ ']) {
        for (let at = 0; at <= 40; at++) {
          const text = `${filler.repeat(40).slice(0, at)}${word}${filler.repeat(3)}`;
          for (let end = Math.max(0, at - 1); end <= text.length; end++) {
            const head = Buffer.from(text.slice(0, end), 'latin1');
            expect(opensCmap(head), JSON.stringify(text.slice(0, end))).toBe(asBefore(head));
          }
        }
      }
    }
  });
});
