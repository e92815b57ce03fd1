// SpreadsheetML worksheets (ECMA-376 Part 1 §18.3) read as TSV: one line per `<row>`, cells in
// their columns (the `r` reference keeps a header over its values when cells are left out), text
// cells resolved through the shared string table (§18.4, spreadsheet-strings.ts). A formula's text follows its cell's
// cached value (`<v>`), as a string literal in a formula (`=LEN("4111 …")`) shows nowhere else;
// data validation lists and conditional formats (`formula1`, `formula2`, `formula`, §18.3.1.32-33)
// are lines of their own. Excel writes sharedStrings.xml after the worksheets, so a sheet read before it
// is kept as compact rows, within MAX_HELD_CHARS for the whole workbook, and written out once the
// table is known (or unresolved, as indices, when it never comes or the workbook is too big).
// Shared strings no cell refers to are scanned at the end, so nothing in the table goes unread.
import { fill, SheetRows } from './spreadsheet-rows.js';
import type { SharedStrings } from './spreadsheet-strings.js';
import { decodeXmlEntities, type XmlScanHandler } from './xml-tokenizer.js';

// The table's reader, where the readers of a workbook have always been imported from.
export { SharedStringsHandler } from './spreadsheet-strings.js';

/** Characters of held rows and shared strings kept for one workbook. */
export const MAX_HELD_CHARS = 8 * 1024 * 1024;

/**
 * Where the value of the first ` t=` or ` r=` in the tag body s[from, to) starts (after its
 * quote) and ends, as attribute() of xml-tokenizer.ts finds it (the first place the three
 * characters stand), read in place: every cell has these two, and a cell tag is short.
 */
let typeAt = -1;
let typeEnd = -1;
let refAt = -1;
let refEnd = -1;
function cellAttributes(s: string, from: number, to: number): void {
  typeAt = -1;
  refAt = -1;
  for (let k = from; k < to - 2; k++) {
    if (s.charCodeAt(k) !== 0x20 || s.charCodeAt(k + 2) !== 0x3d) continue;
    const c = s.charCodeAt(k + 1);
    if (c === 0x74 /* t */ && typeAt === -1) {
      typeAt = k + 4;
      typeEnd = valueEnd(s, k + 3, to);
      if (typeEnd < 0) typeAt = -2;
    } else if (c === 0x72 /* r */ && refAt === -1) {
      refAt = k + 4;
      refEnd = valueEnd(s, k + 3, to);
      if (refEnd < 0) refAt = -2;
    }
    if (typeAt !== -1 && refAt !== -1) return;
  }
}

/** The end of the value quoted at s[quoteAt] in a tag body that ends at `to`, or -1. */
function valueEnd(s: string, quoteAt: number, to: number): number {
  const quote = s.charCodeAt(quoteAt);
  if (quoteAt >= to || (quote !== 0x22 && quote !== 0x27)) return -1;
  for (let k = quoteAt + 1; k < to; k++) if (s.charCodeAt(k) === quote) return k;
  return -1;
}

/** Whether s[from, to) holds a `&`: an entity reference may stand for the characters read. */
function hasEntity(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (s.charCodeAt(i) === 0x26) return true;
  return false;
}

/** Whether the cell's type `t` (ECMA-376 §18.18.11 ST_CellType) is `s`, a shared string. */
function sharedType(s: string): boolean {
  if (typeAt < 0) return false;
  if (typeEnd - typeAt === 1) return s.charCodeAt(typeAt) === 0x73;
  return hasEntity(s, typeAt, typeEnd) && decodeXmlEntities(s.slice(typeAt, typeEnd)) === 's';
}

/** The column of the cell reference `r` (`BC12` → 54), or undefined. */
function refColumn(s: string): number | undefined {
  if (refAt < 0) return undefined;
  if (!hasEntity(s, refAt, refEnd)) return columnIndex(s, refAt, refEnd);
  const ref = decodeXmlEntities(s.slice(refAt, refEnd));
  return columnIndex(ref, 0, ref.length);
}

/** The column of the letters that open s[from, to) (`A` → 0), or undefined when none do. */
function columnIndex(s: string, from: number, to: number): number | undefined {
  let col = 0;
  let i = from;
  for (; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < 65 || c > 90) break;
    col = col * 26 + (c - 64);
  }
  return i === from ? undefined : col - 1;
}

export class Workbook {
  strings: SharedStrings | undefined;
  /** Past the held limit: shared strings are scanned as they come, cells keep their indices. */
  overflow = false;
  private referenced: Uint8Array | undefined;
  private heldChars = 0;

  hold(chars: number): boolean {
    this.heldChars += chars;
    if (this.heldChars > MAX_HELD_CHARS) this.overflow = true;
    return !this.overflow;
  }

  setStrings(strings: SharedStrings): void {
    this.strings = strings;
    this.referenced = new Uint8Array(strings.length);
  }

  resolve(index: number): string {
    const s = this.strings?.get(index);
    if (s === undefined) return String(index);
    (this.referenced as Uint8Array)[index] = 1;
    return s;
  }

  /** Shared strings that no cell read, one per line. */
  unreferenced(): string {
    const { strings, referenced } = this;
    if (strings === undefined || referenced === undefined) return '';
    const lines: string[] = [];
    for (let i = 0; i < strings.length; i++) if (referenced[i] !== 1) lines.push(strings.get(i) as string);
    return lines.join('\n');
  }
}

const HEADER_FOOTER = new Set(['oddHeader', 'oddFooter', 'evenHeader', 'evenFooter', 'firstHeader', 'firstFooter']);

/** A header or footer element's name (9 to 11 characters long) at s[name, nameEnd). */
function headerFooter(s: string, name: number, nameEnd: number): boolean {
  const length = nameEnd - name;
  return length >= 9 && length <= 11 && HEADER_FOOTER.has(s.slice(name, nameEnd));
}

/** `formula`, `formula1` or `formula2` at s[name, nameEnd): a validation list or a condition. */
function listFormula(s: string, name: number, nameEnd: number): boolean {
  const length = nameEnd - name;
  return length >= 7 && length <= 8 && s.startsWith('formula', name) && (length === 7 || s.charCodeAt(name + 7) === 0x31 || s.charCodeAt(name + 7) === 0x32);
}

/** One worksheet: rows of cells, rendered at once when strings are known, else held. */
export class SheetHandler implements XmlScanHandler {
  wantsText = false;
  private out = '';
  private readonly rows = new SheetRows();
  /** Rows are held until the shared strings are known. */
  private held: boolean;
  private shared = false;
  private cellColumn: number | undefined;
  private value = '';
  private formula = '';
  private inCell = false;
  private inValue = false;
  private inFormula = false;
  /** Inside a page header or footer (ECMA-376 §18.3.1.46): text printed on every page. */
  private inHeaderFooter = false;
  /** Inside a data validation's or conditional format's formula (outside any cell). */
  private inListFormula = false;

  constructor(private readonly workbook: Workbook) {
    this.held = workbook.strings === undefined && !workbook.overflow;
  }

  openAt(s: string, tag: number, name: number, nameEnd: number, tagEnd: number): void {
    if (nameEnd - name === 1) {
      const c = s.charCodeAt(name);
      if (c === 0x63 /* c */) {
        cellAttributes(s, tag, tagEnd);
        this.shared = sharedType(s);
        this.cellColumn = refColumn(s);
        this.value = '';
        this.formula = '';
        this.inCell = true;
      } else if (c === 0x76 /* v */ || c === 0x74 /* t */) this.inValue = true;
      else if (c === 0x66 /* f */) this.inFormula = true;
    } else if (headerFooter(s, name, nameEnd)) this.inHeaderFooter = true;
    else if (listFormula(s, name, nameEnd)) this.inListFormula = true;
    this.wantsText = this.inValue || this.inFormula || this.inHeaderFooter || this.inListFormula;
    if (s.charCodeAt(tagEnd - 1) === 0x2f) this.closeAt(s, name, nameEnd);
  }

  closeAt(s: string, name: number, nameEnd: number): void {
    const length = nameEnd - name;
    const c = s.charCodeAt(name);
    if (length === 1) {
      if (c === 0x76 /* v */ || c === 0x74 /* t */) this.inValue = false;
      else if (c === 0x66 /* f */) {
        this.inFormula = false;
        // A formula outside a cell (in a validation's extension list) is a line of its own.
        if (!this.inCell) this.out += '\n';
      } else if (c === 0x63 /* c */) this.cell();
    } else if (length === 3 && c === 0x72 && s.charCodeAt(name + 1) === 0x6f && s.charCodeAt(name + 2) === 0x77) this.endRow();
    else if (headerFooter(s, name, nameEnd)) {
      this.inHeaderFooter = false;
      this.out += '\n';
    } else if (listFormula(s, name, nameEnd)) {
      this.inListFormula = false;
      this.out += '\n';
    }
    this.wantsText = this.inValue || this.inFormula || this.inHeaderFooter || this.inListFormula;
  }

  text(text: string): void {
    if (this.inFormula) {
      if (this.inCell) this.formula += text;
      else this.out += text;
    } else if (this.inValue) this.value += text;
    else if (this.inHeaderFooter || this.inListFormula) this.out += text;
  }

  private cell(): void {
    this.inCell = false;
    const shared = this.shared ? Number.parseInt(this.value, 10) : Number.NaN;
    if (!Number.isNaN(shared)) this.rows.add(this.cellColumn, shared);
    else this.rows.add(this.cellColumn, this.formula === '' ? this.value : this.value === '' ? this.formula : `${this.value} ${this.formula}`);
  }

  private endRow(): void {
    const rows = this.rows;
    if (this.held) {
      if (this.workbook.hold(rows.chars)) {
        rows.holdLine();
        return;
      }
      // Too big to hold: what was held goes out now, with indices for shared strings.
      this.out += rows.takeHeld(this.workbook);
      this.held = false;
    }
    this.out += rows.takeLine(this.workbook);
  }

  /**
   * Whole rows read by the kernel (spreadsheet-scan.ts), as endRow() takes them: `text` their
   * lines, `rows` a record of three per row (end in text, held chars, holes before its end),
   * `holes` (offset in text, index) pairs. No row is being built here when they come.
   */
  rowsRead(text: string, rows: Int32Array, count: number, holes: Int32Array): void {
    let r = 0;
    if (this.held) {
      while (r < count && this.workbook.hold(rows[3 * r + 1] as number)) r++;
      if (r > 0) this.rows.holdLines(text.slice(0, rows[3 * r - 3]), holes, 0, 2 * (rows[3 * r - 1] as number));
      if (r === count) return;
      this.out += this.rows.takeHeld(this.workbook);
      this.held = false;
    }
    const start = r > 0 ? (rows[3 * r - 3] as number) : 0;
    const from = r > 0 ? 2 * (rows[3 * r - 1] as number) : 0;
    if (count > r) this.out += fill(text, start, rows[3 * count - 3] as number, holes, from, 2 * (rows[3 * count - 1] as number), 2, this.workbook);
  }

  /** Reads on after the kernel: its last cell is this handler's (a stray `</c>` adds it again). */
  resume(shared: boolean, column: number | undefined, value: string): void {
    this.shared = shared;
    this.cellColumn = column;
    this.value = value;
  }

  /** Text ready to scan; held rows stay until flushHeld(). */
  take(): string {
    const text = this.out;
    this.out = '';
    return text;
  }

  get holding(): boolean {
    return this.held;
  }

  /** The held rows, resolved with whatever the workbook knows now. */
  flushHeld(): string {
    this.held = false;
    if (this.rows.cells > 0) this.rows.holdLine();
    return this.rows.takeHeld(this.workbook);
  }
}
