// Office documents as their writers lay them out, so extraction is tested on the hard parts:
// OOXML (ECMA-376) with a sentence split over several runs, proofing marks between them, shared
// strings and inline strings in sheets, speaker notes and comments, line breaks (w:br); ODF (OASIS
// 1.2) with spans, soft spaces (text:s), line breaks and typed cells. Each is a zip from zip-writer.ts.
import { zip, type ZipEntry } from './zip-writer.js';

export type Cell = string | number;

const xml = (text: string) => text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);
const DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';

/** Cuts `text` at a few places (inside words and numbers too), as editing history leaves runs. */
export function splitRuns(text: string, seed: number): string[] {
  const runs: string[] = [];
  let at = 0;
  let s = seed;
  while (at < text.length) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    const len = 3 + (s % 17);
    runs.push(text.slice(at, at + len));
    at += len;
  }
  return runs;
}

const W = 'http://schemas.openxmlformats.org/wordprocessingml/2006/main';
const R = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
const PKG_RELS = 'http://schemas.openxmlformats.org/package/2006/relationships';
const OFFICE_DOC = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument';

function contentTypes(overrides: Array<[string, string]>): string {
  return `${DECL}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>${overrides.map(([part, type]) => `<Override PartName="${part}" ContentType="${type}"/>`).join('')}</Types>`;
}

function rels(list: Array<[id: string, type: string, target: string]>): string {
  return `${DECL}<Relationships xmlns="${PKG_RELS}">${list.map(([id, type, target]) => `<Relationship Id="${id}" Type="${type}" Target="${target}"/>`).join('')}</Relationships>`;
}

/** A Word document: each paragraph in runs, a proofing mark between two of them; `comment` in comments.xml. */
export function docx(paragraphs: readonly string[], options: { comment?: string } = {}): Buffer {
  const body = paragraphs
    .map((p, i) => {
      const runs = splitRuns(p, i + 1).map((r, j) => `<w:r>${j % 3 === 1 ? '<w:rPr><w:b/></w:rPr>' : ''}${r.split('\n').map((t) => `<w:t xml:space="preserve">${xml(t)}</w:t>`).join('<w:br/>')}</w:r>`);
      if (runs.length > 2) runs.splice(2, 0, '<w:proofErr w:type="spellStart"/>');
      return `<w:p><w:pPr><w:pStyle w:val="Normal"/></w:pPr>${runs.join('')}</w:p>`;
    })
    .join('');
  const commentRef = options.comment === undefined ? '' : '<w:p><w:commentRangeStart w:id="0"/><w:r><w:t>See comment.</w:t></w:r><w:commentRangeEnd w:id="0"/><w:r><w:commentReference w:id="0"/></w:r></w:p>';
  const entries: ZipEntry[] = [
    { name: '[Content_Types].xml', data: contentTypes([['/word/document.xml', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml'], ...(options.comment === undefined ? [] : [['/word/comments.xml', 'application/vnd.openxmlformats-officedocument.wordprocessingml.comments+xml'] as [string, string]])]) },
    { name: '_rels/.rels', data: rels([['rId1', OFFICE_DOC, 'word/document.xml']]) },
    { name: 'word/document.xml', data: `${DECL}<w:document xmlns:w="${W}" xmlns:r="${R}"><w:body>${body}${commentRef}<w:sectPr/></w:body></w:document>` },
  ];
  if (options.comment !== undefined) {
    entries.push({ name: 'word/_rels/document.xml.rels', data: rels([['rId5', 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/comments', 'comments.xml']]) });
    entries.push({ name: 'word/comments.xml', data: `${DECL}<w:comments xmlns:w="${W}"><w:comment w:id="0" w:author="Reviewer"><w:p><w:r><w:t xml:space="preserve">${xml(options.comment)}</w:t></w:r></w:p></w:comment></w:comments>` });
  }
  return zip(entries);
}

const colName = (i: number): string => (i < 26 ? String.fromCharCode(65 + i) : colName(Math.floor(i / 26) - 1) + String.fromCharCode(65 + (i % 26)));

/** An Excel workbook of one sheet: strings in the shared string table (every third one inline), numbers as values. */
export function xlsx(rows: readonly (readonly Cell[])[]): Buffer {
  const shared: string[] = [];
  const index = new Map<string, number>();
  let n = 0;
  const sheetRows = rows
    .map((row, r) => {
      const cells = row.map((cell, c) => {
        const ref = `${colName(c)}${r + 1}`;
        if (typeof cell === 'number') return `<c r="${ref}"><v>${cell}</v></c>`;
        if (n++ % 3 === 2) return `<c r="${ref}" t="inlineStr"><is><t>${xml(cell)}</t></is></c>`;
        let at = index.get(cell);
        if (at === undefined) {
          at = shared.push(cell) - 1;
          index.set(cell, at);
        }
        return `<c r="${ref}" t="s"><v>${at}</v></c>`;
      });
      return `<row r="${r + 1}">${cells.join('')}</row>`;
    })
    .join('');
  const S = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
  return zip([
    { name: '[Content_Types].xml', data: contentTypes([['/xl/workbook.xml', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml'], ['/xl/worksheets/sheet1.xml', 'application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml'], ['/xl/sharedStrings.xml', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml']]) },
    { name: '_rels/.rels', data: rels([['rId1', OFFICE_DOC, 'xl/workbook.xml']]) },
    { name: 'xl/workbook.xml', data: `${DECL}<workbook xmlns="${S}" xmlns:r="${R}"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>` },
    { name: 'xl/_rels/workbook.xml.rels', data: rels([['rId1', 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet', 'worksheets/sheet1.xml'], ['rId2', 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings', 'sharedStrings.xml']]) },
    { name: 'xl/worksheets/sheet1.xml', data: `${DECL}<worksheet xmlns="${S}"><sheetData>${sheetRows}</sheetData></worksheet>` },
    { name: 'xl/sharedStrings.xml', data: `${DECL}<sst xmlns="${S}" count="${shared.length}" uniqueCount="${shared.length}">${shared.map((s) => `<si><t xml:space="preserve">${xml(s)}</t></si>`).join('')}</sst>` },
  ]);
}

/** A PowerPoint deck: each slide's lines in runs, and speaker notes per slide. */
export function pptx(slides: readonly (readonly string[])[], notes: readonly string[] = []): Buffer {
  const A = 'http://schemas.openxmlformats.org/drawingml/2006/main';
  const P = 'http://schemas.openxmlformats.org/presentationml/2006/main';
  const para = (text: string, seed: number) =>
    text
      .split('\n')
      .map((line, k) => `<a:p>${splitRuns(line, seed + k).map((r) => `<a:r><a:rPr lang="en-US"/><a:t>${xml(r)}</a:t></a:r>`).join('')}</a:p>`)
      .join('');
  const shape = (lines: readonly string[], seed: number) => `<p:sp><p:nvSpPr><p:cNvPr id="2" name="Body"/><p:cNvSpPr/><p:nvPr/></p:nvSpPr><p:spPr/><p:txBody><a:bodyPr/>${lines.map((l, i) => para(l, seed + i)).join('')}</p:txBody></p:sp>`;
  const entries: ZipEntry[] = [];
  const overrides: Array<[string, string]> = [['/ppt/presentation.xml', 'application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml']];
  const presRels: Array<[string, string, string]> = [];
  slides.forEach((lines, i) => {
    const k = i + 1;
    overrides.push([`/ppt/slides/slide${k}.xml`, 'application/vnd.openxmlformats-officedocument.presentationml.slide+xml']);
    presRels.push([`rId${k}`, 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/slide', `slides/slide${k}.xml`]);
    entries.push({ name: `ppt/slides/slide${k}.xml`, data: `${DECL}<p:sld xmlns:a="${A}" xmlns:p="${P}" xmlns:r="${R}"><p:cSld><p:spTree>${shape(lines, k * 10)}</p:spTree></p:cSld></p:sld>` });
    const note = notes[i];
    if (note !== undefined) {
      overrides.push([`/ppt/notesSlides/notesSlide${k}.xml`, 'application/vnd.openxmlformats-officedocument.presentationml.notesSlide+xml']);
      entries.push({ name: `ppt/slides/_rels/slide${k}.xml.rels`, data: rels([['rId2', 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/notesSlide', `../notesSlides/notesSlide${k}.xml`]]) });
      entries.push({ name: `ppt/notesSlides/notesSlide${k}.xml`, data: `${DECL}<p:notes xmlns:a="${A}" xmlns:p="${P}"><p:cSld><p:spTree>${shape([note], k * 100)}</p:spTree></p:cSld></p:notes>` });
    }
  });
  return zip([
    { name: '[Content_Types].xml', data: contentTypes(overrides) },
    { name: '_rels/.rels', data: rels([['rId1', OFFICE_DOC, 'ppt/presentation.xml']]) },
    { name: 'ppt/presentation.xml', data: `${DECL}<p:presentation xmlns:p="${P}" xmlns:r="${R}"><p:sldIdLst>${slides.map((_, i) => `<p:sldId id="${256 + i}" r:id="rId${i + 1}"/>`).join('')}</p:sldIdLst></p:presentation>` },
    { name: 'ppt/_rels/presentation.xml.rels', data: rels(presRels) },
    ...entries,
  ]);
}

const ODF_NS = 'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" office:version="1.2"';

function odf(mime: string, body: string): Buffer {
  // The mimetype entry comes first and stored (ODF 1.2 part 3 §3.3), so `file` recognises it.
  return zip([
    { name: 'mimetype', data: mime, method: 'store' },
    { name: 'META-INF/manifest.xml', data: `${DECL}<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" manifest:media-type="${mime}"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>` },
    { name: 'content.xml', data: `${DECL}<office:document-content ${ODF_NS}><office:body>${body}</office:body></office:document-content>` },
  ]);
}

/** Runs of two or more spaces become text:s, as ODF writers store them. */
const odfText = (text: string) =>
  xml(text)
    .replace(/ {2,}/g, (s) => ` <text:s text:c="${s.length - 1}"/>`)
    .replace(/\n/g, '<text:line-break/>');

export function odt(paragraphs: readonly string[]): Buffer {
  const body = paragraphs.map((p, i) => `<text:p text:style-name="P1">${splitRuns(p, i + 7).map((r, j) => (j % 2 ? `<text:span text:style-name="T1">${odfText(r)}</text:span>` : odfText(r))).join('')}</text:p>`).join('');
  return odf('application/vnd.oasis.opendocument.text', `<office:text>${body}</office:text>`);
}

export function ods(rows: readonly (readonly Cell[])[]): Buffer {
  const cell = (c: Cell) =>
    typeof c === 'number' ? `<table:table-cell office:value-type="float" office:value="${c}"><text:p>${c}</text:p></table:table-cell>` : `<table:table-cell office:value-type="string"><text:p>${odfText(c)}</text:p></table:table-cell>`;
  const body = rows.map((r) => `<table:table-row>${r.map(cell).join('')}</table:table-row>`).join('');
  return odf('application/vnd.oasis.opendocument.spreadsheet', `<office:spreadsheet><table:table table:name="Sheet1">${body}</table:table></office:spreadsheet>`);
}
