// Every document of documents.ts in every format the built-in service must read, with the media
// type a browser or an API client sends for it. A document that is a file (the EICAR test file)
// exists only in the formats that can carry a file: itself, archives, compressed files, mail and
// base64 in JSON.
import type { Doc } from './documents.js';
import { bzip2, gzip, tar, xz } from './writers/archive-writers.js';
import { docx, ods, odt, pptx, xlsx, type Cell } from './writers/office-writers.js';
import { pdf } from './writers/pdf-writer.js';
import { base64Json, eml, html, rtf, utf16 } from './writers/text-writers.js';
import { zip } from './writers/zip-writer.js';

export interface Rendered {
  bytes: Buffer;
  contentType: string;
  fileName: string;
}

const OOXML = 'application/vnd.openxmlformats-officedocument';

/** Lines of at most `width` characters, broken at spaces but never between two groups of digits or capitals (a printed card or IBAN stays whole). */
function wrap(text: string, width = 100): string[] {
  const lines: string[] = [];
  let rest = text;
  while (rest.length > width) {
    let at = width;
    while (at > 20 && !(rest[at] === ' ' && !(/[0-9A-Z]/.test(rest[at - 1] ?? '') && /[0-9A-Z]/.test(rest[at + 1] ?? '')))) at--;
    if (at <= 20) at = rest.indexOf(' ', width) < 0 ? rest.length : rest.indexOf(' ', width);
    lines.push(rest.slice(0, at));
    rest = rest.slice(at + 1);
  }
  if (rest !== '') lines.push(rest);
  return lines;
}

const delimited = (table: Cell[][], delimiter: string) => table.map((row) => row.map(String).join(delimiter)).join('\n');

/** The document as plain text: paragraphs apart, a table as TSV (or CSV when its kind says so). */
export function plainText(doc: Doc): string {
  if (doc.table) return `${delimited(doc.table, doc.kind.endsWith('csv') ? ',' : '\t')}\n`;
  return `${doc.paragraphs.join('\n\n')}\n`;
}

/** Paragraph-like lines for the word-processing formats: a table's rows with tabs between cells. */
const lines = (doc: Doc) => (doc.table ? doc.table.map((row) => row.map(String).join('\t')) : doc.paragraphs);

/** Rows for the spreadsheet formats: a table as it is, prose as dated notes. */
const rows = (doc: Doc): Cell[][] => doc.table ?? [['Date', 'Owner', 'Notes'], ...doc.paragraphs.map((p, i) => [`2024-05-${String(10 + i).padStart(2, '0')}`, 'J. Roe', p] as Cell[])];

function htmlOf(doc: Doc): Buffer {
  if (!doc.table) return html(doc.paragraphs);
  const cells = doc.table.map((row, r) => `<tr>${row.map((c) => (r === 0 ? `<th>${c}</th>` : `<td>${c}</td>`)).join('')}</tr>`).join('\n');
  return Buffer.from(`<!DOCTYPE html>\n<html><body><table class="export">\n${cells}\n</table></body></html>\n`);
}

type Renderer = (doc: Doc, index: number) => Rendered | undefined;

/** The entries an archive holds: a readme, and the document (as text, or as a Word file every other time: a container in a container). */
function entries(doc: Doc, index: number): Array<{ name: string; data: Buffer }> {
  const readme = { name: 'README.txt', data: Buffer.from('Export from the shared drive, see the notes inside.\n') };
  if (doc.file) return [readme, { name: `tools/${doc.file.name}`, data: doc.file.data }];
  return [readme, index % 2 ? { name: 'notes/notes.docx', data: docx(lines(doc)) } : { name: 'notes/notes.txt', data: Buffer.from(plainText(doc)) }];
}

const textOnly = (render: (doc: Doc, index: number) => Rendered): Renderer => (doc, index) => (doc.file ? undefined : render(doc, index));

export const FORMATS: Record<string, Renderer> = {
  txt: (doc) =>
    doc.file
      ? { bytes: doc.file.data, contentType: 'application/octet-stream', fileName: doc.file.name }
      : { bytes: Buffer.from(plainText(doc)), contentType: doc.table ? (doc.kind.endsWith('csv') ? 'text/csv' : 'text/tab-separated-values') : 'text/plain', fileName: 'notes.txt' },
  html: textOnly((doc) => ({ bytes: htmlOf(doc), contentType: 'text/html; charset=utf-8', fileName: 'notes.html' })),
  'utf16le-bom': textOnly((doc) => ({ bytes: utf16(plainText(doc), 'le-bom'), contentType: 'text/plain', fileName: 'notes.txt' })),
  'utf16be': textOnly((doc) => ({ bytes: utf16(plainText(doc), 'be'), contentType: 'text/plain', fileName: 'notes.txt' })),
  rtf: textOnly((doc) => ({ bytes: rtf(lines(doc)), contentType: 'application/rtf', fileName: 'notes.rtf' })),
  docx: textOnly((doc, i) => {
    const all = lines(doc);
    // Every third document keeps its last paragraph in a comment.
    const comment = i % 3 === 2 && !doc.table && all.length > 1 ? all.at(-1) : undefined;
    return { bytes: docx(comment === undefined ? all : all.slice(0, -1), comment === undefined ? {} : { comment }), contentType: `${OOXML}.wordprocessingml.document`, fileName: 'notes.docx' };
  }),
  xlsx: textOnly((doc) => ({ bytes: xlsx(rows(doc)), contentType: `${OOXML}.spreadsheetml.sheet`, fileName: 'export.xlsx' })),
  pptx: textOnly((doc) => {
    const all = lines(doc);
    const slides: string[][] = [];
    for (let k = 0; k < all.length; k += 4) slides.push(all.slice(k, k + 4));
    // The last slide's text goes into the speaker notes of the slide before it.
    const last = slides.length > 1 ? (slides.pop() as string[]) : undefined;
    const notes = last === undefined ? [] : slides.map((_, k) => (k === slides.length - 1 ? last.join('\n') : 'Talk track.'));
    return { bytes: pptx(slides, notes), contentType: `${OOXML}.presentationml.presentation`, fileName: 'deck.pptx' };
  }),
  odt: textOnly((doc) => ({ bytes: odt(lines(doc)), contentType: 'application/vnd.oasis.opendocument.text', fileName: 'notes.odt' })),
  ods: textOnly((doc) => ({ bytes: ods(rows(doc)), contentType: 'application/vnd.oasis.opendocument.spreadsheet', fileName: 'export.ods' })),
  pdf: textOnly((doc) => ({ bytes: pdf(pages(doc)), contentType: 'application/pdf', fileName: 'notes.pdf' })),
  'pdf-objstm': textOnly((doc) => ({ bytes: pdf(pages(doc), { objectStreams: true }), contentType: 'application/pdf', fileName: 'notes.pdf' })),
  eml: (doc, i) => {
    const body = doc.file || i % 2 ? 'Hi John,\nplease see the attachment.\nRegards, Jane' : plainText(doc);
    const attachments = doc.file
      ? [{ name: doc.file.name, type: 'application/octet-stream', data: doc.file.data }]
      : i % 2
        ? [{ name: 'notes.docx', type: `${OOXML}.wordprocessingml.document`, data: docx(lines(doc)) }]
        : [];
    return { bytes: eml('Notes from the meeting', body, attachments), contentType: 'message/rfc822', fileName: 'notes.eml' };
  },
  zip: (doc, i) => ({ bytes: zip(entries(doc, i)), contentType: 'application/zip', fileName: 'export.zip' }),
  zip64: (doc, i) => ({ bytes: zip(entries(doc, i).map((e) => ({ ...e, method: 'store' as const })), { zip64: true }), contentType: 'application/zip', fileName: 'export.zip' }),
  tar: (doc, i) => ({ bytes: tar(entries(doc, i)), contentType: 'application/x-tar', fileName: 'export.tar' }),
  gz: (doc) => ({ bytes: gzip(doc.file?.data ?? Buffer.from(plainText(doc))), contentType: 'application/gzip', fileName: 'notes.txt.gz' }),
  bz2: (doc) => ({ bytes: bzip2(doc.file?.data ?? Buffer.from(plainText(doc))), contentType: 'application/x-bzip2', fileName: 'notes.txt.bz2' }),
  xz: (doc) => ({ bytes: xz(doc.file?.data ?? Buffer.from(plainText(doc))), contentType: 'application/x-xz', fileName: 'notes.txt.xz' }),
  'json-base64': (doc) => ({ bytes: base64Json({ name: doc.file?.name ?? 'notes.txt', type: doc.file ? 'application/octet-stream' : 'text/plain', data: doc.file?.data ?? Buffer.from(plainText(doc)) }, false), contentType: 'application/json', fileName: 'upload.json' }),
  'json-dataurl': (doc) =>
    doc.file
      ? { bytes: base64Json({ name: doc.file.name, type: 'application/octet-stream', data: doc.file.data }, true), contentType: 'application/json', fileName: 'upload.json' }
      : { bytes: base64Json({ name: 'notes.pdf', type: 'application/pdf', data: pdf(pages(doc)) }, true), contentType: 'application/json', fileName: 'upload.json' },
};

/** PDF pages of 45 lines, each paragraph wrapped at 100 characters; a table's cells three spaces apart. */
function pages(doc: Doc): string[][] {
  const all = doc.table ? doc.table.map((row) => row.map(String).join('   ')) : doc.paragraphs.flatMap((p) => p.split('\n').flatMap((line) => wrap(line)));
  const out: string[][] = [];
  for (let k = 0; k < all.length; k += 45) out.push(all.slice(k, k + 45));
  return out.length > 0 ? out : [[]];
}

export const FORMAT_NAMES = Object.keys(FORMATS);
