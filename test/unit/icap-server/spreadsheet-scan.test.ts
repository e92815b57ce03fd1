// The worksheet and shared string kernels (extract/spreadsheet-scan.as.ts, WebAssembly over the
// part's UTF-8 bytes, with the tokenizer after it from where it stops) against their specification,
// the tokenizer and SheetHandler or SharedStringsHandler reading the whole part: the same text, held rows and the held limit included, on
// sheets generated from the tags the kernel reads, near misses of them and what it leaves to the
// tokenizer (entities, CDATA, comments, instructions, formulas, headers, lists, odd quotes and
// names, values outside cells, stray ends, invalid and multi-byte UTF-8), handed over in chunks
// of 1 to 7 bytes, at random cuts and whole, with the shared strings known, not yet, or past the limit.
import { describe, expect, it } from 'vitest';
import { MAX_HELD_CHARS, SheetHandler, Workbook } from '../../../src/icap-server/extract/spreadsheet-cells.js';
import { type PartReader, SheetScan, StringsScan, tokenizerReader } from '../../../src/icap-server/extract/spreadsheet-scan.js';
import { SharedStringsHandler } from '../../../src/icap-server/extract/spreadsheet-strings.js';
import { listOf, tableOf } from './shared-strings-list.js';

function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 8) / 2 ** 24;
}

const STRINGS = ['alpha', 'caf\u00e9 4111 1111 1111 1111', '\ud83d\ude00 x', ''];
type Setting = 'strings' | 'held' | 'limit';

function workbook(setting: Setting): Workbook {
  const book = new Workbook();
  if (setting === 'strings') book.setStrings(tableOf(STRINGS));
  // A few rows from the limit: the sheet goes past it part of the way through.
  if (setting === 'limit') book.hold(MAX_HELD_CHARS - 120);
  return book;
}

/** The text read from `xml` cut at `cuts` by `reader`, then the held rows with the strings known. */
function read(xml: Buffer, cuts: readonly number[], setting: Setting, kernel: boolean): { text: string; handedOver: boolean } {
  const book = workbook(setting);
  const handler = new SheetHandler(book);
  const reader: PartReader = kernel ? new SheetScan(handler) : tokenizerReader(handler);
  let text = '';
  let from = 0;
  for (const cut of [...cuts, xml.length]) {
    reader.write(xml.subarray(from, cut));
    text += handler.take();
    from = cut;
  }
  reader.end();
  text += handler.take();
  if (setting !== 'strings') book.setStrings(tableOf(STRINGS));
  text += handler.flushHeld();
  return { text, handedOver: (reader as unknown as { rest?: unknown }).rest !== undefined };
}

const CELLS = [
  '<c r="B2" s="1" t="s"><v>3</v></c>', '<c r="C2"><v>12.5</v></c>', '<c r="D2" t="inlineStr"><is><t>x 4111</t></is></c>', '<c r="A7" t="s"><v>1</v></c>',
  '<c t="s"><v>2</v></c>', '<c><v>7</v></c>', '<c r="Z9"/>', '<c r="XFD3"><v>9</v></c>', '<c r="XFE3"><v>9</v></c>', '<c r="AAAAAAAAAAAAA1"><v>1</v></c>',
  '<c r="E5" t="s"><v>007</v></c>', '<c r="E5" t="s"><v>12</v><v>3</v></c>', '<c t="s"/>', '<c t="s"><v></v></c>', '<c t="s"><v>99</v></c>',
  '<c r="F1" t="inlineStr"><is><r><t>a</t></r><r><rPr><b/></rPr><t xml:space="preserve"> b </t></r><rPh><t>ア</t></rPh></is></c>',
  '<x:c r="G4" t="s"><x:v>0</x:v></x:c>', '<c r="b2"><v>1</v></c>', '<c  r="C3"><v>1</v></c>', '<c r="C3"t="s"><v>1</v></c>', '<c foo=" t=s" r="H1"><v>1</v></c>',
  '<c r="A1" t="str"><v>caf\u00e9 \u65e5\u672c \ud83d\ude00</v></c>', '<c r="A1" t="s"><v>1e3</v></c>', '<c r="A1" t="s"><v> 3</v></c>', '<c r="A1" t="s"><v>1234567890</v></c>',
  '<c r="A1" t="s"><v>-1</v></c>', '<c r="A1" t="s" ><v>1</v></c>', '<c r="A1" t="s"/>', '<c r="A1" t=""><v>1</v></c>', '<c r=""><v>1</v></c>', '<c r="12"><v>1</v></c>',
  '<c r="A1" t="S"><v>1</v></c>', '<c r="A1" t="s1"><v>1</v></c>', '<c r="A1" t="s\'"><v>1</v></c>', '<c r="A1" t="s" r="B1"><v>1</v></c>', '<c r="A1B"><v>1</v></c>', '<c r="A1"  t="s"><v>1</v></c>', '<c r="A1"><v/></c>', '<c r="A1"><v >1</v></c>',
  '<c r="A1"><v>1</v></c></c>', '<c r="A1"/><v>1</v></c>', '<c r="A1"><v><v>1</v></c>', '<c r="A1"><v>1</v></v></c>', '<c r="A1"><f>SUM(A1:A2)</f><v>3</v></c>', '<c r="A1" t="&#115;"><v>1</v></c>', '<c r="&#65;1"><v>1</v></c>', "<c r='A1'><v>1</v></c>",
  '<c r="A1"><v>a &amp; b</v></c>', '<c r="A1"><v><![CDATA[x<y]]></v></c>', '<c r="A1"><!-- c --><v>1</v></c>', '<c r="A1"><?pi x?><v>1</v></c>', '<c r="A1"><v>1</c>',
];
const PIECES = [
  ...CELLS, ...CELLS, ...CELLS,
  '<row r="2" spans="1:4" x14ac:dyDescent="0.25">', '<row r="3">', '<row r="3" >', '<row r="">', '<row r="3"/>', '<row r="3x">', "<row r='3'>", '<row r="3>', '</row>', '</row>', '</row>', '<row/>', '<row r="9"/>', '<x:row>', '</x:row>', '</rows>', '</ro>',
  '<sheetData>', '</sheetData>', '<dimension ref="A1:C3"/>', '<sheetView tabSelected="1" workbookViewId="0"/>', '<outlinePr summaryBelow="0"/>', '<?xml version="1.0"?>\n',
  '<headerFooter><oddHeader>&amp;C 4111</oddHeader><firstFooter>x</firstFooter></headerFooter>', '<dataValidation><formula1>"a,b"</formula1><formula2>1</formula2></dataValidation>',
  '<formula>A1&gt;2</formula>', '<formulas/>', '<oddHeaders>x</oddHeaders>', '<evenFooter/>', '<v>stray</v>', '<t>stray</t>', '</c>', '<c r="A1">', '<v>', '</v>', '</v></c>', '</v></c', '<f>1+1</f>',
  '<!-- <row> -->', '<![CDATA[<c>]]>', '<!DOCTYPE x>', "<a b='1'>", '<a b="1>', '<a b="x>y">', '< c>', '<>', '</>', '<', '>', '"', "'", '&', '&amp;', 'text', ' ', '\n',
  '\u00e9', '\u65e5', '\ud83d\ude00', '\u2028',
];
/** Valid UTF-8 (one to four bytes) and not: stray continuations, cut sequences, overlong forms, surrogates, past U+10FFFF. */
const BYTES = [
  [0xc3, 0xa9], [0xe2, 0x82, 0xac], [0xef, 0xbf, 0xbf], [0xf0, 0x9f, 0x98, 0x80], [0xf4, 0x8f, 0xbf, 0xbf], [0xe0, 0xa0, 0x80], [0xed, 0x9f, 0xbf], [0xf0, 0x90, 0x80, 0x80],
  [0xff], [0x80], [0xc3], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xc1, 0xbf], [0xe0, 0x80, 0x80], [0xe0, 0x9f, 0xbf], [0xf0, 0x80, 0x80, 0x80],
  [0xf0, 0x8f, 0xbf, 0xbf], [0xf4, 0x90, 0x80, 0x80], [0xf5, 0x80, 0x80, 0x80], [0xe2, 0x28, 0xa1], [0xc3, 0x28],
].map((bytes) => Buffer.from(bytes));

/** Mostly cells and rows the kernel reads, now and then anything: a piece, a byte sequence in a value or between tags. */
function sheet(rand: () => number, count: number, hostile: boolean): Buffer {
  const parts: Buffer[] = [Buffer.from('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="x"><sheetData>')];
  const pick = <T>(list: readonly T[], length = list.length): T => list[Math.floor(rand() * length)] as T;
  for (let k = 0; k < count; k++) {
    parts.push(Buffer.from(`<row r="${k}">`));
    for (let cells = Math.floor(rand() * 5); cells > 0; cells--) {
      const odd = hostile ? rand() : 1;
      if (odd < 0.06) parts.push(Buffer.from('<c r="B1"><v>a'), pick(BYTES), pick(BYTES), Buffer.from(rand() < 0.5 ? '</v></c>' : '</v>'));
      else if (odd < 0.09) parts.push(pick(BYTES));
      else if (odd < 0.2) parts.push(Buffer.from(pick(PIECES)));
      else parts.push(Buffer.from(pick(CELLS, hostile ? CELLS.length : 16)));
    }
    parts.push(Buffer.from(hostile && rand() < 0.1 ? pick(PIECES) : '</row>'));
  }
  parts.push(Buffer.from('</sheetData></worksheet>'));
  return Buffer.concat(parts);
}

function cutsEvery(size: number, length: number): number[] {
  return Array.from({ length: Math.ceil(length / size) - 1 }, (_, k) => (k + 1) * size);
}

const SETTINGS: readonly Setting[] = ['strings', 'held', 'limit'];

describe('worksheet kernel against the tokenizer and SheetHandler', () => {
  it('sheets of the shapes it reads: the same text at chunks of 1 to 7 bytes and whole, read by the kernel to the end', () => {
    const rand = random(7);
    for (let round = 0; round < 60; round++) {
      const xml = sheet(rand, 1 + Math.floor(rand() * 12), false);
      const setting = SETTINGS[round % 3] as Setting;
      const want = read(xml, [], setting, false).text;
      for (const size of [1, 2, 3, 5, 7, xml.length]) {
        const got = read(xml, cutsEvery(size, xml.length), setting, true);
        expect(got.text).toBe(want);
        expect(got.handedOver).toBe(false);
      }
    }
  });

  it('hostile sheets: the same text at chunks of 1 to 7 bytes, random cuts and whole', () => {
    const rand = random(11);
    let handedOver = 0;
    const rounds = 600;
    for (let round = 0; round < rounds; round++) {
      const xml = sheet(rand, 1 + Math.floor(rand() * 12), true);
      const setting = SETTINGS[round % 3] as Setting;
      const want = read(xml, [], setting, false).text;
      const random = Array.from({ length: 4 }, () => Math.floor(rand() * xml.length)).sort((a, b) => a - b);
      for (const cuts of [[], random, cutsEvery(1 + (round % 7), xml.length)]) {
        const got = read(xml, cuts, setting, true);
        expect(got.text, `${xml.toString('latin1')} cut at ${cuts.join(',')} (${setting})`).toBe(want);
        if (cuts.length === 0 && got.handedOver) handedOver++;
      }
    }
    // Both ways were taken: some sheets read by the kernel to the end, some handed over.
    expect(handedOver).toBeGreaterThan(rounds / 10);
    expect(handedOver).toBeLessThan(rounds);
  });

  it('where the kernel stops, the tokenizer reads on with the last cell as the handler would have it', () => {
    const sheets = [
      '<row><c r="A1"><v>1</c></row>text<row></c></row>',
      '<row><c r="B1" t="s"><v>2</v></c></row><row><f>x</f></c></row>',
      '<row><c r="C1"><v>x</v></c><c r="E1" t="s"><v>0</v></c></row><row>&amp;</c></c></row>',
      '<row><c r="C1" t="s"><v>007</v></c></row><v>1</v></c></row>',
      '<row><c r="XFE1"><v>\u00e9\ud83d\ude00</v></c></row><row><!-- x --></c></row>',
      '<row><c t="s"/></row><row><c r="D1"><?p?><v>4<?q?>2</v></c></row></c><oddHeader>x</oddHeader></row>',
    ];
    for (const body of sheets) {
      const xml = Buffer.from(`<worksheet><sheetData>${body}</sheetData></worksheet>`);
      for (const setting of SETTINGS) {
        const want = read(xml, [], setting, false).text;
        for (const size of [1, 2, 3, 4, 5, 6, 7, xml.length]) expect(read(xml, cutsEvery(size, xml.length), setting, true).text, body).toBe(want);
      }
    }
  });

  it('tags of every length around the kernel\'s sixteen-byte steps: names, prefixes, quotes, spaces and attributes on both sides of each step', () => {
    const rand = random(13);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)] as T;
    const fill = (n: number) => 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(3).slice(0, n);
    const space = () => pick([' ', '  ', '\t', '\n', '\r\n', ' \t ']);
    // Now and then a quote the kernel leaves to the tokenizer.
    const odd = () => pick([` b="${pick(['>', '\'', 'a>b'])}"`, " c='1'", ' d="1']);
    const attribute = () => (rand() < 0.05 ? odd() : pick([` a${fill(Math.floor(rand() * 40))}="${fill(Math.floor(rand() * 24))}"`, ` b="${pick(['1', 'x y', 'a:b', ''])}"`, ' s="1"', ' t="s"', ' t="n"', ' r="C7"', ' r="AB12"', ' x:r="D4"']));
    const prefix = () => (rand() < 0.3 ? `${fill(1 + Math.floor(rand() * 30))}:` : '') + (rand() < 0.1 ? `${fill(Math.floor(rand() * 20))}:` : '');
    let whole = 0;
    for (let round = 0; round < 300; round++) {
      const rows: string[] = [];
      for (let r = Math.floor(rand() * 6); r > 0; r--) {
        let row = `<${prefix()}row${rand() < 0.5 ? attribute() : ''}${rand() < 0.3 ? space() : ''}>`;
        for (let c = Math.floor(rand() * 5); c > 0; c--) {
          const attributes = Array.from({ length: Math.floor(rand() * 4) }, attribute).join('');
          const p = prefix();
          row += `<${p}c${attributes}${rand() < 0.2 ? space() : ''}><${p}v${rand() < 0.2 ? attribute() : ''}>${Math.floor(rand() * 5)}</${p}v${rand() < 0.1 ? space() : ''}></${p}c>`;
        }
        rows.push(`${row}</${rand() < 0.9 ? '' : prefix()}row>`);
      }
      const xml = Buffer.from(`<worksheet><sheetData>${' '.repeat(round % 16)}${rows.join(pick(['', ' ', '\n']))}</sheetData></worksheet>`);
      const setting = SETTINGS[round % 3] as Setting;
      const want = read(xml, [], setting, false).text;
      for (const size of [1, 3, 16, 17, xml.length]) {
        const got = read(xml, cutsEvery(size, xml.length), setting, true);
        expect(got.text, xml.toString()).toBe(want);
        if (size === xml.length && !got.handedOver) whole++;
      }
    }
    // Most are read by the kernel to the end (single quotes and unclosed ones are handed over).
    expect(whole).toBeGreaterThan(150);
  });

  it('a sheet written at once, larger than a kernel call reads, is read a call at a time by the kernel to the end', () => {
    const rand = random(3);
    const xml = sheet(rand, 40_000, false);
    expect(xml.length).toBeGreaterThan(3 * 1024 * 1024);
    for (const setting of SETTINGS) {
      const got = read(xml, [], setting, true);
      expect(got.text).toBe(read(xml, [], setting, false).text);
      expect(got.handedOver).toBe(false);
    }
  });

  it('a row longer than what is carried from chunk to chunk is read on by the tokenizer', () => {
    const row = `<row r="1">${'<c r="A1" t="inlineStr"><is><t>4111 1111 1111 1111 </t></is></c>'.repeat(6000)}</row>`;
    const xml = Buffer.from(`<worksheet><sheetData>${row}${row}</sheetData></worksheet>`);
    const want = read(xml, [], 'strings', false).text;
    const got = read(xml, cutsEvery(65_536, xml.length), 'strings', true);
    expect(got.text).toBe(want);
    expect(got.handedOver).toBe(true);
  });
});

/** The strings, the text spilled past the limit and whether the kernel handed over, reading `xml` cut at `cuts`. */
function readStrings(xml: Buffer, cuts: readonly number[], limit: boolean, kernel: boolean): { strings: (string | undefined)[]; spill: string; handedOver: boolean } {
  const book = new Workbook();
  if (limit) book.hold(MAX_HELD_CHARS - 60);
  const handler = new SharedStringsHandler(book);
  const reader: PartReader = kernel ? new StringsScan(handler) : tokenizerReader(handler);
  let spill = '';
  let from = 0;
  for (const cut of [...cuts, xml.length]) {
    reader.write(xml.subarray(from, cut));
    spill += handler.take();
    from = cut;
  }
  reader.end();
  spill += handler.take();
  return { strings: listOf(handler.strings), spill, handedOver: (reader as unknown as { rest?: unknown }).rest !== undefined };
}

const TEXTS = ['quarterly 4111 1111', 'caf\u00e9 \u65e5\u672c \ud83d\ude00', 'a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos;', ' ', ''];
const STRING_PIECES = [
  '<si><t>x</t></si>', '<si><t xml:space="preserve"> y </t></si>', '<si><r><rPr><b/></rPr><t>a</t></r><r><t>b</t></r><rPh sb="0" eb="1"><t>\u30a2</t></rPh><phoneticPr fontId="1"/></si>',
  '<si/>', '<si><t/></si>', '<x:si><x:t>p</x:t></x:si>', '<si>', '</si>', '<t>', '</t>', '<rPh>', '</rPh>', '<rPh/>', '<sis>', '<ts>', '</sst>', '<?p x?>', '<!-- c -->', '<![CDATA[z]]>',
  '&amp;', '&lt;', '&#65;', '&#x41;', '&am', '&ampx;', '&', '&AMP;', "<t a='1'>", '<t a="1>', '<', '>', 'text', '\u00e9', '\ud83d\ude00',
];

describe('shared string kernel against the tokenizer and SharedStringsHandler', () => {
  it('the same strings and spill at chunks of 1 to 7 bytes, random cuts and whole, within and past the held limit', () => {
    const rand = random(5);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)] as T;
    let handedOver = 0;
    let whole = 0;
    const rounds = 600;
    for (let round = 0; round < rounds; round++) {
      const hostile = round % 2 === 1;
      const parts: Buffer[] = [Buffer.from('<?xml version="1.0"?>\n<sst xmlns="x" count="9">')];
      for (let k = Math.floor(rand() * 12); k > 0; k--) {
        const odd = hostile ? rand() : 1;
        if (odd < 0.05) parts.push(Buffer.from('<si><t>a'), pick(BYTES), Buffer.from('</t></si>'));
        else if (odd < 0.08) parts.push(pick(BYTES));
        else if (odd < 0.25) parts.push(Buffer.from(pick(STRING_PIECES)));
        else parts.push(Buffer.from(`<si><t>${pick(TEXTS)}</t>${rand() < 0.3 ? `<r><t>${pick(TEXTS)}</t></r>` : ''}</si>`));
      }
      parts.push(Buffer.from('</sst>'));
      const xml = Buffer.concat(parts);
      const limit = round % 3 === 0;
      const want = readStrings(xml, [], limit, false);
      const random = Array.from({ length: 4 }, () => Math.floor(rand() * xml.length)).sort((a, b) => a - b);
      for (const cuts of [[], random, cutsEvery(1 + (round % 7), xml.length)]) {
        const got = readStrings(xml, cuts, limit, true);
        expect(got.strings, xml.toString('latin1')).toEqual(want.strings);
        expect(got.spill, xml.toString('latin1')).toBe(want.spill);
        if (cuts.length === 0) {
          if (got.handedOver) handedOver++;
          else if (!hostile) whole++;
        }
      }
    }
    // Tables of the shapes it reads are read to the end; hostile ones both ways.
    expect(whole).toBe(rounds / 2);
    expect(handedOver).toBeGreaterThan(rounds / 10);
  });
});
