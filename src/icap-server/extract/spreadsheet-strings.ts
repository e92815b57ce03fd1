// The shared string table of a workbook (ECMA-376 Part 1 §18.4): each `<si>` one string, the text
// of its runs joined, phonetic readings left out. Strings are kept within the workbook's held
// limit (spreadsheet-cells.ts) for the sheets that refer to them; past it they are scanned as they come.
import type { Workbook } from './spreadsheet-cells.js';
import type { XmlScanHandler } from './xml-tokenizer.js';

/** A character past Latin-1: V8 answers this at once for a one-byte string, which cannot hold one. */
const PAST_LATIN1 = /[^\u0000-\u00ff]/;
/** One-byte text of the kernel's calls is joined up to this many characters: past 128 KiB, a string is allocated in large-object space. */
const JOINED_CHARS = 256 * 1024;

/**
 * A workbook's shared strings by index. The text of the kernel's calls (spreadsheet-scan.ts) is
 * kept, one-byte texts of consecutive calls joined into strings of JOINED_CHARS or more, and a
 * string is a slice of its text made when a cell uses it. The table lives while the workbook's
 * sheets are read: kept as a slice per string of the kernel's 64 KiB calls (63,000 slices of 100
 * strings in the bench's workbook), it sat in the young generation and every scavenge copied it;
 * a string past 128 KiB is allocated in large-object space, which scavenges do not copy. A call's
 * text with a character past Latin-1 is a two-byte string, and so is any text it is joined to,
 * and every line a string of it is filled into: it stays a text of its own. The tokenizer's
 * strings come after the kernel's (it reads the rest of the part) and are kept as they come.
 */
export class SharedStrings {
  /** The kernel's strings: start and end of each in the text of all its calls (UTF-16 units), and the index of its text. */
  private bounds = new Int32Array(3 * 1024);
  private read = 0;
  private chars = 0;
  /** The texts, and where each starts in the text of all the kernel's calls. */
  private readonly texts: string[] = [];
  private readonly starts: number[] = [];
  /** One-byte texts of the calls since the last text was joined: the last text, once joined. */
  private joining: string[] = [];
  private joiningChars = 0;
  /** The tokenizer's strings, after the kernel's. */
  private readonly rest: string[] = [];

  get length(): number {
    return this.read + this.rest.length;
  }

  /** Strings read by the kernel: `records` the start and end of each (UTF-16 units) in `utf8` decoded, `chars` long. */
  addRead(utf8: Buffer, records: Int32Array, count: number, chars: number): void {
    const text = utf8.toString('utf8');
    if (this.rest.length > 0) {
      for (let r = 0; r < 2 * count; r += 2) this.add(text.slice(records[r], records[r + 1]));
      return;
    }
    if (3 * (this.read + count) > this.bounds.length) {
      const bounds = new Int32Array(Math.max(2 * this.bounds.length, 3 * (this.read + count)));
      bounds.set(this.bounds.subarray(0, 3 * this.read));
      this.bounds = bounds;
    }
    if (PAST_LATIN1.test(text)) {
      this.join();
      this.starts.push(this.chars);
      this.texts.push(text);
    } else {
      if (this.joining.length === 0) {
        this.starts.push(this.chars);
        this.texts.push('');
      }
      this.joining.push(text);
      this.joiningChars += chars;
    }
    const index = this.texts.length - 1;
    const base = this.chars;
    for (let r = 0; r < count; r++) {
      const at = 3 * (this.read + r);
      this.bounds[at] = base + (records[2 * r] as number);
      this.bounds[at + 1] = base + (records[2 * r + 1] as number);
      this.bounds[at + 2] = index;
    }
    this.read += count;
    this.chars += chars;
    if (this.joiningChars >= JOINED_CHARS) this.join();
  }

  add(string: string): void {
    this.join();
    this.rest.push(string);
  }

  get(index: number): string | undefined {
    if (index < 0) return undefined;
    if (index >= this.read) return this.rest[index - this.read];
    this.join();
    const text = this.bounds[3 * index + 2] as number;
    const start = this.starts[text] as number;
    return (this.texts[text] as string).slice((this.bounds[3 * index] as number) - start, (this.bounds[3 * index + 1] as number) - start);
  }

  private join(): void {
    if (this.joining.length === 0) return;
    this.texts[this.texts.length - 1] = this.joining.join('');
    this.joining = [];
    this.joiningChars = 0;
  }
}

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
  readonly strings = new SharedStrings();
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

  /**
   * Strings read by the kernel (spreadsheet-scan.ts): `records` the start and end of each in
   * `utf8` decoded, `chars` long. Past the held limit (or at it) they are decoded here.
   */
  stringsRead(utf8: Buffer, records: Int32Array, count: number, chars: number): void {
    let held = 0;
    while (held < count && !this.workbook.overflow && this.workbook.hold((records[2 * held + 1] as number) - (records[2 * held] as number) + 8)) held++;
    if (held === count) {
      this.strings.addRead(utf8, records, count, chars);
      return;
    }
    const text = utf8.toString('utf8');
    for (let r = 0; r < 2 * count; r += 2) {
      const string = text.slice(records[r], records[r + 1]);
      if (r < 2 * held) this.strings.add(string);
      else this.spill += `${string}\n`;
    }
  }

  private add(string: string): void {
    if (!this.workbook.overflow && this.workbook.hold(string.length + 8)) this.strings.add(string);
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
