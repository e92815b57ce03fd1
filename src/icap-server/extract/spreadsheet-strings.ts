// The shared string table of a workbook (ECMA-376 Part 1 §18.4): each `<si>` one string, the text
// of its runs joined, phonetic readings left out. Strings are kept within the workbook's held
// limit (spreadsheet-cells.ts) for the sheets that refer to them; past it they are scanned as they come.
import type { Workbook } from './spreadsheet-cells.js';
import type { XmlScanHandler } from './xml-tokenizer.js';

const SI = 1;
const T = 2;
const R_PH = 3;

/** The elements of the shared string table read here, by their local name at s[name, nameEnd). */
function elementOf(s: string, name: number, nameEnd: number): number {
  const length = nameEnd - name;
  const c = s.charCodeAt(name);
  if (length === 1) return c === 0x74 ? T : 0;
  if (length === 2) return c === 0x73 && s.charCodeAt(name + 1) === 0x69 ? SI : 0;
  return length === 3 && c === 0x72 && s.charCodeAt(name + 1) === 0x50 && s.charCodeAt(name + 2) === 0x68 ? R_PH : 0;
}

/** sharedStrings.xml: each `<si>` (its runs joined) becomes one entry of the table. */
export class SharedStringsHandler implements XmlScanHandler {
  readonly strings: string[] = [];
  wantsText = false;
  private current = '';
  private depth = 0;
  private inText = false;
  private inPhonetic = false;
  /** Strings that did not fit the workbook's held limit, to be scanned directly. */
  private spill = '';

  constructor(private readonly workbook: Workbook) {}

  openAt(s: string, _tag: number, name: number, nameEnd: number, tagEnd: number): void {
    const element = elementOf(s, name, nameEnd);
    if (element === SI) {
      this.depth++;
      this.current = '';
    } else if (element === T) this.inText = true;
    else if (element === R_PH) this.inPhonetic = true;
    this.wantsText = this.inText && !this.inPhonetic && this.depth > 0;
    if (s.charCodeAt(tagEnd - 1) === 0x2f) this.closeAt(s, name, nameEnd);
  }

  closeAt(s: string, name: number, nameEnd: number): void {
    const element = elementOf(s, name, nameEnd);
    if (element === T) this.inText = false;
    else if (element === R_PH) this.inPhonetic = false;
    else if (element === SI && this.depth > 0) {
      this.depth--;
      this.add(this.current);
    }
    this.wantsText = this.inText && !this.inPhonetic && this.depth > 0;
  }

  /** Strings read by the kernel (spreadsheet-scan.ts): `records` the start and end of each in `text`. */
  stringsRead(text: string, records: Int32Array, count: number): void {
    for (let r = 0; r < 2 * count; r += 2) this.add(text.slice(records[r], records[r + 1]));
  }

  private add(string: string): void {
    if (!this.workbook.overflow && this.workbook.hold(string.length + 8)) this.strings.push(string);
    else this.spill += `${string}\n`;
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
