// The memory an OOXML text part lends for its next chunk (LendingSink.room, ooxml-text.ts): a chunk
// written there is read in place, and reads as the same chunk handed over from a buffer of its own
// does; at any cut, carried runs included, with parts of several scans taking turns, through the
// zip reader's inflater; a lent room another part's read overwrote is an error, not wrong text.
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DecodeBudget } from '../../../src/icap-server/decode/byte-sink.js';
import { Findings } from '../../../src/icap-server/detectors/findings.js';
import { type LendingSink, ooxmlText } from '../../../src/icap-server/extract/ooxml-text.js';
import { RawInflater } from '../../../src/icap-server/extract/raw-inflater.js';

function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 8) / 2 ** 24;
}

function part(paragraphs: number, seed: number): Buffer {
  const rand = random(seed);
  const runs = Array.from({ length: paragraphs }, (_, i) => {
    const long = 'word '.repeat(Math.floor(rand() * 40));
    return `<w:p><w:r><w:rPr><w:b/></w:rPr><w:t xml:space="preserve">caf\u00e9 ${i} ${long}&amp; 4111 1111 1111 ${1000 + i}</w:t></w:r><w:r><w:tab/><w:t>\u65e5\u672c ${seed}</w:t></w:r></w:p>`;
  });
  return Buffer.from(`<w:document><w:body>${runs.join('')}</w:body></w:document>`);
}

interface Reader {
  sink: LendingSink;
  text: () => string;
}

function reader(): Reader {
  let text = '';
  return { sink: ooxmlText({ write: async (t) => void (text += t), end: async () => undefined }), text: () => text };
}

/** Hands `xml` over at `cuts` (ascending), each chunk written into the lent room when `lend`. */
async function feed(r: Reader, xml: Buffer, cuts: readonly number[], lend: boolean): Promise<void> {
  let from = 0;
  for (const cut of [...cuts, xml.length]) {
    const chunk = xml.subarray(from, cut);
    if (lend) {
      const room = r.sink.room(chunk.length);
      chunk.copy(room);
      await r.sink.write(room.subarray(0, chunk.length));
    } else await r.sink.write(chunk);
    from = cut;
  }
  await r.sink.end();
}

describe('the room an OOXML text part lends', () => {
  const xml = part(300, 1);

  it('a chunk written into it reads as the same chunk of its own, at random cuts and at chunks of 1..7', async () => {
    const plain = reader();
    await feed(plain, xml, [], false);
    expect(plain.text()).toContain('caf\u00e9 7 word');
    const rand = random(5);
    const cutsList: number[][] = [];
    for (let round = 0; round < 40; round++) cutsList.push(Array.from({ length: 1 + Math.floor(rand() * 20) }, () => Math.floor(rand() * xml.length)).sort((a, b) => a - b));
    for (const size of [1, 2, 3, 5, 7, 4096]) cutsList.push(Array.from({ length: Math.floor((xml.length - 1) / size) }, (_, i) => (i + 1) * size));
    for (const cuts of cutsList) {
      const lent = reader();
      await feed(lent, xml, cuts, true);
      expect(lent.text() === plain.text(), `cuts ${cuts.slice(0, 8).join(',')}...`).toBe(true);
    }
  });

  it('a run longer than what is kept between chunks reads the same through it (read as it comes, from inside the room)', async () => {
    const run = `${'lorem ipsum dolor '.repeat(70_000)}card &#52;111 1111 1111 1111 caf\u00e9 ${'sit amet '.repeat(30_000)}`;
    const long = Buffer.from(`<w:document><w:body><w:p><w:r><w:t xml:space="preserve">${run}</w:t></w:r></w:p><w:p><w:r><w:t>after</w:t></w:r></w:p></w:body></w:document>`);
    const plain = reader();
    await feed(plain, long, [], false);
    expect(plain.text()).toBe(`${run.replace('&#52;', '4')}\nafter\n`);
    const at = long.indexOf('&#52;');
    for (const size of [65536, 65521]) {
      for (const shift of [0, 2, 4]) {
        const cuts = [at + shift];
        for (let c = size; c < long.length; c += size) cuts.push(c);
        const lent = reader();
        await feed(lent, long, cuts.sort((a, b) => a - b), true);
        expect(lent.text() === plain.text(), `chunks of ${size}, a cut at the reference + ${shift}`).toBe(true);
      }
    }
  });

  it('parts of several scans taking turns each read their own text', async () => {
    const xmls = [part(200, 2), part(250, 3), part(150, 4)];
    const expected: string[] = [];
    for (const x of xmls) {
      const r = reader();
      await feed(r, x, [], false);
      expected.push(r.text());
    }
    const readers = xmls.map(() => reader());
    const at = xmls.map(() => 0);
    const rand = random(11);
    while (at.some((a, i) => a < (xmls[i] as Buffer).length)) {
      const i = Math.floor(rand() * xmls.length);
      const x = xmls[i] as Buffer;
      if ((at[i] as number) >= x.length) continue;
      const chunk = x.subarray(at[i], (at[i] as number) + 1 + Math.floor(rand() * 3000));
      at[i] = (at[i] as number) + chunk.length;
      const room = (readers[i] as Reader).sink.room(chunk.length);
      chunk.copy(room);
      await (readers[i] as Reader).sink.write(room.subarray(0, chunk.length));
    }
    for (const r of readers) await r.sink.end();
    expect(readers.map((r) => r.text())).toEqual(expected);
  });

  it('a room another part read over before it was written back is an error', async () => {
    const a = reader();
    const b = reader();
    const room = a.sink.room(100);
    xml.copy(room, 0, 0, 100);
    await b.sink.write(xml.subarray(0, 200));
    await expect(a.sink.write(room.subarray(0, 100))).rejects.toThrow(/reused before it was read/);
  });

  it('the zip inflater writes into it: a part of several megabytes reads as it does from plain chunks, at chunks of 1..7 and more', async () => {
    const big = part(12_000, 6);
    expect(big.length).toBeGreaterThan(2 * 1024 * 1024);
    const plain = reader();
    await feed(plain, big, [], false);
    const deflated = zlib.deflateRawSync(big);
    for (const size of [1, 3, 7, 65536, deflated.length]) {
      const r = reader();
      const budget = new DecodeBudget({ maxDecodedBytes: 1 << 30, maxRatio: 1000, maxEntries: 10 }, new Findings());
      const inflater = new RawInflater(r.sink, budget.ratio(), (bytes) => r.sink.room(bytes));
      let used = 0;
      for (let at = 0; at < deflated.length; at += size) used += await inflater.write(deflated.subarray(at, at + size));
      await inflater.end();
      await r.sink.end();
      expect({ size, used, failed: inflater.failed }).toEqual({ size, used: deflated.length, failed: false });
      expect(r.text() === plain.text(), `chunks of ${size}`).toBe(true);
    }
  });
});
