// A worksheet that comes before the shared string table is kept as its XML bytes and read when
// the table is known (spreadsheet-deferred.ts, office-parts.ts). The bytes kept are the bytes
// handed over, whether the inflater wrote them into the lent room or they came from buffers of
// their own, at any cut; a sheet before the table reads as the same text as after it (cut XML,
// a cell larger than a kernel call carries, cells cut by chunks of 1 to 7 bytes); past the
// workbook's budget a sheet is read at once and its rows held, as before; with no table at all
// the rows come out with their indices at the end; and through the zip reader's inflater.
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { ByteSink } from '../../../src/icap-server/decode/byte-sink.js';
import type { Extraction } from '../../../src/icap-server/decode/extraction.js';
import { MAX_DEFERRED_BYTES, OfficeParts } from '../../../src/icap-server/extract/office-parts.js';
import { DeferredBytes, REPLAY_BYTES } from '../../../src/icap-server/extract/spreadsheet-deferred.js';
import { scan } from './helpers.js';
import { xlsx } from './extract-fixtures.js';

function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 8) / 2 ** 24;
}

/** An Extraction for OfficeParts alone: each text sink's text, in the order the sinks were made. */
function fakeContext(): { ctx: Extraction; texts: string[]; ended: boolean[] } {
  const texts: string[] = [];
  const ended: boolean[] = [];
  const nothing: ByteSink = { write: async () => undefined, end: async () => undefined };
  const ctx = {
    text: () => {
      const k = texts.push('') - 1;
      ended.push(false);
      return { write: (s: string) => void (texts[k] += s), end: () => void (ended[k] = true) };
    },
    probed: (sink: ByteSink) => sink,
    file: () => nothing,
    encrypted: () => undefined,
  } as unknown as Extraction;
  return { ctx, texts, ended };
}

/** Parts handed to OfficeParts in order, each cut at `cuts` sizes (cycled), through the lent room when `lend`. */
async function readParts(parts: Array<{ name: string; data: Buffer }>, cuts: readonly number[], lend: boolean): Promise<string[]> {
  const { ctx, texts, ended } = fakeContext();
  const office = new OfficeParts(ctx, 1);
  let k = 0;
  for (const part of parts) {
    const { sink, room } = office.open(part.name);
    for (let at = 0; at < part.data.length; ) {
      const size = Math.max(1, cuts[k++ % cuts.length] as number);
      const chunk = part.data.subarray(at, at + size);
      if (lend && room !== undefined) {
        const lent = room(chunk.length);
        chunk.copy(lent);
        await sink.write(lent.subarray(0, chunk.length));
      } else await sink.write(Buffer.from(chunk));
      at += size;
    }
    await sink.end();
  }
  await office.finish();
  expect(ended.every(Boolean)).toBe(true);
  return texts.filter((t) => t !== '');
}

const STRINGS = ['Name', 'Card number', 'caf\u00e9 4111 1111 1111 1111', '\ud83d\ude00 x & <y>'];
const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function sheet(rows: number, seed: number, options: { huge?: number; cutAt?: number } = {}): Buffer {
  const rand = random(seed);
  const out = ['<?xml version="1.0"?>\n<worksheet><sheetData>'];
  for (let r = 0; r < rows; r++) {
    const inline = r === options.huge ? 'x'.repeat(300 * 1024) : `word ${Math.floor(rand() * 1e6)}`;
    out.push(`<row r="${r + 1}"><c r="A${r + 1}" t="s"><v>${Math.floor(rand() * STRINGS.length)}</v></c><c r="C${r + 1}"><v>${Math.floor(rand() * 1e6)}</v></c>`);
    out.push(`<c r="D${r + 1}" t="inlineStr"><is><t>${inline}</t></is></c><c r="E${r + 1}" t="s"><v>${r % 7 === 3 ? 99 : r % 7 === 4 ? '002' : 1}</v></c></row>`);
  }
  out.push('</sheetData></worksheet>');
  const bytes = Buffer.from(out.join(''));
  return options.cutAt === undefined ? bytes : bytes.subarray(0, options.cutAt);
}

/** The table: STRINGS, then one no cell refers to. */
const table = () => Buffer.from(`<sst count="5">${[...STRINGS, 'orphan words'].map((s) => `<si><t>${xml(s)}</t></si>`).join('')}</sst>`);
const SHEET = 'xl/worksheets/sheet1.xml';
const SST = 'xl/sharedStrings.xml';

describe('a worksheet kept as bytes until the shared strings are known', () => {
  it('keeps the bytes handed over, written into the lent room or copied, at any cut', () => {
    const rand = random(5);
    for (let round = 0; round < 40; round++) {
      const kept = new DeferredBytes();
      const want: Buffer[] = [];
      let total = 0;
      while (total < (round % 4 === 0 ? 20_000 : 3 * 1024 * 1024)) {
        const size = round % 4 === 0 ? Math.floor(rand() * 8) : Math.floor(rand() * rand() * 1.5 * 1024 * 1024);
        const chunk = Buffer.from(Array.from({ length: Math.min(size, 4096) }, () => Math.floor(rand() * 256)));
        const data = size > 4096 ? Buffer.concat(Array.from({ length: Math.ceil(size / 4096) }, () => chunk)).subarray(0, size) : chunk;
        if (rand() < 0.5) {
          const room = kept.room(data.length + Math.floor(rand() * 100));
          data.copy(room);
          kept.add(room.subarray(0, data.length));
        } else kept.add(data);
        want.push(data);
        total += data.length;
      }
      expect(kept.bytes).toBe(total);
      const pieces = [...kept.take()];
      expect(pieces.every((p) => p.length > 0 && p.length <= REPLAY_BYTES)).toBe(true);
      expect(Buffer.concat(pieces).equals(Buffer.concat(want))).toBe(true);
      expect(kept.bytes).toBe(0);
      expect([...kept.take()]).toEqual([]);
    }
  });

  it('a sheet before the table reads as after it: cut by chunks of 1 to 7 bytes, at random, whole, lent or not', async () => {
    const rand = random(9);
    const data = sheet(400, 3);
    const want = await readParts([{ name: SST, data: table() }, { name: SHEET, data }], [1 << 30], false);
    expect(want.join('')).toContain('caf\u00e9 4111 1111 1111 1111');
    expect(want.join('')).toContain('\t99\n');
    expect(want.join('')).toContain('\tcaf\u00e9 4111 1111 1111 1111\n');
    expect(want.at(-1)).toContain('orphan words');
    for (const cuts of [[1], [2], [3], [5], [7], [65536], [1 << 30], Array.from({ length: 50 }, () => 1 + Math.floor(rand() * 9000))]) {
      for (const lend of [false, true]) expect(await readParts([{ name: SHEET, data }, { name: SST, data: table() }], cuts, lend)).toEqual(want);
    }
  });

  it('hostile sheets before the table: cut XML, a cell larger than a kernel call carries, a damaged tag', async () => {
    const cases = [sheet(300, 4, { cutAt: 9000 }), sheet(300, 4, { cutAt: 9001 }), sheet(40, 6, { huge: 20 }), Buffer.from(sheet(300, 7).toString().replace('<c r="C150"', '<c r="C150" <<<'))];
    for (const data of cases) {
      const want = await readParts([{ name: SST, data: table() }, { name: SHEET, data }], [1 << 30], false);
      for (const cuts of [[7], [4096], [65536]]) for (const lend of [false, true]) expect(await readParts([{ name: SHEET, data }, { name: SST, data: table() }], cuts, lend)).toEqual(want);
    }
  });

  it('sheets past the workbook budget are read at once, their rows held, and read the same', async () => {
    const row = (r: number) => `<row r="${r}"><c r="A${r}" t="s"><v>${r % 4}</v></c></row>`;
    const rows: string[] = [];
    for (let r = 1, size = 0; size < MAX_DEFERRED_BYTES / 2 + 4096; r++) size += rows[rows.push(row(r)) - 1]!.length;
    const data = Buffer.from(`<worksheet><sheetData>${rows.join('')}</sheetData></worksheet>`);
    // Two sheets of more than half the budget: the first is kept, the second is read as it comes.
    const names = ['xl/worksheets/sheet1.xml', 'xl/worksheets/sheet2.xml'];
    const want = await readParts([{ name: SST, data: table() }, ...names.map((name) => ({ name, data }))], [65536], true);
    expect(want).toHaveLength(3);
    expect(await readParts([...names.map((name) => ({ name, data })), { name: SST, data: table() }], [65536], true)).toEqual(want);
  });

  it('with no table, the rows come out with their indices at the end', async () => {
    const data = sheet(50, 8);
    const [text] = await readParts([{ name: SHEET, data }], [777], true);
    expect(text?.split('\n')[0]).toMatch(/^\d\t\t\d+\tword \d+\t1$/);
  });

  it('through the zip reader and its inflater, Excel\'s order reads as the other', async () => {
    const rows = [['Name', 'Card number'], ...Array.from({ length: 3000 }, (_, i) => [`person ${i}`, i === 2500 ? '4111 1111 1111 1111' : `${i}`])];
    expect(zlib.deflateRawSync(Buffer.from(JSON.stringify(rows))).length).toBeGreaterThan(1000);
    for (const stringsFirst of [false, true]) expect(await scan(xlsx(rows, { stringsFirst }), { content: { contentType: 'application/octet-stream' } })).toEqual(['payment-card']);
  });
});
