// Content streams as real writers lay them out, read end to end through the PDF reader at every
// chunk size from 1 to 7 and whole: LibreOffice (one-byte codes of a subset font, hex strings and
// numbers glued together), Word (two-byte CIDs, marked content with dictionaries), pdfTeX (literal
// strings with kerning and no ToUnicode map), Chrome's Skia (a text matrix for each run, the map
// written after the page).
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { chunked } from './extract-fixtures.js';
import { scan } from './helpers.js';

const keyword = { detectors: { keywords: [{ name: 'top-secret', words: ['TOP-SECRET'] }] } };

/** `text` in the font's codes: one byte each from `first`, or two bytes each from `first` for a CID font. */
function codes(text: string, first: number, bytes: 1 | 2): string {
  return [...text].map((c) => (first + c.charCodeAt(0) - 0x20).toString(16).padStart(2 * bytes, '0')).join('');
}

/** A ToUnicode map of the printable ASCII characters from code `first` on (§9.10.3). */
function toUnicode(first: number, bytes: 1 | 2): string {
  const hex = (n: number) => n.toString(16).padStart(2 * bytes, '0');
  return `/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n1 begincodespacerange <${hex(0)}> <${hex(bytes === 1 ? 0xff : 0xffff)}> endcodespacerange\n1 beginbfrange <${hex(first)}> <${hex(first + 0x5e)}> <0020> endbfrange\nendcmap CMapName currentdict /CMap defineresource pop end end`;
}

/** A one-page PDF: its content stream, and its font F1 (with its ToUnicode map when one is given, before or after the page). */
function pdf(content: string, font: string, map: string | undefined, options: { flate: boolean; mapLast: boolean }): Buffer {
  const stream = (data: string) => {
    const bytes = options.flate ? zlib.deflateSync(Buffer.from(data, 'latin1')) : Buffer.from(data, 'latin1');
    return Buffer.concat([Buffer.from(`<< /Length ${bytes.length}${options.flate ? ' /Filter /FlateDecode' : ''} >>\nstream\n`), bytes, Buffer.from('\nendstream')]);
  };
  const objects: Array<[number, Buffer]> = [
    [1, Buffer.from('<< /Type /Catalog /Pages 2 0 R >>')],
    [2, Buffer.from('<< /Type /Pages /Kids [3 0 R] /Count 1 >>')],
    [3, Buffer.from('<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>')],
    [4, stream(content)],
    [5, Buffer.from(`${font.slice(0, -2)}${map === undefined ? '' : ' /ToUnicode 6 0 R'} >>`)],
  ];
  if (map !== undefined) objects[options.mapLast ? 'push' : 'unshift']([6, stream(map)]);
  return Buffer.concat([Buffer.from('%PDF-1.7\n'), ...objects.map(([n, body]) => Buffer.concat([Buffer.from(`${n} 0 obj\n`), body, Buffer.from('\nendobj\n')])), Buffer.from('%%EOF\n')]);
}

const SUBSET = '<< /Type /Font /Subtype /TrueType /BaseFont /BAAAAA+LiberationSans >>';
const CID = '<< /Type /Font /Subtype /Type0 /BaseFont /ABCDEF+Calibri /Encoding /Identity-H >>';
const TYPE1 = '<< /Type /Font /Subtype /Type1 /BaseFont /CMR10 >>';

const writers: Array<[string, string, string, string | undefined]> = [
  ['LibreOffice', `BT\n/F1 12 Tf\n56.8 773.1 Td [<${codes('memo: TOP', 1, 1)}>-3<${codes('-SEC', 1, 1)}>2<${codes('RET', 1, 1)}>]TJ\nET`, SUBSET, toUnicode(1, 1)],
  ['Word', `/P <</MCID 0>> BDC BT\n/F1 11.04 Tf\n1 0 0 1 72.024 709.54 Tm\n0 g\n[<${codes('memo: TOP-', 3, 2)}>4<${codes('SECRET', 3, 2)}>]TJ\nET\nEMC /Span <</ActualText (x) /Lang (en-GB)>> BDC EMC`, CID, toUnicode(3, 2)],
  ['pdfTeX', 'BT\n/F1 9.9626 Tf 91.925 759.927 Td [(memo:)-333(TOP-SE)-27(CRET)]TJ 0 -11.955 Td [(plans)]TJ\nET', TYPE1, undefined],
  ['Chrome', `q 1 0 0 -1 0 792 cm BT /F1 16 Tf 1 0 0 -1 8 20 Tm <${codes('memo:', 0x10, 2)}> Tj 1 0 0 -1 60 20 Tm <${codes('TOP-SECRET', 0x10, 2)}> Tj ET Q`, CID, toUnicode(0x10, 2)],
];

describe('content streams as writers lay them out', () => {
  it.each(writers)('reads %s’s text, at every chunk size from 1 to 7 and whole, its map before or after the page', async (_, content, font, map) => {
    for (const flate of [false, true]) {
      for (const mapLast of [false, true]) {
        const body = pdf(content, font, map, { flate, mapLast });
        for (const size of [1, 2, 3, 4, 5, 6, 7, body.length]) {
          expect(await scan(chunked(body, size), { content: { contentType: 'application/pdf' }, icapServer: keyword }), `flate ${flate}, map last ${mapLast}, chunks of ${size}`).toEqual(['keyword:top-secret']);
        }
      }
    }
  });

  it('reads nothing of a two-byte font without its map, and the same codes through it', async () => {
    const [, content, font, map] = writers[1] as (typeof writers)[number];
    expect(await scan(pdf(content, font, undefined, { flate: true, mapLast: true }), { content: { contentType: 'application/pdf' }, icapServer: keyword })).toEqual([]);
    expect(await scan(pdf(content, font, map, { flate: true, mapLast: true }), { content: { contentType: 'application/pdf' }, icapServer: keyword })).toEqual(['keyword:top-secret']);
  });
});
