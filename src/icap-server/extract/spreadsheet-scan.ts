// A worksheet read by a WebAssembly kernel (spreadsheet-scan.as.ts) from its UTF-8 bytes where
// they stand: a sheet is mostly markup (the benchmark's holds 14 MiB of it for 5 of text), and the
// tokenizer stepping through it a character at a time was most of an xlsx scan. The kernel writes
// each row's TSV line and its shared-string holes; SheetHandler holds or writes them out. At the
// first thing the kernel does not read exactly as xml-tokenizer.ts and SheetHandler do (an entity,
// CDATA, a formula, a page header, invalid UTF-8...), they read the rest of the part, from the
// kernel's last commit point on: the start of a row, where their state is the kernel's. The shared
// string table is read the same way (spreadsheet-strings.as.ts), a string at a time.
import { StringDecoder } from 'node:string_decoder';
import { Kernel, type KernelMemory } from '../wasm/kernel.js';
import type { SheetHandler } from './spreadsheet-cells.js';
import type { SharedStringsHandler } from './spreadsheet-strings.js';
import { SPREADSHEET_SCAN_WASM } from './spreadsheet-scan-wasm.js';
import { XmlTokenizer } from './xml-tokenizer.js';

/** A part's bytes, in chunks, then its end. */
export interface PartReader {
  write(chunk: Buffer): void;
  end(): void;
}

/** XML bytes through the tokenizer into `handler` (decoded as they come: a chunk may cut a character). */
export function tokenizerReader(handler: ConstructorParameters<typeof XmlTokenizer>[0]): PartReader {
  const decoder = new StringDecoder('utf8');
  const tokenizer = new XmlTokenizer(handler);
  return {
    write: (chunk) => tokenizer.write(decoder.write(chunk)),
    end: () => {
      tokenizer.write(decoder.end());
      tokenizer.end();
    },
  };
}

interface Exports extends KernelMemory {
  scan(input: number, length: number, out: number, room: number, cell: number, rows: number, holes: number, result: number): void;
  strings(input: number, length: number, out: number, records: number, result: number): void;
}

const MORE = 0;
const FULL = 2;
/** A row or string unfinished at a chunk's end is read again with the next; past this it is left to the tokenizer. */
const MAX_CARRY_BYTES = 256 * 1024;
/**
 * A kernel call reads at most this much (its memory takes about eight times what it reads, and
 * keeps its size): a larger write is read from commit point to commit point.
 */
const MAX_CALL_BYTES = 1024 * 1024;
/** Where the kernel stores its results; the input follows, then PADDING zero bytes (it reads up to 31 past it). */
const RESULT_AT = 0;
const INPUT_AT = 64;
const PADDING = 32;

let kernel: Kernel<Exports> | undefined;
const EMPTY = Buffer.alloc(0);
/** Kernel calls so far, and the one after which room() lent the memory where its input goes. */
let calls = 0;
let lentAfter = -1;

const align = (at: number) => (at + 15) & ~15;

/** The kernel's memory, of at least `size` bytes. */
function memory(size: number): Buffer {
  kernel ??= new Kernel<Exports>(SPREADSHEET_SCAN_WASM);
  return kernel.reserve(size);
}

/**
 * The kernel's memory of at least `size` bytes with `xml` at INPUT_AT (copied there unless it is
 * already there: written into lent memory by an inflater, or staged), zeros after it.
 */
function load(xml: Buffer, size: number): { bytes: Buffer; exports: Exports } {
  const bytes = memory(size);
  const inPlace = xml.buffer === bytes.buffer && xml.byteOffset === bytes.byteOffset + INPUT_AT;
  if (!inPlace) bytes.set(xml, INPUT_AT);
  bytes.fill(0, INPUT_AT + xml.length, INPUT_AT + xml.length + PADDING);
  calls++;
  return { bytes, exports: (kernel as Kernel<Exports>).exports };
}

/** The i32 results the kernel stored. */
function results(bytes: Buffer, count: number): number[] {
  return Array.from({ length: count }, (_, k) => bytes.readInt32LE(RESULT_AT + 4 * k));
}

/**
 * A part read by a kernel call at a time, from commit point to commit point, then by the
 * tokenizer. It lends the kernel's memory to an inflater (room()), so that what is inflated is
 * read where it was written, its carry put before it: a copy of each piece into a new buffer,
 * another with the carry and a third into the kernel's memory were a tenth of an xlsx scan.
 */
export abstract class PartScan implements PartReader {
  /** From the last commit point: read again with the next chunk. */
  private carry = EMPTY;
  /** The tokenizer, once the kernel has stopped for good. */
  private rest: PartReader | undefined;
  /** The memory room() lent last. */
  private lent: ArrayBufferLike | undefined;

  /** Room for the next chunk in the kernel's memory, after the carry (LendingSink.room of ooxml-text.ts). */
  room(bytes: number): Buffer {
    const at = INPUT_AT + this.carry.length;
    if (this.rest !== undefined || this.carry.length + bytes > MAX_CALL_BYTES) return Buffer.allocUnsafe(bytes);
    const lent = memory(this.size(this.carry.length + bytes)).subarray(at, at + bytes);
    lentAfter = calls;
    this.lent = lent.buffer;
    return lent;
  }

  write(chunk: Buffer): void {
    if (this.rest !== undefined) this.rest.write(chunk);
    else this.read(this.stage(chunk), false);
  }

  end(): void {
    if (this.rest === undefined) this.read(this.carry, true);
    this.rest?.end();
  }

  /** Bytes of the kernel's memory that a call reading `n` bytes lays out. */
  protected abstract size(n: number): number;

  /** One kernel call over `xml`, what it read handed on: why it stopped, the commit point, and its input in the kernel's memory. */
  protected abstract call(xml: Buffer): { stop: number; done: number; input: Buffer };

  /** The tokenizer's reader, its handler in the state it has at the last commit point. */
  protected abstract tokenizer(): PartReader;

  /** The carry and `chunk` as one input: in the kernel's memory at INPUT_AT when they fit a call. */
  private stage(chunk: Buffer): Buffer {
    const carry = this.carry;
    const n = carry.length + chunk.length;
    if (n > MAX_CALL_BYTES) return carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
    const bytes = memory(this.size(n));
    const lent = chunk.buffer === bytes.buffer && chunk.byteOffset === bytes.byteOffset + INPUT_AT + carry.length;
    // Lent memory is read by the call right after the room() that lent it (nothing awaits between
    // them); had any other call come first, its input would have overwritten this chunk, and had
    // the memory grown, the chunk would be gone with the old one.
    if ((lent && lentAfter !== calls) || (chunk.buffer === this.lent && this.lent !== bytes.buffer)) throw new Error('spreadsheet-scan: lent kernel memory was reused before it was read');
    lentAfter = -1;
    if (!lent) bytes.set(chunk, INPUT_AT + carry.length);
    bytes.set(carry, INPUT_AT);
    return bytes.subarray(INPUT_AT, INPUT_AT + n);
  }

  private read(xml: Buffer, final: boolean): void {
    this.carry = EMPTY;
    for (;;) {
      const part = xml.length > MAX_CALL_BYTES ? xml.subarray(0, MAX_CALL_BYTES) : xml;
      const { stop, done, input } = this.call(part);
      // What was read whole is in the kernel's memory (where the next call copies what it reads).
      const unread = part === xml ? input.subarray(done) : xml.subarray(done);
      if ((stop === FULL || (stop === MORE && part !== xml)) && done > 0) {
        xml = unread;
        continue;
      }
      if (stop === MORE && (unread.length === 0 || (!final && unread.length <= MAX_CARRY_BYTES))) {
        this.carry = Buffer.from(unread);
        return;
      }
      this.rest = this.tokenizer();
      this.rest.write(unread);
      return;
    }
  }
}

export class SheetScan extends PartScan {
  /** The last cell the kernel read: shared, column (-1: none), value. */
  private last: [boolean, number, string] | undefined;

  constructor(private readonly handler: SheetHandler) {
    super();
  }

  protected tokenizer(): PartReader {
    if (this.last !== undefined) {
      const [shared, column, value] = this.last;
      this.handler.resume(shared, column < 0 ? undefined : column, value);
    }
    return tokenizerReader(this.handler);
  }

  protected size(n: number): number {
    return sheetLayout(n).end;
  }

  protected call(xml: Buffer): { stop: number; done: number; input: Buffer } {
    const n = xml.length;
    const { out, room, cell, rows, holes, end } = sheetLayout(n);
    const { bytes, exports } = load(xml, end);
    exports.scan(INPUT_AT, n, out, room, cell, rows, holes, RESULT_AT);
    const [stop, done, written, rowCount, holeCount, shared, column, value, valueEnd] = results(bytes, 9) as [number, number, number, number, number, number, number, number, number];
    if (rowCount > 0) {
      const text = bytes.toString('utf8', out, out + written);
      this.handler.rowsRead(text, new Int32Array(bytes.buffer, rows, 3 * rowCount), rowCount, new Int32Array(bytes.buffer, holes, 2 * holeCount));
    }
    if (shared >= 0) this.last = [shared === 1, column, valueEnd < 0 ? String(value) : bytes.toString('utf8', out + value, out + valueEnd)];
    return { stop, done, input: bytes.subarray(INPUT_AT, INPUT_AT + n) };
  }
}

/** Where a worksheet call over `n` bytes puts its output, cell, row records and holes, and the end of them. */
function sheetLayout(n: number): { out: number; room: number; cell: number; rows: number; holes: number; end: number } {
  const out = align(INPUT_AT + n + PADDING);
  const room = 2 * n + 65_536;
  const cell = align(out + room);
  const rows = align(cell + n + PADDING);
  // A row takes at least `<row/>`, a cell `<c/>`.
  const holes = rows + 12 * (Math.ceil(n / 6) + 1);
  return { out, room, cell, rows, holes, end: holes + 8 * (Math.ceil(n / 4) + 1) };
}

export class StringsScan extends PartScan {
  constructor(private readonly handler: SharedStringsHandler) {
    super();
  }

  protected tokenizer(): PartReader {
    return tokenizerReader(this.handler);
  }

  protected size(n: number): number {
    return stringsLayout(n).end;
  }

  protected call(xml: Buffer): { stop: number; done: number; input: Buffer } {
    const n = xml.length;
    const { out, records, end } = stringsLayout(n);
    const { bytes, exports } = load(xml, end);
    exports.strings(INPUT_AT, n, out, records, RESULT_AT);
    const [stop, done, written, count] = results(bytes, 4) as [number, number, number, number];
    if (count > 0) {
      const bounds = new Int32Array(bytes.buffer, records, 2 * count);
      // The text of the strings ends with the last: no text is read outside a string.
      this.handler.stringsRead(bytes.subarray(out, out + written), bounds, count, bounds[2 * count - 1] as number);
    }
    return { stop, done, input: bytes.subarray(INPUT_AT, INPUT_AT + n) };
  }
}

/** Where a shared string call over `n` bytes puts its text and records, and the end of them. */
function stringsLayout(n: number): { out: number; records: number; end: number } {
  const out = align(INPUT_AT + n + PADDING);
  // A string takes at least `<si/>`.
  const records = align(out + n + PADDING);
  return { out, records, end: records + 8 * (Math.ceil(n / 5) + 1) };
}
