// The files of one zip archive as the detectors should see them. Most entries are files like any
// other (an .xml part of an odt or ods is read by xml-text.ts, a nested zip is opened again). The
// main parts of a docx or pptx are read by ooxml-text.ts, for speed. SpreadsheetML worksheets and
// the shared string table of an xlsx are read together (spreadsheet-cells.ts), so a sheet reads
// as TSV with its text in its cells; their bytes go through a WebAssembly kernel first
// (spreadsheet-scan.ts), the tokenizer reading on from wherever it stops. A worksheet that comes
// before the shared string table is kept as its XML bytes (spreadsheet-deferred.ts, within
// MAX_DEFERRED_BYTES for the workbook) and read when the table is known; past that, its rows are
// held as before.
import type { ByteSink } from '../decode/byte-sink.js';
import type { Extraction } from '../decode/extraction.js';
import type { TextSink } from '../decode/text-decoders.js';
import { OOXML_TEXT_PART, ooxmlText } from './ooxml-text.js';
import { SheetHandler, Workbook } from './spreadsheet-cells.js';
import { DeferredBytes } from './spreadsheet-deferred.js';
import { type PartReader, type PartScan, SheetScan, StringsScan } from './spreadsheet-scan.js';
import { SharedStringsHandler } from './spreadsheet-strings.js';

const WORKSHEET = /(?:^|\/)worksheets\/[^/]+\.xml$/i;
/** ODF 1.2 §3.8 (packages): an encrypted document lists encryption-data for its parts here. */
const ODF_MANIFEST = /^META-INF\/manifest\.xml$/;
const SHARED_STRINGS = /(?:^|\/)sharedStrings\.xml$/i;

/**
 * XML bytes of worksheets kept for one workbook until its shared string table is known: the
 * memory 8 Mi held characters (MAX_HELD_CHARS) take in a two-byte string. A sheet that does not
 * fit is read at once and its rows held.
 */
export const MAX_DEFERRED_BYTES = 16 * 1024 * 1024;

interface HeldSheet {
  handler: SheetHandler;
  text: TextSink;
}

export class OfficeParts {
  private readonly workbook = new Workbook();
  private held: HeldSheet[] = [];
  /** Worksheets read to their end and kept as bytes: each read when the table is known, or at the end. */
  private deferred: (() => Promise<void>)[] = [];
  private deferredBytes = 0;

  constructor(
    private readonly ctx: Extraction,
    /** Depth of the archive's files. */
    private readonly depth: number,
  ) {}

  /**
   * The sink for entry `name` (ending it ends the file), and for a part whose reader can lend the
   * memory it reads from, `room` (LendingSink.room: an inflater writes its output there).
   */
  open(name: string): { sink: ByteSink; room?: (bytes: number) => Buffer } {
    if (WORKSHEET.test(name)) return this.sheet();
    if (SHARED_STRINGS.test(name) && this.workbook.strings === undefined) return this.part(this.sharedStrings());
    if (OOXML_TEXT_PART.test(name)) {
      const part = ooxmlText(this.ctx.text(this.depth));
      return { sink: this.ctx.probed(part), room: (bytes) => part.room(bytes) };
    }
    if (ODF_MANIFEST.test(name)) return { sink: this.ctx.probed(this.manifest()) };
    return { sink: this.ctx.file({ name }, this.depth) };
  }

  /** After the last entry: sheets still held are written out, and strings no cell used are scanned. */
  async finish(): Promise<void> {
    await this.readDeferred();
    await this.release();
    const orphans = this.workbook.unreferenced();
    if (orphans.length > 0) {
      const text = this.ctx.text(this.depth);
      await text.write(orphans);
      await text.end();
    }
  }

  private async readDeferred(): Promise<void> {
    const deferred = this.deferred;
    this.deferred = [];
    for (const read of deferred) await read();
  }

  private async release(): Promise<void> {
    const held = this.held;
    this.held = [];
    for (const sheet of held) {
      const rows = sheet.handler.flushHeld();
      if (rows.length > 0) await sheet.text.write(rows);
      await sheet.text.end();
    }
  }

  /** A part read by a kernel, which lends the memory it reads from. */
  private part({ sink, reader }: { sink: ByteSink; reader: PartScan }): { sink: ByteSink; room: (bytes: number) => Buffer } {
    return { sink: this.ctx.probed(sink), room: (bytes) => reader.room(bytes) };
  }

  /** An ODF manifest: `encryption-data` makes the document `encrypted-content`. */
  private manifest(): ByteSink {
    let tail = '';
    let found = false;
    return {
      write: async (chunk) => {
        const text = tail + chunk.toString('latin1');
        if (text.includes('encryption-data')) found = true;
        tail = text.slice(-32);
      },
      end: async () => {
        if (found) this.ctx.encrypted();
      },
    };
  }

  /**
   * A worksheet: read as it comes when the shared strings are known (or will never be: past the
   * held limit), else kept as bytes and read when they are, or at the end.
   */
  private sheet(): { sink: ByteSink; room: (bytes: number) => Buffer } {
    const text = this.ctx.text(this.depth);
    let handler: SheetHandler | undefined;
    let reader: SheetScan | undefined;
    let kept = this.workbook.strings === undefined && !this.workbook.overflow ? new DeferredBytes() : undefined;
    const start = () => {
      handler = new SheetHandler(this.workbook);
      reader = new SheetScan(handler);
    };
    const read = async (chunk: Buffer) => {
      (reader as SheetScan).write(chunk);
      const out = (handler as SheetHandler).take();
      if (out.length > 0) await text.write(out);
    };
    const finish = async () => {
      (reader as SheetScan).end();
      const out = (handler as SheetHandler).take();
      if (out.length > 0) await text.write(out);
      if ((handler as SheetHandler).holding) this.held.push({ handler: handler as SheetHandler, text });
      else await text.end();
    };
    /** What was kept, read now (the handler holds its rows if the strings are still unknown). */
    const readKept = async () => {
      const bytes = kept as DeferredBytes;
      kept = undefined;
      this.deferredBytes -= bytes.bytes;
      start();
      for (const piece of bytes.take()) await read(piece);
    };
    if (kept === undefined) start();
    const sink: ByteSink = {
      write: async (chunk) => {
        if (kept !== undefined) {
          if (this.deferredBytes + chunk.length <= MAX_DEFERRED_BYTES) {
            kept.add(chunk);
            this.deferredBytes += chunk.length;
            return;
          }
          // Too big to keep: read from the start, rows held (a chunk in kept memory stays valid).
          await readKept();
        }
        await read(chunk);
      },
      end: async () => {
        if (kept === undefined) return finish();
        this.deferred.push(async () => {
          await readKept();
          await finish();
        });
      },
    };
    return { sink: this.ctx.probed(sink), room: (bytes) => (kept !== undefined ? kept.room(bytes) : (reader as SheetScan).room(bytes)) };
  }

  private sharedStrings(): { sink: ByteSink; reader: PartScan } {
    const handler = new SharedStringsHandler(this.workbook);
    const spill = this.ctx.text(this.depth);
    const reader = new StringsScan(handler);
    const sink = xmlSink(reader, () => handler.take(), spill, async () => {
      await spill.end();
      this.workbook.setStrings(handler.strings);
      await this.readDeferred();
      await this.release();
    });
    return { sink, reader };
  }
}

/** XML bytes through `reader`, the text it makes to `text` after every chunk, `done` at the end. */
function xmlSink(reader: PartReader, take: () => string, text: TextSink, done: () => Promise<void>): ByteSink {
  const flush = async () => {
    const out = take();
    if (out.length > 0) await text.write(out);
  };
  return {
    async write(chunk) {
      reader.write(chunk);
      await flush();
    },
    async end() {
      reader.end();
      await flush();
      await done();
    },
  };
}
