// Documents read as text: OOXML (runs joined, tables as TSV, shared strings resolved, comments and
// notes), ODF, HTML, XML, RTF, UTF-16/32 with and without a byte-order mark, declared charsets.
import { describe, expect, it } from 'vitest';
import { ContentTextParser } from '../../../src/icap-server/extract/pdf-content.js';
import { WORD_GAP } from '../../../src/icap-server/extract/pdf-shown-text.js';
import { XmlTokenizer } from '../../../src/icap-server/extract/xml-tokenizer.js';
import { chunked, docx, pdf, xlsx, zip } from './extract-fixtures.js';
import { scan } from './helpers.js';

const CARD = '4111 1111 1111 1111';
const keyword = { detectors: { keywords: [{ name: 'top-secret', words: ['TOP-SECRET'] }] } };
const octets = { contentType: 'application/octet-stream' };
const dlp = (body: Buffer | string, contentType = 'application/octet-stream') => scan(body, { content: { contentType }, icapServer: keyword });

describe('OOXML', () => {
  it('joins the runs of a Word paragraph, and never two paragraphs', async () => {
    expect(await dlp(docx(['memo: TOP-|SECRET| plans']))).toEqual(['keyword:top-secret']);
    expect(await dlp(docx([`my card is 4111 |1111 1111| 1111, exp 12/29`]))).toEqual(['payment-card']);
    expect(await dlp(docx(['memo: TOP-', 'SECRET plans']))).toEqual([]);
  });

  it('reads comments, footnotes, headers and slide notes (every XML part)', async () => {
    const comment = { name: 'word/comments.xml', data: '<w:comments xmlns:w="w"><w:comment w:id="0"><w:p><w:r><w:t>TOP-</w:t></w:r><w:r><w:t>SECRET</w:t></w:r></w:p></w:comment></w:comments>' };
    expect(await dlp(docx(['nothing here'], [comment]))).toEqual(['keyword:top-secret']);
    const pptx = zip([
      { name: '[Content_Types].xml', data: '<Types/>' },
      { name: 'ppt/slides/slide1.xml', data: '<p:sld xmlns:a="a" xmlns:p="p"><p:txBody><a:p><a:r><a:t>Quarterly</a:t></a:r></a:p></p:txBody></p:sld>' },
      { name: 'ppt/notesSlides/notesSlide1.xml', data: '<p:notes xmlns:a="a" xmlns:p="p"><a:p><a:r><a:t>speaker: TOP</a:t></a:r><a:r><a:t>-SECRET numbers</a:t></a:r></a:p></p:notes>' },
    ]);
    expect(await dlp(pptx)).toEqual(['keyword:top-secret']);
  });

  it('reads a spreadsheet as TSV with shared strings in their cells, whichever part comes first', async () => {
    const rows = [
      ['Name', 'Card number', 'Expiry'],
      ['Alice Example', CARD, '12/29'],
    ];
    for (const stringsFirst of [false, true]) {
      expect(await dlp(xlsx(rows, { stringsFirst }))).toEqual(['payment-card']);
    }
    expect(await dlp(xlsx([['memo'], ['TOP-SECRET']]))).toEqual(['keyword:top-secret']);
  });

  it('keeps cells apart and reads shared strings no cell refers to', async () => {
    expect(await dlp(xlsx([['TOP-', 'SECRET']]))).toEqual([]);
    const orphan = zip([
      { name: 'xl/worksheets/sheet1.xml', data: '<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>' },
      { name: 'xl/sharedStrings.xml', data: '<sst><si><t>hello</t></si><si><r><t>TOP-</t></r><r><t>SECRET</t></r></si></sst>' },
    ]);
    expect(await dlp(orphan)).toEqual(['keyword:top-secret']);
  });
  it('reads a workbook as Excel and other writers put it (x: prefixes, styles, shared formulas, extLst), in chunks of any size', async () => {
    const S = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
    const sheet =
      `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n<x:worksheet xmlns:x="${S}"><x:dimension ref="A1:D3"/><x:sheetData>` +
      '<x:row r="1" spans="1:4"><x:c r="A1" s="1" t="s"><x:v>0</x:v></x:c><x:c r="D1" s="1" t="s"><x:v>1</x:v></x:c></x:row>' +
      '<x:row r="2"><x:c r="B2" s="3"><x:f t="shared" ref="B2:B3" si="0">A2*2</x:f><x:v>4</x:v></x:c><x:c r="C2" s="2" t="s"><x:v>2</x:v></x:c></x:row>' +
      '<x:row r="3"><x:c r="B3" s="3"><x:f t="shared" si="0"/><x:v>6</x:v></x:c><x:c r="D3" t="inlineStr"><x:is><x:t>note &amp; TOP-SECRET</x:t></x:is></x:c></x:row>' +
      '</x:sheetData><x:extLst><x:ext uri="{78C0D931-6437-407d-A8EE-F0AAD7539E65}"/></x:extLst></x:worksheet>';
    const strings = `<x:sst xmlns:x="${S}" count="3" uniqueCount="3"><x:si><x:t>TOP-</x:t></x:si><x:si><x:t>SECRET</x:t></x:si><x:si><x:r><x:rPr><x:b/></x:rPr><x:t xml:space="preserve">card ${CARD.slice(0, 9)}</x:t></x:r><x:r><x:t>${CARD.slice(9)}</x:t></x:r><x:rPh sb="0" eb="1"><x:t>1234</x:t></x:rPh></x:si></x:sst>`;
    const book = zip([
      { name: 'xl/worksheets/sheet1.xml', data: sheet },
      { name: 'xl/sharedStrings.xml', data: strings },
    ]);
    for (const size of [book.length, 1, 2, 3, 5, 7, 64]) {
      expect((await scan(chunked(book, size), { content: octets, icapServer: keyword })).sort(), `chunks of ${size}`).toEqual(['keyword:top-secret', 'payment-card']);
    }
    // TOP- (A1) and SECRET (D1) stay in their columns: only the inline cell says TOP-SECRET.
    const apart = zip([
      { name: 'xl/worksheets/sheet1.xml', data: sheet.replace('note &amp; TOP-SECRET', 'note') },
      { name: 'xl/sharedStrings.xml', data: strings.replace(/card [^<]*|\d{4} \d{4}/g, 'x') },
    ]);
    expect(await scan(apart, { content: octets, icapServer: keyword })).toEqual([]);
  });
});

describe('ODF', () => {
  it('reads an odt (spans joined) and an ods (cells as TSV)', async () => {
    const odt = zip([
      { name: 'mimetype', data: 'application/vnd.oasis.opendocument.text', method: 0 },
      { name: 'content.xml', data: '<office:document-content xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><text:p>memo: <text:span>TOP-</text:span>SECRET<text:s/>plans</text:p></office:body></office:document-content>' },
    ]);
    expect(await dlp(odt)).toEqual(['keyword:top-secret']);
    const ods = zip([
      { name: 'mimetype', data: 'application/vnd.oasis.opendocument.spreadsheet', method: 0 },
      { name: 'content.xml', data: `<office:document-content><table:table><table:table-row><table:table-cell><text:p>Card number</text:p></table:table-cell><table:table-cell><text:p>Expiry</text:p></table:table-cell></table:table-row><table:table-row><table:table-cell><text:p>${CARD}</text:p></table:table-cell><table:table-cell><text:p>12/29</text:p></table:table-cell></table:table-row></table:table></office:document-content>` },
    ]);
    expect(await dlp(ods)).toEqual(['payment-card']);
  });

  it('reports a password-protected ODF document (encryption-data in its manifest)', async () => {
    const manifest = '<manifest:manifest><manifest:file-entry manifest:full-path="content.xml"><manifest:encryption-data manifest:checksum-type="SHA1/1K"/></manifest:file-entry></manifest:manifest>';
    const odt = zip([
      { name: 'mimetype', data: 'application/vnd.oasis.opendocument.text', method: 0 },
      { name: 'content.xml', data: Buffer.from([0x13, 0x99, 0x42, 0x07, 0xfe]), method: 0 },
      { name: 'META-INF/manifest.xml', data: manifest },
    ]);
    expect(await dlp(odt)).toEqual(['encrypted-content']);
    expect(await dlp(zip([{ name: 'META-INF/manifest.xml', data: '<manifest:manifest><manifest:file-entry manifest:full-path="/"/></manifest:manifest>' }]))).toEqual([]);
  });
});

describe('HTML, XML and RTF', () => {
  it('strips tags, decodes entities, joins inline elements and reads form values', async () => {
    expect(await dlp('<!DOCTYPE html><p>memo: TOP&#45;<b>SECRET</b> &amp; more</p>')).toEqual(['keyword:top-secret']);
    expect(await dlp('<html><body><input name="c" value="TOP-SECRET"></body></html>', 'text/html')).toEqual(['keyword:top-secret']);
    expect(await dlp('<html><body><div>TOP-</div><div>SECRET</div><style>.x{}</style></body></html>')).toEqual([]);
  });

  it('separates the fields of a data file, decodes entities and CDATA', async () => {
    expect(await dlp('<?xml version="1.0"?><r><a>TOP-</a><b>SECRET</b></r>')).toEqual([]);
    expect(await dlp('<?xml version="1.0"?><r><note>TOP&#x2D;SECRET</note></r>')).toEqual(['keyword:top-secret']);
    expect(await dlp('<r><![CDATA[memo TOP-SECRET]]></r>', 'application/xml')).toEqual(['keyword:top-secret']);
  });

  it('tokenizes tags whose quoted attribute values hold ">" and the other quote, at any chunk size', () => {
    const xml = `<w:root><w:a title="x > y" alt='it"s'>one</w:a ><b x='a>b' y='c'>two</b><c q="'>'" r="">three</c><d/></w:root  >`;
    for (const size of [1, 3, xml.length]) {
      const events: string[] = [];
      const text = (t: string) => {
        // Text cut by a chunk boundary arrives in pieces.
        if (/^[a-z]/.test(events[events.length - 1] ?? '')) events.push(`${events.pop()}${t}`);
        else events.push(t);
      };
      const tokenizer = new XmlTokenizer({ open: (name, _tag, self) => events.push(`<${name}${self ? '/' : ''}`), close: (name) => events.push(`>${name}`), text });
      for (let at = 0; at < xml.length; at += size) tokenizer.write(xml.slice(at, at + size));
      tokenizer.end();
      expect(events.join(' '), `chunks of ${size}`).toBe('<root <a one >a <b two >b <c three >c <d/ >d >root');
    }
  });

  it('reads RTF text: control words, hex and Unicode escapes, skipped destinations', async () => {
    const rtf = String.raw`{\rtf1\ansi\ansicpg1252{\fonttbl{\f0 TOP-SECRET Font;}}{\*\generator TOP-SECRET;}\pard memo: TOP\'2d{\b SECRET}\par\u8364?100}`;
    expect(await dlp(rtf)).toEqual(['keyword:top-secret']);
    expect(await dlp(String.raw`{\rtf1{\fonttbl{\f0 TOP-SECRET;}}\pard nothing\par}`)).toEqual([]);
  });
});

describe('text encodings', () => {
  const text = 'memo: TOP-SECRET plans for the merger, see attachment.';
  it.each([
    ['UTF-16LE with BOM', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')])],
    ['UTF-16LE without BOM', Buffer.from(text, 'utf16le')],
    ['UTF-16BE without BOM', Buffer.from(text, 'utf16le').swap16()],
    ['UTF-32LE with BOM', Buffer.from([0xff, 0xfe, 0, 0, ...[...text].flatMap((c) => [c.charCodeAt(0), 0, 0, 0])])],
    ['UTF-32BE without BOM', Buffer.from([...text].flatMap((c) => [0, 0, 0, c.charCodeAt(0)]))],
  ])('reads %s', async (_, body) => {
    expect(await dlp(body)).toEqual(['keyword:top-secret']);
  });

  it('reads the UTF-16 and the 8-bit text of a legacy Office file (compound file), and reports an encrypted OOXML one', async () => {
    const header = Buffer.concat([Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), Buffer.alloc(504)]);
    expect(await dlp(Buffer.concat([header, Buffer.from('memo: TOP-SECRET plans', 'utf16le'), Buffer.alloc(64)]))).toEqual(['keyword:top-secret']);
    expect(await dlp(Buffer.concat([header, Buffer.from('memo: TOP-SECRET plans', 'latin1'), Buffer.alloc(64)]))).toEqual(['keyword:top-secret']);
    const directory = Buffer.alloc(128);
    directory.write('EncryptedPackage', 0, 'utf16le');
    expect(await dlp(Buffer.concat([header, Buffer.alloc(512), directory]))).toEqual(['encrypted-content']);
    expect(await dlp(Buffer.concat([header, Buffer.alloc(515), directory]))).toEqual([]);
  });

  it('reads HTML in UTF-16 and text in a declared charset', async () => {
    expect(await dlp(Buffer.from('<html><body><p>memo TOP-<i>SECRET</i></p></body></html>', 'utf16le'), 'text/html; charset=utf-16le')).toEqual(['keyword:top-secret']);
    expect(await scan(Buffer.from('memo TOP\u2010SECRET'.replace('\u2010', '-'), 'latin1'), { content: { contentType: 'text/plain; charset=windows-1252' }, icapServer: keyword })).toEqual(['keyword:top-secret']);
    expect(await scan(Buffer.from([0x54, 0x4f, 0x50, 0x96, 0x53]), { content: octets, icapServer: { detectors: { keywords: [{ name: 'dash', words: ['TOP\u2013S'] }] } } })).toEqual([]);
    expect(await scan(Buffer.from([0x54, 0x4f, 0x50, 0x96, 0x53]), { content: { contentType: 'text/plain; charset=windows-1252' }, icapServer: { detectors: { keywords: [{ name: 'dash', words: ['TOP\u2013S'] }] } } })).toEqual(['keyword:dash']);
  });
});

describe('PDF', () => {
  const lines = ['Quarterly notes', 'memo: TOP-SECRET plans for the merger'];
  it.each([
    ['Flate content streams', {}],
    ['ASCII85 over Flate', { filter: 'a85-flate' as const }],
    ['uncompressed content', { filter: 'none' as const }],
    ['a subset font readable only through its ToUnicode map (written last)', { toUnicode: true }],
    ['fonts in an object stream', { toUnicode: true, objectStream: true }],
    ['/Length as an indirect object', { indirectLength: true }],
  ])('reads the text of %s, at any chunk size', async (_, options) => {
    const body = pdf([['cover page'], lines], options);
    for (const size of [7, 1000, body.length]) expect(await scan(chunked(body, size), { content: octets, icapServer: keyword })).toEqual(['keyword:top-secret']);
    expect(await dlp(pdf([['memo: TOP-', 'SECRET']], options))).toEqual([]);
  });

  it('reads a card number shown in a subset font', async () => {
    expect(await dlp(pdf([[`my card is ${CARD}, exp 12/29`]], { toUnicode: true }))).toEqual(['payment-card']);
    // Without its map the same codes are not text.
    const unmapped = Buffer.from(pdf([[`my card is ${CARD}, exp 12/29`]], { toUnicode: true, filter: 'none' }).toString('latin1').replace('beginbfrange', 'beginbfxxxxx'), 'latin1');
    expect(await dlp(unmapped)).toEqual([]);
    expect(await dlp(Buffer.from(unmapped.toString('latin1').replace('beginbfxxxxx', 'beginbfrange'), 'latin1'))).toEqual(['payment-card']);
  });

  it('opens embedded files and reports an encrypted PDF', async () => {
    expect(await dlp(pdf([['see attachment']], { attachment: zip([{ name: 'plan.txt', data: 'memo: TOP-SECRET' }]) }))).toEqual(['keyword:top-secret']);
    expect(await dlp(pdf([lines], { encrypt: true }))).toEqual(['encrypted-content']);
  });

  it('reads hex strings with white space, lower case and an odd last digit', () => {
    const parser = new ContentTextParser();
    parser.write(Buffer.from('BT /F2 9 Tf <54 4f 50 2D> Tj [<534543524554> -300 <706c616e7>] TJ ET'));
    parser.end();
    const { codes, runs, fonts } = parser.shown;
    expect(fonts[runs[0] as number]).toBe('F2');
    expect([...runs]).toEqual([runs[0], 10, WORD_GAP, 10, runs[0], 15]);
    expect(Buffer.from(codes.bytes).toString('latin1')).toBe('TOP-SECRETplanp');
  });

  it('reads objects and streams longer than its first look at the buffered bytes, at any chunk size', async () => {
    const filler = Array.from({ length: 400 }, (_, i) => `line ${i} of the quarterly notes, nothing to see`);
    for (const options of [{ filter: 'none' as const }, {}]) {
      const body = pdf([filler, [...filler, 'memo: TOP-SECRET plans']], options);
      for (const size of [7, 4096, 65536, body.length]) expect(await scan(chunked(body, size), { content: octets, icapServer: keyword })).toEqual(['keyword:top-secret']);
    }
  });

  it('stops a content stream that inflates past the ratio limit', async () => {
    expect(await dlp(pdf([['x'.repeat(8 * 1024 * 1024)]]))).toEqual(['decode-limit:ratio']);
  });
});

describe('text that office documents keep outside their cells and runs', () => {
  const S = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
  const workbook = (parts: Array<{ name: string; data: string }>, sheetExtra = '') =>
    zip([
      { name: 'xl/workbook.xml', data: `<workbook xmlns="${S}"><sheets><sheet name="S" sheetId="1"/></sheets></workbook>` },
      { name: 'xl/worksheets/sheet1.xml', data: `<worksheet xmlns="${S}"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>hello</t></is></c></row></sheetData>${sheetExtra}</worksheet>` },
      ...parts,
    ]);

  it('reads a sheet’s page header and footer', async () => {
    for (const element of ['oddHeader', 'evenFooter', 'firstHeader']) {
      const body = workbook([], `<headerFooter><${element}>&amp;LConfidential TOP-SECRET&amp;R&amp;P</${element}></headerFooter>`);
      for (const size of [body.length, 7]) expect(await scan(chunked(body, size), { content: octets, icapServer: keyword })).toEqual(['keyword:top-secret']);
    }
  });

  it('reads a formula’s string literals, whatever value it caches, and data validation lists', async () => {
    const sheet = (cells: string, extra = '') =>
      zip([{ name: 'xl/worksheets/sheet1.xml', data: `<worksheet xmlns="${S}"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>hello</t></is></c>${cells}</row></sheetData>${extra}</worksheet>` }]);
    const hidden = [
      sheet(`<c r="B1"><f>LEN("card ${CARD} exp 05/28")</f><v>29</v></c>`),
      sheet(`<c r="B1" t="str"><f>"card ${CARD}"&amp;" exp 05/28"</f></c>`),
      sheet('', `<dataValidations count="1"><dataValidation type="list" sqref="B1"><formula1>"card ${CARD} exp 05/28,none"</formula1></dataValidation></dataValidations>`),
      sheet('', `<extLst><ext uri="{CCE6A557}"><x14:dataValidations xmlns:x14="x14" xmlns:xm="xm"><x14:dataValidation type="list"><x14:formula1><xm:f>"card ${CARD} exp 05/28"</xm:f></x14:formula1></x14:dataValidation></x14:dataValidations></ext></extLst>`),
    ];
    for (const body of hidden) for (const size of [body.length, 7]) expect(await scan(chunked(body, size), { content: octets })).toEqual(['payment-card']);
    // Ordinary formulas, numbers in them and cached values next to each other find nothing.
    const ordinary = sheet(`<c r="B1"><f>SUM(C1:C9)*4111</f><v>41110</v></c><c r="C1"><f t="shared" ref="C1:C9" si="0">A1*1111</f><v>1111</v></c><c r="D1"><f t="shared" si="0"/><v>1111</v></c>`);
    expect(await scan(ordinary, { content: octets })).toEqual([]);
  });

  it('reads a pivot cache: its string items and its field names (a copy of the source data)', async () => {
    const definition = `<pivotCacheDefinition xmlns="${S}"><cacheFields count="1"><cacheField name="Card number"><sharedItems><s v="${CARD.replace(/ /g, '')}"/><s v="TOP-SECRET"/></sharedItems></cacheField></cacheFields></pivotCacheDefinition>`;
    const found = await dlp(workbook([{ name: 'xl/pivotCache/pivotCacheDefinition1.xml', data: definition }]));
    expect(found).toEqual(expect.arrayContaining(['keyword:top-secret', 'payment-card']));
  });

  it('reads the alt text and title of a picture in a drawing part', async () => {
    const drawing = `<xdr:wsDr xmlns:xdr="x" xmlns:a="a"><xdr:pic><xdr:nvPicPr><xdr:cNvPr id="2" name="Picture 1" descr="scan of the TOP-SECRET memo"/></xdr:nvPicPr></xdr:pic></xdr:wsDr>`;
    expect(await dlp(workbook([{ name: 'xl/drawings/drawing1.xml', data: drawing }]))).toEqual(['keyword:top-secret']);
  });

  it('reads the alt text of pictures in a Word document or a slide, whatever cuts the tag', async () => {
    const W = 'http://schemas.openxmlformats.org/wordprocessingml/2006/main';
    const word = `<w:document xmlns:w="${W}"><w:body><w:p><w:r><w:t>hello</w:t></w:r><w:r><w:drawing><wp:inline xmlns:wp="wp"><wp:docPr id="1" name="Picture 1" descr="scan of the TOP-SECRET memo"/></wp:inline></w:drawing></w:r></w:p><w:p><w:r><w:drawing><wp:inline xmlns:wp="wp"><wp:docPr id="2" name="Picture 2"\ndescr="card ${CARD}" title="x"/></wp:inline></w:drawing></w:r></w:p></w:body></w:document>`;
    const slide = `<p:sld xmlns:p="p" xmlns:a="a"><p:cSld><p:spTree><p:pic><p:nvPicPr><p:cNvPr id="4" name="Picture 3" descr="TOP-SECRET &amp; card ${CARD}"/></p:nvPicPr></p:pic></p:spTree></p:cSld></p:sld>`;
    for (const [name, data] of [['word/document.xml', word], ['ppt/slides/slide1.xml', slide]] as const) {
      const body = zip([{ name, data }]);
      for (const size of [body.length, 1, 5, 64]) {
        expect(await scan(chunked(body, size), { content: octets, icapServer: keyword }), `${name} in chunks of ${size}`).toEqual(expect.arrayContaining(['keyword:top-secret', 'payment-card']));
      }
    }
  });

  it('keeps pivot items apart: two numbers never read as one', async () => {
    const definition = `<pivotCacheDefinition xmlns="${S}"><cacheFields count="1"><cacheField name="ids"><sharedItems><s v="41111111"/><s v="11111111"/></sharedItems></cacheField></cacheFields></pivotCacheDefinition>`;
    expect(await scan(workbook([{ name: 'xl/pivotCache/pivotCacheDefinition1.xml', data: definition }]), { content: octets })).toEqual([]);
  });
});
