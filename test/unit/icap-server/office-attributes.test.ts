// Office documents keep text people wrote in attributes too, where a reader of element text never
// looks: a workbook's sheet names, a hyperlink's URL (the Target of a relationship, OPC Part 2
// §9.3), ODF hyperlinks and table names. Each carries a card number here, read whole and in chunks
// that cut the tag anywhere; an ordinary package's relationships find nothing.
import { describe, expect, it } from 'vitest';
import { chunked, zip } from './extract-fixtures.js';
import { scan } from './helpers.js';

const CARD = '4111 1111 1111 1111';
const S = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
const R = 'http://schemas.openxmlformats.org/package/2006/relationships';
const octets = { contentType: 'application/octet-stream' };
const sheet = { name: 'xl/worksheets/sheet1.xml', data: `<worksheet xmlns="${S}"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>hello</t></is></c></row></sheetData></worksheet>` };
const rels = (target: string, mode = ' TargetMode="External"') =>
  `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="${R}"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink" Target="${target}"${mode}/></Relationships>`;

async function found(body: Buffer): Promise<string[][]> {
  const out: string[][] = [];
  for (const size of [body.length, 1, 7]) out.push(await scan(chunked(body, size), { content: octets }));
  return out;
}

describe('office attributes that hold text', () => {
  it('reads a workbook’s sheet names', async () => {
    const workbook = { name: 'xl/workbook.xml', data: `<workbook xmlns="${S}"><sheets><sheet name="card ${CARD}" sheetId="1"/></sheets></workbook>` };
    expect(await found(zip([workbook, sheet]))).toEqual([['payment-card'], ['payment-card'], ['payment-card']]);
  });

  it('reads the URL of a hyperlink in a sheet’s or a document’s relationships, percent-encoded or not', async () => {
    for (const [part, url] of [
      ['xl/worksheets/_rels/sheet1.xml.rels', `https://paste.example/?card=${CARD.replace(/ /g, '%20')}`],
      ['word/_rels/document.xml.rels', `https://paste.example/card/${CARD.replace(/ /g, '-')}`],
    ] as const) {
      expect(await found(zip([sheet, { name: part, data: rels(url) }])), part).toEqual([['payment-card'], ['payment-card'], ['payment-card']]);
    }
  });

  it('reads an ODF hyperlink and table name', async () => {
    const ns = 'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:xlink="http://www.w3.org/1999/xlink"';
    const link = `<office:document-content ${ns}><office:body><office:text><text:p>see <text:a xlink:type="simple" xlink:href="https://paste.example/?n=${CARD.replace(/ /g, '%20')}">this</text:a></text:p></office:text></office:body></office:document-content>`;
    const table = `<office:document-content ${ns}><office:body><office:spreadsheet><table:table table:name="card ${CARD}"><table:table-row><table:table-cell><text:p>1</text:p></table:table-cell></table:table-row></table:table></office:spreadsheet></office:body></office:document-content>`;
    for (const [label, content, type] of [['odt', link, 'text'], ['ods', table, 'spreadsheet']] as const) {
      const body = zip([{ name: 'mimetype', data: `application/vnd.oasis.opendocument.${type}`, method: 0 }, { name: 'content.xml', data: content }]);
      expect(await found(body), label).toEqual([['payment-card'], ['payment-card'], ['payment-card']]);
    }
  });

  it('finds nothing in the relationships and sheet names of an ordinary workbook', async () => {
    const workbook = { name: 'xl/workbook.xml', data: `<workbook xmlns="${S}"><sheets><sheet name="Q3 2024" sheetId="1"/><sheet name="4111" sheetId="2"/></sheets></workbook>` };
    const internal = { name: 'xl/_rels/workbook.xml.rels', data: rels('worksheets/sheet1.xml', '') };
    expect(await found(zip([workbook, internal, sheet, { name: 'xl/worksheets/_rels/sheet1.xml.rels', data: rels('https://example.com/report?id=1111111111111111') }]))).toEqual([[], [], []]);
  });
});
