// The text of one worksheet's rows as TSV, built as the cells come: a line per row, its cells
// joined by tabs, a left-out cell an empty field. A text cell whose shared string is not known yet
// (Excel writes the table after the sheets, ECMA-376 Part 1 §18.4) is a hole in the line: its
// index, filled when the row is rendered. Held rows are kept as a few flat strings of 64 Ki
// characters with their holes in an array of numbers, not as an object per row and per cell:
// what is held survives every young-generation collection, and copying 300,000 small objects
// again and again cost more than reading the sheet.

/** Where a held row's shared strings come from, when it is rendered. */
export interface StringTable {
  resolve(index: number): string;
}

/** The highest column a sheet can have (ECMA-376 Part 1 §18.3.1.4: XFD, 16,384 columns). */
const MAX_COLUMNS = 16_384;
const PIECE_CHARS = 64 * 1024;

/** text[start, end) with the strings of `holes` (offset in text, index: the last two of each `step` from `from` on) put in. */
export function fill(text: string, start: number, end: number, holes: ArrayLike<number>, from: number, until: number, step: number, table: StringTable): string {
  if (from === until) return start === 0 && end === text.length ? text : text.slice(start, end);
  let out = '';
  let at = start;
  for (let h = from; h < until; h += step) {
    const offset = holes[h + step - 2] as number;
    out += text.slice(at, offset) + table.resolve(holes[h + step - 1] as number);
    at = offset;
  }
  return out + text.slice(at, end);
}

export class SheetRows {
  /** What the row counts against the held limit: a string its length and a tab, an index 8. */
  chars = 0;
  /** Cells in the row so far, left-out cells included. */
  cells = 0;
  private line = '';
  /** The row's holes: offset in the line, shared string index. */
  private readonly lineHoles: number[] = [];
  /** Held rows: whole pieces, and the lines of the piece being gathered. */
  private pieces: string[] = [];
  private lines: string[] = [];
  private linesChars = 0;
  /** Held holes: piece, offset in the piece, shared string index. */
  private holes: number[] = [];

  /** A cell in `column` (0-based; undefined: the next one): its text, or a shared string's index. */
  add(column: number | undefined, value: string | number): void {
    let cells = this.cells;
    if (column !== undefined && column < MAX_COLUMNS && cells < column) {
      const empty = column - cells;
      this.line += '\t'.repeat(cells > 0 ? empty : empty - 1);
      this.chars += empty;
      cells = column;
    }
    if (cells > 0) this.line += '\t';
    this.cells = cells + 1;
    if (typeof value === 'number') {
      this.lineHoles.push(this.line.length, value);
      this.chars += 8;
    } else {
      this.line += value;
      this.chars += value.length + 1;
    }
  }

  /** The row as a line, its shared strings resolved now. */
  takeLine(table: StringTable): string {
    const line = `${fill(this.line, 0, this.line.length, this.lineHoles, 0, this.lineHoles.length, 2, table)}\n`;
    this.next();
    return line;
  }

  /** Keeps the row for later, its holes open. */
  holdLine(): void {
    this.holdLines(`${this.line}\n`, this.lineHoles, 0, this.lineHoles.length);
    this.next();
  }

  /** Whole lines (each ending in '\n'; none is being built) kept for later, holes[from, until) their (offset, index) pairs. */
  holdLines(lines: string, holes: ArrayLike<number>, from: number, until: number): void {
    const piece = this.pieces.length;
    const base = this.linesChars;
    for (let h = from; h < until; h += 2) this.holes.push(piece, base + (holes[h] as number), holes[h + 1] as number);
    this.lines.push(lines);
    this.linesChars += lines.length;
    if (this.linesChars >= PIECE_CHARS) this.closePiece();
  }

  /** The held rows, their shared strings resolved now; none are held after. */
  takeHeld(table: StringTable): string {
    this.closePiece();
    const { pieces, holes } = this;
    this.pieces = [];
    this.holes = [];
    let out = '';
    let h = 0;
    for (let p = 0; p < pieces.length; p++) {
      const from = h;
      while (h < holes.length && holes[h] === p) h += 3;
      const piece = pieces[p] as string;
      out += fill(piece, 0, piece.length, holes, from, h, 3, table);
    }
    return out;
  }

  private closePiece(): void {
    if (this.lines.length === 0) return;
    this.pieces.push(this.lines.join(''));
    this.lines = [];
    this.linesChars = 0;
  }

  private next(): void {
    this.line = '';
    this.lineHoles.length = 0;
    this.cells = 0;
    this.chars = 0;
  }
}
