// The text of an XML document as a person reads it. Office formats cut a sentence into runs
// (OOXML `<w:r><w:t>`, DrawingML `<a:r><a:t>`, ODF `<text:span>`) wherever the formatting changes,
// so inside a paragraph (`p`, `h`, a shared string `si`, a comment) the runs are joined with no
// separator; paragraphs end a line, table cells end with a tab and rows with a line, so a sheet
// or a Word table reads as TSV. Outside paragraphs every element boundary is a line break, so the
// fields of a data file (`<card>…</card><exp>…</exp>`) never run into each other.
import { StringDecoder } from 'node:string_decoder';
import type { ByteSink } from '../decode/byte-sink.js';
import type { TextSink } from '../decode/text-decoders.js';
import { attribute, type XmlHandler, XmlTokenizer } from './xml-tokenizer.js';

/** Elements whose text runs are joined (local names, any namespace). */
const PARAGRAPHS = new Set(['p', 'h', 'si', 'is', 'text', 'comment', 'annotation', 'title', 'li', 'td', 'th']);
const CELLS = new Set(['tc', 'table-cell', 'covered-table-cell', 'td', 'th']);
const ROWS = new Set(['tr', 'table-row', 'row']);
const LINE_BREAKS = new Set(['br', 'cr', 'line-break', 'soft-page-break']);
const TABS = new Set(['tab', 'ptab']);
/**
 * Attributes whose values are text people wrote, by element: alt text and titles of pictures
 * (DrawingML `docPr`, `cNvPr`); a pivot cache's field names and string items (ECMA-376 §18.10),
 * which keep a copy of the source data even after its sheet is deleted; a workbook's sheet names
 * (§18.2.19); where a relationship points (OPC §9.3, Part 2: a hyperlink's URL, query and all,
 * is the Target of a `.rels` part); and ODF's hyperlinks and table names (ODF 1.2 §6.1.8, §9.1.2).
 */
const TEXT_ATTRIBUTES = new Map<string, readonly string[]>([
  ['docPr', ['descr', 'title']],
  ['cNvPr', ['descr', 'title']],
  ['cacheField', ['name']],
  ['s', ['v']],
  ['sheet', ['name']],
  ['Relationship', ['Target']],
  ['a', ['xlink:href']],
  ['table', ['table:name']],
]);

/** Builds the text of a document into `out`; the caller flushes it after each chunk. */
export class XmlTextHandler implements XmlHandler {
  private parts: string[] = [];
  /** The last character appended (a separator decision must not read back a rope-built string). */
  private last = 0x0a;
  private paragraphDepth = 0;
  private cellDepth = 0;

  private append(text: string): void {
    if (text.length === 0) return;
    this.parts.push(text);
    this.last = text.charCodeAt(text.length - 1);
  }

  private separate(sep: string): void {
    if (this.last === 0x0a || (this.last === 0x09 && sep !== '\n')) return;
    this.append(sep);
  }

  open(name: string, tag: string): void {
    // A Map: an element named `constructor` must not find Object.prototype's.
    const attributes = TEXT_ATTRIBUTES.get(name);
    if (attributes !== undefined) {
      for (const key of attributes) {
        const value = attribute(tag, key);
        if (value === undefined || value === '') continue;
        this.separate('\n');
        this.append(value);
        this.append('\n');
      }
    }
    if (PARAGRAPHS.has(name)) this.paragraphDepth++;
    if (CELLS.has(name)) this.cellDepth++;
    if (this.paragraphDepth === 0) this.separate('\n');
    else if (TABS.has(name)) this.append('\t');
    else if (LINE_BREAKS.has(name)) this.append('\n');
    else if (name === 's') this.append(' ');
  }

  close(name: string): void {
    if (PARAGRAPHS.has(name) && this.paragraphDepth > 0) {
      this.paragraphDepth--;
      // A paragraph inside a table cell continues the cell's text.
      this.separate(this.cellDepth > 0 ? ' ' : '\n');
    } else if (CELLS.has(name)) {
      if (this.cellDepth > 0) this.cellDepth--;
      this.append('\t');
    } else if (ROWS.has(name)) {
      this.append('\n');
    } else if (this.paragraphDepth === 0) {
      this.separate('\n');
    }
  }

  text(text: string): void {
    this.append(text);
  }

  take(): string {
    const text = this.parts.join('');
    this.parts = [];
    return text;
  }
}

/** XML bytes (UTF-8) to text, read with `handler` (office text by default). */
export function xmlText(out: TextSink, handler: XmlHandler & { take(): string } = new XmlTextHandler()): ByteSink {
  const decoder = new StringDecoder('utf8');
  const tokenizer = new XmlTokenizer(handler);
  return {
    async write(chunk) {
      tokenizer.write(decoder.write(chunk));
      const text = handler.take();
      if (text.length > 0) await out.write(text);
    },
    async end() {
      tokenizer.write(decoder.end());
      tokenizer.end();
      const text = handler.take();
      if (text.length > 0) await out.write(text);
      await out.end();
    },
  };
}
