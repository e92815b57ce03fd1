// The memory a worksheet or shared string reader lends for its next chunk (PartScan.room,
// spreadsheet-scan.ts): a chunk written there is read in place, after the carry, and reads as the
// same chunk handed over from a buffer of its own does; at any cut, with rows carried from chunk
// to chunk, with readers of two parts taking turns, after the kernel handed a part to the
// tokenizer, through the zip reader's inflater; a lent room that another read overwrote is an
// error, not wrong text.
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DecodeBudget } from '../../../src/icap-server/decode/byte-sink.js';
import { Findings } from '../../../src/icap-server/detectors/findings.js';
import { SheetHandler, Workbook } from '../../../src/icap-server/extract/spreadsheet-cells.js';
import { type PartScan, SheetScan, StringsScan } from '../../../src/icap-server/extract/spreadsheet-scan.js';
import { SharedStringsHandler } from '../../../src/icap-server/extract/spreadsheet-strings.js';
import { RawInflater } from '../../../src/icap-server/extract/raw-inflater.js';
import { listOf, tableOf } from './shared-strings-list.js';

function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 8) / 2 ** 24;
}

const STRINGS = ['alpha', 'caf\u00e9 4111 1111 1111 1111', '\ud83d\ude00 x'];

/** A sheet of `rows` rows: shared strings, numbers, inline text; `odd` puts an entity in one row (the tokenizer reads on from there). */
function sheet(rows: number, seed: number, odd = -1): Buffer {
  const rand = random(seed);
  const out = ['<?xml version="1.0"?>\n<worksheet><sheetData>'];
  for (let r = 0; r < rows; r++) {
    out.push(`<row r="${r + 1}"><c r="A${r + 1}" t="s"><v>${Math.floor(rand() * 3)}</v></c><c r="C${r + 1}"><v>${Math.floor(rand() * 1e6)}</v></c>`);
    out.push(`<c r="D${r + 1}" t="inlineStr"><is><t>caf\u00e9 ${'word '.repeat(Math.floor(rand() * 30))}${r === odd ? '&amp; ' : ''}4111 1111 1111 ${1000 + r}</t></is></c></row>`);
  }
  out.push('</sheetData></worksheet>');
  return Buffer.from(out.join(''));
}

function strings(count: number): Buffer {
  const out = ['<sst count="9">'];
  for (let k = 0; k < count; k++) out.push(`<si><t>${STRINGS[k % 3]} ${k}${k % 50 === 7 ? ' &lt;b&gt;' : ''}</t></si>`);
  out.push('</sst>');
  return Buffer.from(out.join(''));
}

/** Hands `xml` over at `cuts` (ascending), each chunk written into the lent room when `lend`. */
function feed(reader: PartScan, xml: Buffer, cuts: readonly number[], lend: boolean, each: () => void = () => undefined): void {
  let from = 0;
  for (const cut of [...cuts, xml.length]) {
    const chunk = xml.subarray(from, cut);
    if (lend) {
      const room = reader.room(chunk.length);
      chunk.copy(room);
      reader.write(room.subarray(0, chunk.length));
    } else reader.write(chunk);
    each();
    from = cut;
  }
  reader.end();
}

function sheetText(xml: Buffer, cuts: readonly number[], lend: boolean): string {
  const book = new Workbook();
  book.setStrings(tableOf(STRINGS));
  const handler = new SheetHandler(book);
  let text = '';
  feed(new SheetScan(handler), xml, cuts, lend, () => (text += handler.take()));
  return text + handler.take();
}

function cutsOf(rand: () => number, length: number): number[][] {
  const list: number[][] = [];
  for (let round = 0; round < 30; round++) list.push(Array.from({ length: 1 + Math.floor(rand() * 20) }, () => Math.floor(rand() * length)).sort((a, b) => a - b));
  for (const size of [1, 2, 3, 5, 7, 4096, 65536]) list.push(Array.from({ length: Math.floor((length - 1) / size) }, (_, i) => (i + 1) * size));
  return list;
}

describe('the room a worksheet or shared string reader lends', () => {
  it('a lent room the memory grew away from (a larger read in between) is an error, not a chunk lost', () => {
    const book = new Workbook();
    book.setStrings(tableOf(STRINGS));
    const first = new SheetScan(new SheetHandler(book));
    const room = first.room(100);
    sheet(1, 9).copy(room);
    // Reserving for the largest read there is grows the memory (first in this file): the room lent is gone with the old one.
    new SheetScan(new SheetHandler(book)).room(1024 * 1024);
    expect(room.byteLength).toBe(0);
    expect(() => first.write(room)).toThrow(/lent kernel memory/);
  });

  it('a chunk written into it reads as the same chunk of its own, at random cuts and at chunks of 1..7 and 64 KiB, the kernel reading to the end or handing over', () => {
    const rand = random(3);
    for (const xml of [sheet(400, 1), sheet(400, 2, 123)]) {
      const want = sheetText(xml, [], false);
      expect(want).toContain('caf\u00e9 4111 1111 1111 1111');
      for (const cuts of cutsOf(rand, xml.length)) expect(sheetText(xml, cuts, true) === want, `cuts ${cuts.slice(0, 8).join(',')}...`).toBe(true);
    }
  });

  it('shared strings written into it read as from buffers of their own', () => {
    const xml = strings(3000);
    const read = (cuts: readonly number[], lend: boolean) => {
      const handler = new SharedStringsHandler(new Workbook());
      feed(new StringsScan(handler), xml, cuts, lend);
      return listOf(handler.strings);
    };
    const want = read([], false);
    expect(want).toHaveLength(3000);
    expect(want[7]).toBe('caf\u00e9 4111 1111 1111 1111 7 <b>');
    for (const cuts of cutsOf(random(4), xml.length)) expect(read(cuts, true)).toEqual(want);
  });

  it('a row longer than what is carried, lent chunk after lent chunk, is read on by the tokenizer', () => {
    const row = `<row r="1">${'<c r="A1" t="inlineStr"><is><t>4111 1111 1111 1111 </t></is></c>'.repeat(6000)}</row>`;
    const xml = Buffer.from(`<worksheet><sheetData>${row}${row}</sheetData></worksheet>`);
    const cuts = Array.from({ length: Math.floor(xml.length / 65536) }, (_, i) => (i + 1) * 65536);
    expect(sheetText(xml, cuts, true)).toBe(sheetText(xml, [], false));
  });

  it('readers of two parts taking turns, each lending its own room, read what each reads alone', () => {
    const a = sheet(300, 5);
    const b = sheet(300, 6, 40);
    const book = new Workbook();
    book.setStrings(tableOf(STRINGS));
    const ha = new SheetHandler(book);
    const hb = new SheetHandler(book);
    const ra = new SheetScan(ha);
    const rb = new SheetScan(hb);
    let ta = '';
    let tb = '';
    for (let at = 0; at < Math.max(a.length, b.length); at += 1000) {
      for (const [reader, xml] of [[ra, a], [rb, b]] as const) {
        const chunk = xml.subarray(at, at + 1000);
        if (chunk.length === 0) continue;
        const room = reader.room(chunk.length);
        chunk.copy(room);
        reader.write(room.subarray(0, chunk.length));
      }
      ta += ha.take();
      tb += hb.take();
    }
    ra.end();
    rb.end();
    expect(ta + ha.take()).toBe(sheetText(a, [], false));
    expect(tb + hb.take()).toBe(sheetText(b, [], false));
  });

  it('a lent room that another read overwrote before it was handed back is an error, not wrong text', () => {
    const book = new Workbook();
    book.setStrings(tableOf(STRINGS));
    const first = new SheetScan(new SheetHandler(book));
    const other = new SheetScan(new SheetHandler(book));
    const xml = sheet(20, 7);
    const room = first.room(xml.length);
    xml.copy(room);
    other.write(sheet(3, 8));
    expect(() => first.write(room.subarray(0, xml.length))).toThrow(/lent kernel memory/);
  });

  it('a deflated worksheet through the zip reader\'s inflater, which writes each piece into the room, reads as the sheet itself', async () => {
    const xml = sheet(3000, 11, 2500);
    const book = new Workbook();
    book.setStrings(tableOf(STRINGS));
    const handler = new SheetHandler(book);
    const reader = new SheetScan(handler);
    let text = '';
    const sink = { write: async (chunk: Buffer) => void (reader.write(chunk), (text += handler.take())), end: async () => void (reader.end(), (text += handler.take())) };
    const inflater = new RawInflater(sink, new DecodeBudget({ maxDecodedBytes: 1 << 30, maxRatio: 1000, maxEntries: 10 }, new Findings()).ratio(), (bytes) => reader.room(bytes));
    const deflated = zlib.deflateRawSync(xml);
    for (let at = 0; at < deflated.length; at += 4096) await inflater.write(deflated.subarray(at, at + 4096));
    await inflater.end();
    await sink.end();
    expect(xml.length).toBeGreaterThan(4 * 65536);
    expect(text).toBe(sheetText(xml, [], false));
  });
});
