// PDF text outside content streams, and bytes that are not PDF at all: a hostile uploader puts a
// card number in the document information, a comment on a page, a form field or a bookmark
// (strings of dictionaries, ISO 32000-1 §7.3.4, in any encoding §7.9.2.2 allows), or next to the
// objects (after %%EOF, between two objects, behind the header, after a cut inside a stream).
// Each must be found at any chunk size; the structure around the objects (cross-reference table,
// trailer) and the data of streams that are not text (images, fonts) must not be read as text.
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { PdfGaps } from '../../../src/icap-server/extract/pdf-gaps.js';
import { textString } from '../../../src/icap-server/extract/pdf-strings.js';
import { chunked, pdf } from './extract-fixtures.js';
import { scan } from './helpers.js';

const SECRET = 'payment card 4111 1111 1111 1111 expires 05/28';
const CLEAN = 'quarterly report, nothing to see here';
const octets = { contentType: 'application/octet-stream' };
const SIZES = [1, 2, 3, 4, 5, 6, 7, 64, 100_000];

const hex = (bytes: Buffer) => bytes.toString('hex').replace(/(.{6})/g, '$1 ');
const utf16be = (text: string) => Buffer.from(text, 'utf16le').swap16();
/** A literal string with every byte outside printable ASCII (and the delimiters) as an octal escape. */
const octal = (bytes: Buffer) => `(${[...bytes].map((b) => (b < 0x20 || b > 0x7e || b === 0x28 || b === 0x29 || b === 0x5c ? `\\${b.toString(8).padStart(3, '0')}` : String.fromCharCode(b))).join('')})`;

/**
 * A PDF of the given object bodies (numbered from 1; a Buffer is a stream's data, its dictionary
 * before it in `dicts`), with a cross-reference table and a trailer, as a writer lays it out.
 */
function handPdf(objects: Array<string | { dict: string; data: Buffer }>, trailer = '/Root 1 0 R'): Buffer {
  const parts = [Buffer.from('%PDF-1.7\n%\u00e2\u00e3\u00cf\u00d3\n', 'latin1')];
  let offset = parts[0]!.length;
  const xref: string[] = [];
  objects.forEach((o, i) => {
    const body =
      typeof o === 'string'
        ? Buffer.from(o, 'latin1')
        : Buffer.concat([Buffer.from(`<< ${o.dict} /Length ${o.data.length} >>\nstream\n`, 'latin1'), o.data, Buffer.from('\nendstream', 'latin1')]);
    const bytes = Buffer.concat([Buffer.from(`${i + 1} 0 obj\n`), body, Buffer.from('\nendobj\n')]);
    xref.push(`${String(offset).padStart(10, '0')} 00000 n \n`);
    parts.push(bytes);
    offset += bytes.length;
  });
  const tail = `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${xref.join('')}trailer\n<< /Size ${objects.length + 1} ${trailer} /ID [<8f3a9c0b6d5e4f21a7b8c9d0e1f20314> <8f3a9c0b6d5e4f21a7b8c9d0e1f20314>] >>\nstartxref\n${offset}\n%%EOF\n`;
  return Buffer.concat([...parts, Buffer.from(tail, 'latin1')]);
}

/** A one-page document with `extra` objects from number 5 on; object 4 is its content stream. */
const page = (extra: Array<string | { dict: string; data: Buffer }>, trailer?: string) =>
  handPdf(
    [
      '<< /Type /Catalog /Pages 2 0 R /Outlines 6 0 R /AcroForm << /Fields [7 0 R] >> >>',
      '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
      '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> /Contents 4 0 R >>',
      { dict: '/Filter /FlateDecode', data: zlib.deflateSync(`BT /F1 12 Tf 72 720 Td (${CLEAN}) Tj ET`) },
      ...extra,
    ],
    trailer,
  );

async function found(body: Buffer, sizes = SIZES): Promise<string[][]> {
  const all: string[][] = [];
  for (const size of sizes) all.push(await scan(chunked(body, size), { content: octets }));
  return all;
}

/** Where a card number may hide in the strings of a document: name, the PDF holding a text, chunk sizes. */
const hidingPlaces: Array<[string, (text: string) => Buffer, number[]?]> = [
  ['the document title, a literal string with escapes', (t) => page([`<< /Title (${t.replace(/[()\\]/g, '\\$&').replace('4111 1111 ', '\\064\\061\\0611 \\\n1111 ').replace('05/28', '(05/28\\))')}) /Producer (Writer 1.0) /CreationDate (D:20240131120000+01'00') >>`], '/Root 1 0 R /Info 5 0 R')],
  ['the author, a hex string with spaces and lower case', (t) => page([`<< /Author <${hex(Buffer.from(t, 'latin1'))}> >>`], '/Root 1 0 R /Info 5 0 R')],
  ['the subject, UTF-16BE in a hex string with its byte order mark', (t) => page([`<< /Subject <FEFF${utf16be(t).toString('hex').toUpperCase()}> >>`], '/Root 1 0 R /Info 5 0 R')],
  ['the keywords, UTF-16BE in a literal string of octal escapes', (t) => page([`<< /Keywords ${octal(Buffer.concat([Buffer.from([0xfe, 0xff]), utf16be(t)]))} >>`], '/Root 1 0 R /Info 5 0 R')],
  ['a UTF-16BE string with a language escape', (t) => page([`<< /Title <FEFF001B656E001B${utf16be(t).toString('hex')}> >>`], '/Root 1 0 R /Info 5 0 R')],
  ['a UTF-8 string with its byte order mark (PDF 2.0)', (t) => page([`<< /Title <EFBBBF${Buffer.from(`\u00e9 ${t}`).toString('hex')}> >>`], '/Root 1 0 R /Info 5 0 R')],
  ['a comment on a page (annotation /Contents)', (t) => page([`<< /Type /Annot /Subtype /Text /Rect [10 10 30 30] /Contents (${t}) /M (D:20240131120000Z) >>`])],
  ['a form field value (/V)', (t) => page(['<< >>', '<< >>', `<< /FT /Tx /T (card) /V <FEFF${utf16be(t).toString('hex')}> /Rect [0 0 200 20] >>`])],
  ['a form field tooltip (/TU)', (t) => page(['<< >>', '<< >>', `<< /FT /Tx /T (card) /TU (${t}) >>`])],
  ['a bookmark title', (t) => page(['<< >>', '<< /Type /Outlines /First 7 0 R /Last 7 0 R /Count 1 >>', `<< /Title (${t}) /Parent 6 0 R /Dest [3 0 R /Fit] >>`])],
  ['a document information dictionary inline in the trailer', (t) => page([], `/Root 1 0 R /Info << /Title (${t}) >>`)],
  ['the dictionary of a stream', (t) => page([{ dict: `/Type /XObject /Subtype /Image /Width 1 /Height 1 /BitsPerComponent 8 /ColorSpace /DeviceGray /Alt (${t})`, data: Buffer.from([0]) }])],
  // (a 100 KiB object in 1-byte chunks is read again at each: seconds, before this change as after)
  ['a string after 100 KiB of another in the same dictionary', (t) => page([`<< /Title (${'x'.repeat(100 * 1024)}) /Subject (${t}) >>`], '/Root 1 0 R /Info 5 0 R'), [7, 4096, 100_000]],
  [
    'a dictionary inside a compressed object stream',
    (t) => {
      const inner = `<< /Title (${t}) >>`;
      const data = zlib.deflateSync(`9 0 ${inner}`);
      return page([{ dict: `/Type /ObjStm /N 1 /First 4 /Filter /FlateDecode`, data }], '/Root 1 0 R /Info 9 0 R');
    },
  ],
];

describe('strings of PDF objects are read as text', () => {
  for (const [place, build, sizes] of hidingPlaces) {
    it(`finds a card number in ${place}, at every chunk size`, async () => {
      for (const findings of await found(build(SECRET), sizes)) expect(findings).toEqual(['payment-card']);
      expect(await found(build(CLEAN), [7, 100_000])).toEqual([[], []]);
    });
  }

  it('decodes text strings as §7.9.2.2 says', () => {
    expect(textString(`\u00fe\u00ff${utf16be('caf\u00e9 \u{1f600}').toString('latin1')}`)).toBe('caf\u00e9 \u{1f600}');
    expect(textString(`\u00fe\u00ff\u0000\u001bfr\u0000\u001b\u0000a`)).toBe('a');
    expect(textString(`\u00fe\u00ff\u0000a\u0000`)).toBe('a');
    expect(textString('\u00ef\u00bb\u00bf\u00c3\u00a9')).toBe('\u00e9');
    expect(textString('plain \u00e9')).toBe('plain \u00e9');
  });
});

describe('bytes that are not PDF are scanned as text', () => {
  const clean = page([`<< /Title (${CLEAN}) >>`], '/Root 1 0 R /Info 5 0 R');
  const text = Buffer.from(`\n${SECRET}\n`);
  const at = (needle: string) => clean.indexOf(needle, 0, 'latin1');
  const ways: Array<[string, Buffer]> = [
    ['after %%EOF', Buffer.concat([clean, text])],
    ['after %%EOF with no line break', Buffer.concat([clean.subarray(0, clean.length - 1), Buffer.from(SECRET)])],
    ['between two objects', Buffer.concat([clean.subarray(0, at('2 0 obj')), text, clean.subarray(at('2 0 obj'))])],
    ['in a comment between two objects', Buffer.concat([clean.subarray(0, at('2 0 obj')), Buffer.from(`% ${SECRET}\n`), clean.subarray(at('2 0 obj'))])],
    ['in a line after the header comment', Buffer.concat([Buffer.from('%PDF-1.7 '), text])],
    ['behind %PDF- with no object at all', Buffer.from(`%PDF-1.4\n${SECRET}\n`)],
    ['between the cross-reference table and the trailer', Buffer.concat([clean.subarray(0, at('trailer')), text, clean.subarray(at('trailer'))])],
    ['after an incremental update', Buffer.concat([clean, Buffer.from('6 0 obj\n<< /Title (v2) >>\nendobj\n'), text])],
    ['inside a stream cut short by the end of the file', Buffer.concat([clean.subarray(0, at('stream') + 20), text])],
    ['in place of endstream after a stream', Buffer.concat([clean.subarray(0, at('endstream')), text, clean.subarray(clean.indexOf('endobj', at('endstream')))])],
    ['in an object the end of the file cuts', Buffer.concat([clean.subarray(0, at('/MediaBox')), text])],
  ];

  for (const [where, body] of ways) {
    it(`finds a card number ${where}, at every chunk size`, async () => {
      for (const findings of await found(body)) expect(findings).toContain('payment-card');
    });
  }

  it('finds a card number after a cut at every place of a PDF, at chunk sizes 1 to 7', async () => {
    for (const body of [pdf([['hello world']]), clean]) {
      for (let cut = 0; cut <= body.length; cut++) {
        const cutBody = Buffer.concat([body.subarray(0, cut), text]);
        expect(await scan(chunked(cutBody, cut % 2 === 0 ? cutBody.length : 1 + (cut % 7)), { content: octets }), `cut at ${cut}`).toContain('payment-card');
      }
    }
  });

  it('finds text appended to a PDF cut inside a stream of unknown length', async () => {
    const body = pdf([['hello world']], { indirectLength: true, filter: 'none' });
    const cut = body.indexOf('Tj', 0, 'latin1');
    for (const findings of await found(Buffer.concat([body.subarray(0, cut), text]))) expect(findings).toContain('payment-card');
  });

  // Whole (inflated at once) and in pieces (inflated as it comes).
  it('finds text in the frame of a Flate stream that does not inflate, or after the end of its data', async () => {
    const framed = (data: Buffer) => page([{ dict: '/Filter /FlateDecode', data }]);
    const deflated = zlib.deflateSync(`BT (${CLEAN}) Tj ET`);
    for (const data of [Buffer.from(SECRET), Buffer.concat([deflated, text]), Buffer.concat([zlib.deflateRawSync('BT (a) Tj ET'), text])]) {
      for (const findings of await found(framed(data))) expect(findings).toContain('payment-card');
    }
    // An end of line counted in /Length (some writers do) is no finding, nor anything else.
    for (const findings of await found(framed(Buffer.concat([deflated, Buffer.from('\r\n')])))) expect(findings).toEqual([]);
  });

  it('reads nothing from the file structure and the data of images and fonts', async () => {
    const card = Buffer.from(SECRET);
    const body = page([
      { dict: '/Type /XObject /Subtype /Image /Width 8 /Height 6 /BitsPerComponent 8 /ColorSpace /DeviceGray', data: card },
      { dict: '/Length1 46', data: card },
      { dict: '/Type /XObject /Subtype /Image /Width 8 /Height 6 /Filter /DCTDecode', data: card },
    ]);
    for (const findings of await found(body)) expect(findings).toEqual([]);
    expect(await found(clean)).toEqual(SIZES.map(() => []));
  });

  it('accounts for the header, cross-reference table, trailer and %%EOF, wherever the bytes are cut', () => {
    const xref = ['0000000000 65535 f \n', ...Array.from({ length: 40 }, (_, i) => `${String(4111111 + i * 1111).padStart(10, '0')} 00000 n \r\n`)].join('');
    const gaps = `%PDF-1.7\r\n%\u00e2\u00e3\u00cf\u00d3\nendstream\nendobj\n  xref\n0 41\n${xref}3 1\n0000012345 00002 n\ntrailer\n<< /Size 41 /Info << /Title (t\\)) >> /ID [<0a1b> <0A1B>] >>\nstartxref\n4111\n%%EOF\r\n`;
    for (let cut = 0; cut < gaps.length; cut++) {
      const leftover: string[] = [];
      const texts: string[] = [];
      const reader = new PdfGaps({ text: (t) => texts.push(t), leftover: (b) => leftover.push(b) });
      reader.write(gaps.slice(0, cut), false);
      reader.write(gaps.slice(cut), true);
      expect(leftover, `cut at ${cut}`).toEqual([]);
      expect(texts, `cut at ${cut}`).toEqual(['t)', '\n\u001b', '\n\u001b']);
    }
  });

  it('gives what is not PDF between objects as it stands, runs apart, wherever the bytes are cut', () => {
    const gaps = `%PDF-1.7\nhello 4111 1111\nxref\n0 1\n0000000000 65535 f \n1111 1111 %comment\n%%EOF\n`;
    for (let cut = 0; cut < gaps.length; cut++) {
      const leftover: string[] = [];
      const reader = new PdfGaps({ text: () => undefined, leftover: (b) => leftover.push(b) });
      reader.write(gaps.slice(0, cut), false);
      reader.write(gaps.slice(cut), true);
      expect(leftover.join(''), `cut at ${cut}`).toBe('hello 4111 1111\n\n1111 1111 %comment\n\n');
    }
  });
});
