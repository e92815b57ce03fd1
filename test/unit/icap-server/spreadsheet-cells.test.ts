// The worksheet and shared string readers (extract/spreadsheet-cells.ts), which read tags and text
// where they stand in the decoded part and decode only what they keep, against their
// specification: the readers they replaced, which took every tag and every text as a string
// (ORACLE below, kept here only as the oracle). Both read the same workbooks, generated from
// Excel's output and other writers' (x: prefixes, formulas, shared formulas, styles, extLst, page
// headers, rich and phonetic runs) and attacked (entities, CDATA, comments, odd spacing and
// quoting, cuts and damage anywhere), handed over in chunks of 1 to 7 characters and whole, with
// the shared string table before and after the sheets: the text must be the same, character for
// character, held rows, unreferenced strings and the held limit included.
import { StringDecoder } from 'node:string_decoder';
import { describe, expect, it } from 'vitest';
import { MAX_HELD_CHARS, SharedStringsHandler, SheetHandler, Workbook } from '../../../src/icap-server/extract/spreadsheet-cells.js';
import type { SharedStrings } from '../../../src/icap-server/extract/spreadsheet-strings.js';
import { attribute, type XmlHandler, XmlTokenizer } from '../../../src/icap-server/extract/xml-tokenizer.js';
import { tableOf } from './shared-strings-list.js';

/** The readers as they were: every tag and text a string (ORACLE). */
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
const HEADER_FOOTER = new Set(['oddHeader', 'oddFooter', 'evenHeader', 'evenFooter', 'firstHeader', 'firstFooter']);
const LIST_FORMULAS = new Set(['formula', 'formula1', 'formula2']);
class OracleSheet implements XmlHandler {
  private out = '';
  private held: HeldCell[][] | undefined;
  private row: HeldCell[] = [];
  private cellType = '';
  private cellColumn: number | undefined;
  private value = '';
  private formula = '';
  private inCell = false;
  private inValue = false;
  private inFormula = false;
  private inHeaderFooter = false;
  private inListFormula = false;
  constructor(private readonly workbook: Workbook) {
    if (workbook.strings === undefined && !workbook.overflow) this.held = [];
  }
  open(name: string, tag: string): void {
    if (name === 'c') {
      this.cellType = attribute(tag, 't') ?? 'n';
      this.cellColumn = columnIndex(attribute(tag, 'r'));
      this.value = '';
      this.formula = '';
      this.inCell = true;
    } else if (name === 'v' || name === 't') this.inValue = true;
    else if (name === 'f') this.inFormula = true;
    else if (HEADER_FOOTER.has(name)) this.inHeaderFooter = true;
    else if (LIST_FORMULAS.has(name)) this.inListFormula = true;
  }
  close(name: string): void {
    if (HEADER_FOOTER.has(name)) {
      this.inHeaderFooter = false;
      this.out += '\n';
    } else if (LIST_FORMULAS.has(name)) {
      this.inListFormula = false;
      this.out += '\n';
    } else if (name === 'v' || name === 't') this.inValue = false;
    else if (name === 'f') {
      this.inFormula = false;
      if (!this.inCell) this.out += '\n';
    } else if (name === 'c') this.cell();
    else if (name === 'row') this.endRow();
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
    const column = this.cellColumn;
    if (column !== undefined && column < 16_384) while (this.row.length < column) this.row.push('');
    const shared = this.cellType === 's' ? Number.parseInt(this.value, 10) : Number.NaN;
    const text = this.formula === '' ? this.value : this.value === '' ? this.formula : `${this.value} ${this.formula}`;
    this.row.push(Number.isNaN(shared) ? text : shared);
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
      this.out += this.held.map((r) => this.render(r)).join('');
      this.held = undefined;
    }
    this.out += this.render(row);
  }
  private render(row: HeldCell[]): string {
    return `${row.map((c) => (typeof c === 'number' ? this.workbook.resolve(c) : c)).join('\t')}\n`;
  }
  take(): string {
    const text = this.out;
    this.out = '';
    return text;
  }
  get holding(): boolean {
    return this.held !== undefined;
  }
  flushHeld(): string {
    const held = this.held ?? [];
    this.held = undefined;
    if (this.row.length > 0) held.push(this.row.splice(0));
    return held.map((r) => this.render(r)).join('');
  }
}
class OracleStrings implements XmlHandler {
  readonly strings: string[] = [];
  private current = '';
  private depth = 0;
  private inText = false;
  private inPhonetic = false;
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
    if (this.inText && !this.inPhonetic && this.depth > 0) this.current += text;
  }
  take(): string {
    const text = this.spill;
    this.spill = '';
    return text;
  }
}

interface Reader {
  sheet(workbook: Workbook): { handler: XmlHandler | ConstructorParameters<typeof XmlTokenizer>[0]; take(): string; holding: boolean; flushHeld(): string };
  strings(workbook: Workbook): { handler: ConstructorParameters<typeof XmlTokenizer>[0]; take(): string; strings: SharedStrings };
}
const ORACLE: Reader = {
  sheet: (w) => {
    const h = new OracleSheet(w);
    return { handler: h, take: () => h.take(), get holding() { return h.holding; }, flushHeld: () => h.flushHeld() };
  },
  strings: (w) => {
    const h = new OracleStrings(w);
    return { handler: h, take: () => h.take(), get strings() { return tableOf(h.strings); } };
  },
};
const PRODUCT: Reader = {
  sheet: (w) => {
    const h = new SheetHandler(w);
    return { handler: h, take: () => h.take(), get holding() { return h.holding; }, flushHeld: () => h.flushHeld() };
  },
  strings: (w) => {
    const h = new SharedStringsHandler(w);
    return { handler: h, take: () => h.take(), strings: h.strings };
  },
};

/** Parts through a reader as office-parts.ts hands them over: bytes in chunks of `size`, text taken after each. */
function readParts(reader: Reader, parts: Array<{ kind: 'sheet' | 'strings'; xml: Buffer }>, size: number): string[] {
  const workbook = new Workbook();
  const out: string[] = [];
  const held: Array<ReturnType<Reader['sheet']>> = [];
  const release = () => {
    for (const s of held.splice(0)) out.push(`held:${s.flushHeld()}`);
  };
  for (const part of parts) {
    const r = part.kind === 'sheet' ? reader.sheet(workbook) : reader.strings(workbook);
    const decoder = new StringDecoder('utf8');
    const tokenizer = new XmlTokenizer(r.handler);
    for (let at = 0; at < part.xml.length; at += size) {
      tokenizer.write(decoder.write(part.xml.subarray(at, at + size)));
      out.push(r.take());
    }
    tokenizer.write(decoder.end());
    tokenizer.end();
    out.push(r.take());
    if ('flushHeld' in r) {
      if (r.holding) held.push(r);
    } else {
      workbook.setStrings(r.strings);
      release();
    }
  }
  release();
  out.push(`orphans:${workbook.unreferenced()}`);
  return out;
}

function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 8) / 2 ** 24;
}

const pick = <T>(rand: () => number, items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;

const TEXTS = ['4111 1111 1111 1111', 'caf\u00e9', '\u65e5\u672c\u8a9e', '\ud83d\ude00 smile', 'a &amp; b', '&lt;tag&gt;', '&#65;&#x42;&#0;&#x110000;', '&bogus;', 'x &amp', '  spaced  ', '', 'TOP-SECRET', 'tab\tand\nline', '<![CDATA[raw <c> & ]]>', 'a<!-- note -->b', 'x<?pi y?>z'];
const COLUMNS = ['A', 'B', 'C', 'D', 'E', 'F', 'Z', 'AA', 'AB', 'A', 'B', 'C', 'D', 'E', 'F', 'XFD', 'XFE', 'ZZZZ', 'a', '&#65;', 'A&#66;', '$A', ''];

/** One cell as some writer puts it. */
function cell(rand: () => number, row: number, strings: number, p: string): string {
  const ref = rand() < 0.15 ? '' : ` r="${pick(rand, COLUMNS)}${rand() < 0.9 ? row : ''}"`;
  const style = rand() < 0.3 ? ` s="${Math.floor(rand() * 9)}"` : '';
  const sp = pick(rand, [' ', ' ', '\t', '\n  ', '  ']);
  const q = rand() < 0.85 ? '"' : "'";
  const body = (type: string | undefined, inner: string) => {
    const t = type === undefined ? '' : `${sp}t=${q}${type}${q}`;
    return rand() < 0.5 ? `<${p}c${ref}${style}${t}>${inner}</${p}c>` : `<${p}c${t}${style}${ref}>${inner}</${p}c>`;
  };
  const v = (text: string) => (rand() < 0.1 ? `<${p}v/>` : `<${p}v>${text}</${p}v>`);
  const f = () => pick(rand, [`<${p}f>SUM(A1:A9)</${p}f>`, `<${p}f t="shared" ref="C2:C9" si="0">A2*2</${p}f>`, `<${p}f t="shared" si="0"/>`, `<${p}f>"4111 1111 1111 1111"&amp;A1</${p}f>`]);
  switch (Math.floor(rand() * 9)) {
    case 0:
      return body(undefined, v(String(Math.floor(rand() * 1e6) / 100)));
    case 1:
    case 2:
      return body('s', v(pick(rand, [String(Math.floor(rand() * (strings + 3))), ' 2', '-1', '1e3', '0x1', '&#49;', '99999999999999999999', 'abc', '', `${Math.floor(rand() * strings)}<!--c-->7`])));
    case 3:
      return body('inlineStr', `<${p}is>${rand() < 0.5 ? `<${p}t>${pick(rand, TEXTS)}</${p}t>` : `<${p}r><${p}rPr><${p}b/></${p}rPr><${p}t xml:space="preserve">${pick(rand, TEXTS)}</${p}t></${p}r><${p}r><${p}t>${pick(rand, TEXTS)}</${p}t></${p}r>`}</${p}is>`);
    case 4:
      return body('str', f() + v(pick(rand, TEXTS)));
    case 5:
      return body(pick(rand, ['b', 'e', 'n', 'd', 's ', 'S', '&#115;', 'inlineStr']), (rand() < 0.5 ? f() : '') + v(pick(rand, ['1', '#DIV/0!', '2024-05-17T10:22:31Z', '7'])));
    case 6:
      return rand() < 0.5 ? `<${p}c${ref}${style}/>` : body(undefined, f());
    case 7:
      return `<${p}c${ref} t="s" x=">" y='"'>${v('1')}</${p}c>`;
    default:
      return body(undefined, `${v(String(row))}<${p}extLst><${p}ext uri="{X}"><${p}v>9</${p}v></${p}ext></${p}extLst>`);
  }
}

const HEADERS = ['oddHeader', 'oddFooter', 'evenHeader', 'evenFooter', 'firstHeader', 'firstFooter', 'oddHeaders', 'header'];

function sheetXml(rand: () => number, strings: number): string {
  const p = pick(rand, ['', '', 'x:', 'ns0:']);
  const ns = p === '' ? 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"' : `xmlns:${p.slice(0, -1)}="http://schemas.openxmlformats.org/spreadsheetml/2006/main"`;
  let rows = '';
  for (let r = 1, n = Math.floor(rand() * 8); r <= n; r++) {
    let cells = '';
    for (let c = 0, m = Math.floor(rand() * 6); c < m; c++) cells += cell(rand, r, strings, p);
    rows += rand() < 0.1 ? `<${p}row r="${r}"/>` : `<${p}row r="${r}" spans="1:3"${rand() < 0.2 ? ' ht="15"' : ''}>${cells}</${p}row>`;
  }
  const hf = rand() < 0.4 ? `<${p}headerFooter><${p}${pick(rand, HEADERS)}>&amp;L${pick(rand, TEXTS)}&amp;R&amp;P</${p}${pick(rand, HEADERS)}><${p}oddFooter/></${p}headerFooter>` : '';
  const validation = rand() < 0.3 ? `<${p}dataValidations count="1"><${p}dataValidation type="list" sqref="B2"><${p}formula1>"${pick(rand, TEXTS)},other"</${p}formula1>${rand() < 0.5 ? `<${p}formula2>${pick(rand, TEXTS)}</${p}formula2>` : ''}</${p}dataValidation></${p}dataValidations><${p}conditionalFormatting sqref="A1"><${p}cfRule type="expression" priority="1"><${p}formula>${pick(rand, TEXTS)}</${p}formula></${p}cfRule></${p}conditionalFormatting>` : '';
  const ext = rand() < 0.3 ? `<${p}extLst><${p}ext uri="{78C0D931}"><x14:conditionalFormattings><x14:conditionalFormatting><xm:f>Sheet1!A1</xm:f><xm:sqref>A1</xm:sqref></x14:conditionalFormatting></x14:conditionalFormattings></${p}ext></${p}extLst>` : '';
  return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n<${p}worksheet ${ns}><${p}dimension ref="A1:C9"/><${p}sheetData>${rows}</${p}sheetData>${validation}${hf}${ext}</${p}worksheet>`;
}

function stringsXml(rand: () => number, count: number): string {
  const p = pick(rand, ['', '', 'x:']);
  let items = '';
  for (let i = 0; i < count; i++) {
    const t = () => `<${p}t${rand() < 0.5 ? ' xml:space="preserve"' : ''}>${pick(rand, TEXTS)}</${p}t>`;
    items += pick(rand, [
      `<${p}si>${t()}</${p}si>`,
      `<${p}si><${p}r><${p}rPr><${p}sz val="11"/></${p}rPr>${t()}</${p}r><${p}r>${t()}</${p}r></${p}si>`,
      `<${p}si>${t()}<${p}rPh sb="0" eb="1">${t()}</${p}rPh><${p}phoneticPr fontId="1"/></${p}si>`,
      `<${p}si><${p}t/></${p}si>`,
      `<${p}si/>`,
    ]);
  }
  return `<?xml version="1.0"?><${p}sst xmlns${p === '' ? '' : ':x'}="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="${count}">${items}</${p}sst>`;
}

/** Damage: a cut, a byte dropped or doubled, markup characters put anywhere. */
function damage(rand: () => number, xml: string): string {
  let out = xml;
  for (let i = 0, n = Math.floor(rand() * 4); i < n; i++) {
    const at = Math.floor(rand() * (out.length + 1));
    const what = Math.floor(rand() * 5);
    if (what === 0) out = out.slice(0, at);
    else if (what === 1) out = out.slice(0, at) + out.slice(at + 1);
    else if (what === 2) out = out.slice(0, at) + out.slice(at, at + 7) + out.slice(at);
    else out = out.slice(0, at) + pick(rand, ['<', '>', '&', '"', "'", '/', '</c>', '<c r="B3" t="s">', '</row>', '<v>', '</v>', '<f>', '<!--', ']]>', '<![CDATA[', '&#', '\u00e9', '\ud83d']) + out.slice(at);
  }
  return out;
}

function workbook(rand: () => number, hostile: boolean): Array<{ kind: 'sheet' | 'strings'; xml: Buffer }> {
  const count = Math.floor(rand() * 6);
  const mark = (xml: string) => Buffer.from(hostile ? damage(rand, xml) : xml);
  const sheets = Array.from({ length: 1 + Math.floor(rand() * 2) }, () => ({ kind: 'sheet' as const, xml: mark(sheetXml(rand, count)) }));
  const strings = { kind: 'strings' as const, xml: mark(stringsXml(rand, count)) };
  const at = rand() < 0.2 ? sheets.length + 1 : Math.floor(rand() * (sheets.length + 1));
  return at > sheets.length ? sheets : [...sheets.slice(0, at), strings, ...sheets.slice(at)];
}

const SIZES = [1, 2, 3, 4, 5, 6, 7, Number.MAX_SAFE_INTEGER];

describe('worksheet and shared string readers against the readers they replaced', () => {
  it('the same text on 400 generated workbooks, in chunks of 1 to 7 characters and whole', () => {
    const rand = random(2026);
    let rows = 0;
    for (let round = 0; round < 400; round++) {
      const parts = workbook(rand, false);
      for (const size of SIZES) {
        const want = readParts(ORACLE, parts, size);
        expect(readParts(PRODUCT, parts, size), `${parts.map((x) => x.xml.toString()).join('\n')}\nsize ${size}`).toEqual(want);
        rows += want.join('').split('\n').length;
      }
    }
    expect(rows).toBeGreaterThan(5_000);
  }, 120_000);

  it('the same text on 800 damaged workbooks (cuts, markup characters anywhere, broken UTF-8)', () => {
    const rand = random(13);
    for (let round = 0; round < 800; round++) {
      const parts = workbook(rand, true);
      if (rand() < 0.1) parts.push({ kind: 'sheet', xml: Buffer.from([0x3c, 0x63, 0x3e, 0x3c, 0x76, 0x3e, 0xe2, 0x82, 0x3c, 0x2f, 0x76, 0x3e, 0xac, 0xff]) });
      for (const size of SIZES) {
        expect(readParts(PRODUCT, parts, size), `${parts.map((x) => x.xml.toString()).join('\n')}\nsize ${size}`).toEqual(readParts(ORACLE, parts, size));
      }
    }
  }, 120_000);

  it('a real sheet: columns from references, a formula after its value, page headers and validation lists read', () => {
    const sheet = Buffer.from(
      '<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData><x:row r="2"><x:c r="B2" s="1" t="s"><x:v>0</x:v></x:c>' +
        '<x:c r="D2" s="3"><x:f t="shared" ref="D2:D3" si="0">B2*2</x:f><x:v>8</x:v></x:c><x:c r="E2" t="inlineStr"><x:is><x:t>card 4111&#32;1111 1111 1111</x:t></x:is></x:c></x:row></x:sheetData>' +
        '<x:dataValidations count="1"><x:dataValidation type="list" sqref="F2"><x:formula1>"open,closed"</x:formula1></x:dataValidation></x:dataValidations>' +
        '<x:headerFooter><x:oddHeader>&amp;CConfidential</x:oddHeader></x:headerFooter><x:extLst><x:ext uri="{1}"><x:v>ignored?</x:v></x:ext></x:extLst></x:worksheet>',
    );
    const strings = Buffer.from('<sst><si><t>Name</t><rPh><t>なまえ</t></rPh></si><si><r><t>un</t></r><r><t>used</t></r></si></sst>');
    const parts = [
      { kind: 'sheet' as const, xml: sheet },
      { kind: 'strings' as const, xml: strings },
    ];
    const text = readParts(PRODUCT, parts, 3).join('');
    expect(text).toBe('"open,closed"\n&CConfidential\nheld:\tName\t\t8 B2*2\tcard 4111 1111 1111 1111\norphans:unused');
    for (const size of SIZES) expect(readParts(PRODUCT, parts, size)).toEqual(readParts(ORACLE, parts, size));
  });

  it('past the held limit: rows go out with indices, strings are scanned as they come, as before', () => {
    const value = 'x'.repeat(1000);
    const rows = Array.from({ length: (MAX_HELD_CHARS / 1000) * 1.2 }, (_, r) => `<row><c t="inlineStr"><is><t>${value}</t></is></c><c t="s"><v>${r % 3}</v></c></row>`);
    const parts = [
      { kind: 'sheet' as const, xml: Buffer.from(`<worksheet><sheetData>${rows.join('')}</sheetData></worksheet>`) },
      { kind: 'strings' as const, xml: Buffer.from(`<sst>${`<si><t>${value}</t></si>`.repeat(3)}</sst>`) },
    ];
    const got = readParts(PRODUCT, parts, 65536);
    expect(got.join('')).toContain(`${value}\t2\n`);
    expect(got).toEqual(readParts(ORACLE, parts, 65536));
  });
});
