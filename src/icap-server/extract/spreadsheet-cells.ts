// SpreadsheetML worksheets (ECMA-376 Part 1 §18.3) read as TSV: one line per `<row>`, cells in
// their columns (the `r` reference keeps a header over its values when cells are left out), text
// cells resolved through the shared string table (§18.4), formulas left out (their cached value
// `<v>` is read). Excel writes sharedStrings.xml after the worksheets, so a sheet read before it
// is kept as compact rows, within MAX_HELD_CHARS for the whole workbook, and written out once the
// table is known (or unresolved, as indices, when it never comes or the workbook is too big).
// Shared strings no cell refers to are scanned at the end, so nothing in the table goes unread.
import { attribute, type XmlHandler } from './xml-tokenizer.js';

/** Characters of held rows and shared strings kept for one workbook. */
export const MAX_HELD_CHARS = 8 * 1024 * 1024;

/** A held cell: its text, or the index of a shared string. */
type HeldCell = string | number;

function columnIndex(ref: string | undefined): number | undefined {
  if (ref === undefined) return undefined;
  let col = 0;
  let i = 0;
  for (; i < ref.length; i++) {
    const c = ref.charCodeAt(i);
    if (c < 65 || c > 90) break;
    col = col * 26 + (c - 64);
  }
  return i === 0 ? undefined : col - 1;
}

export class Workbook {
  strings: string[] | undefined;
  /** Past the held limit: shared strings are scanned as they come, cells keep their indices. */
  overflow = false;
  private referenced: Uint8Array | undefined;
  private heldChars = 0;

  hold(chars: number): boolean {
    this.heldChars += chars;
    if (this.heldChars > MAX_HELD_CHARS) this.overflow = true;
    return !this.overflow;
  }

  setStrings(strings: string[]): void {
    this.strings = strings;
    this.referenced = new Uint8Array(strings.length);
  }

  resolve(index: number): string {
    const s = this.strings?.[index];
    if (s === undefined) return String(index);
    (this.referenced as Uint8Array)[index] = 1;
    return s;
  }

  /** Shared strings that no cell read, one per line. */
  unreferenced(): string {
    const strings = this.strings ?? [];
    return strings.filter((_, i) => this.referenced?.[i] !== 1).join('\n');
  }
}

/** One worksheet: rows of cells, rendered at once when strings are known, else held. */
const HEADER_FOOTER = new Set(['oddHeader', 'oddFooter', 'evenHeader', 'evenFooter', 'firstHeader', 'firstFooter']);

export class SheetHandler implements XmlHandler {
  private out = '';
  private held: HeldCell[][] | undefined;
  private row: HeldCell[] = [];
  private cellType = '';
  private cellColumn: number | undefined;
  private value = '';
  private inValue = false;
  private inFormula = false;
  /** Inside a page header or footer (ECMA-376 §18.3.1.46): text printed on every page. */
  private inHeaderFooter = false;

  constructor(private readonly workbook: Workbook) {
    if (workbook.strings === undefined && !workbook.overflow) this.held = [];
  }

  open(name: string, tag: string): void {
    if (name === 'c') {
      this.cellType = attribute(tag, 't') ?? 'n';
      this.cellColumn = columnIndex(attribute(tag, 'r'));
      this.value = '';
    } else if (name === 'v' || name === 't') {
      this.inValue = true;
    } else if (name === 'f') {
      this.inFormula = true;
    } else if (HEADER_FOOTER.has(name)) {
      this.inHeaderFooter = true;
    }
  }

  close(name: string): void {
    if (HEADER_FOOTER.has(name)) {
      this.inHeaderFooter = false;
      this.out += '\n';
    } else if (name === 'v' || name === 't') this.inValue = false;
    else if (name === 'f') this.inFormula = false;
    else if (name === 'c') this.cell();
    else if (name === 'row') this.endRow();
  }

  text(text: string): void {
    if (this.inValue && !this.inFormula) this.value += text;
    else if (this.inHeaderFooter) this.out += text;
  }

  private cell(): void {
    const column = this.cellColumn;
    if (column !== undefined && column < 16_384) while (this.row.length < column) this.row.push('');
    const shared = this.cellType === 's' ? Number.parseInt(this.value, 10) : Number.NaN;
    this.row.push(Number.isNaN(shared) ? this.value : shared);
  }

  private endRow(): void {
    const row = this.row;
    this.row = [];
    if (this.held !== undefined) {
      const chars = row.reduce<number>((n, c) => n + (typeof c === 'string' ? c.length + 1 : 8), 0);
      if (this.workbook.hold(chars)) {
        this.held.push(row);
        return;
      }
      // Too big to hold: what was held goes out now, with indices for shared strings.
      this.out += this.held.map((r) => this.render(r)).join('');
      this.held = undefined;
    }
    this.out += this.render(row);
  }

  private render(row: HeldCell[]): string {
    return `${row.map((c) => (typeof c === 'number' ? this.workbook.resolve(c) : c)).join('\t')}\n`;
  }

  /** Text ready to scan; held rows stay until flushHeld(). */
  take(): string {
    const text = this.out;
    this.out = '';
    return text;
  }

  get holding(): boolean {
    return this.held !== undefined;
  }

  /** The held rows, resolved with whatever the workbook knows now. */
  flushHeld(): string {
    const held = this.held ?? [];
    this.held = undefined;
    if (this.row.length > 0) held.push(this.row.splice(0));
    return held.map((r) => this.render(r)).join('');
  }
}

/** sharedStrings.xml: each `<si>` (its runs joined) becomes one entry of the table. */
export class SharedStringsHandler implements XmlHandler {
  readonly strings: string[] = [];
  private current = '';
  private depth = 0;
  private inText = false;
  private inPhonetic = false;
  /** Strings that did not fit the workbook's held limit, to be scanned directly. */
  private spill = '';

  constructor(private readonly workbook: Workbook) {}

  open(name: string): void {
    if (name === 'si') {
      this.depth++;
      this.current = '';
    } else if (name === 't') this.inText = true;
    else if (name === 'rPh') this.inPhonetic = true;
  }

  close(name: string): void {
    if (name === 't') this.inText = false;
    else if (name === 'rPh') this.inPhonetic = false;
    else if (name === 'si' && this.depth > 0) {
      this.depth--;
      if (!this.workbook.overflow && this.workbook.hold(this.current.length + 8)) this.strings.push(this.current);
      else this.spill += `${this.current}\n`;
    }
  }

  text(text: string): void {
    // Phonetic runs (rPh) repeat the reading of East Asian text: not content of their own.
    if (this.inText && !this.inPhonetic && this.depth > 0) this.current += text;
  }

  take(): string {
    const text = this.spill;
    this.spill = '';
    return text;
  }
}
