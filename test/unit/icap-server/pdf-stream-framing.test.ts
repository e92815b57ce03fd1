// How the PDF reader frames a Flate stream of known /Length (pdf-reader.ts): one whose bytes the
// body's chunks cut waits for the rest and is inflated at once, one too long to wait for streams;
// either way its text is read wherever the cuts fall, and a file cut inside a waiting stream has
// what follows the cut scanned.
import { randomBytes } from 'node:crypto';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { chunked, pdf } from './extract-fixtures.js';
import { scan } from './helpers.js';

const CARD = 'payment card 4111 1111 1111 1111 expires 05/28';
const PDF = { content: { contentType: 'application/pdf' } };

/** Where the data of the `nth` stream of `file` (pdf() writes a page's content stream after the page) lies. */
function streamData(file: Buffer, nth: number): { start: number; end: number } {
  let at = 0;
  for (let k = 0; k <= nth; k++) at = file.indexOf('stream\n', at + 1, 'latin1');
  return { start: at + 'stream\n'.length, end: file.indexOf('\nendstream', at, 'latin1') };
}

describe('PDF Flate streams of known length', () => {
  const file = pdf([['hello world', 'nothing here'], ['the next page', CARD], ['last page']]);

  it('a content stream cut by the body chunks at any place is read', async () => {
    const { start, end } = streamData(file, 1);
    for (let cut = start - 8; cut <= end + 8; cut++) {
      expect(await scan([file.subarray(0, cut), file.subarray(cut)], PDF), `cut at ${cut}`).toContain('payment-card');
    }
    for (const size of [1, 2, 3, 5, 7, 64]) expect(await scan(chunked(file, size), PDF), `chunks of ${size}`).toContain('payment-card');
    expect(await scan(pdf([['hello world'], ['the next page'], ['last page']]), PDF)).toEqual([]);
  });

  it('a file cut inside a stream that waits for its bytes has what follows the cut scanned', async () => {
    const clean = pdf([['hello world', 'nothing here'], ['the next page']]);
    const { start, end } = streamData(clean, 1);
    for (let cut = start; cut < end; cut++) {
      const body = Buffer.concat([clean.subarray(0, cut), Buffer.from(`\n${CARD}\n`)]);
      for (const size of [7, body.length]) expect(await scan(chunked(body, size), PDF), `cut at ${cut}, chunks of ${size}`).toContain('payment-card');
    }
  });

  it('a stream too long to wait for is streamed, and read at any chunk size', async () => {
    // Hex text does not compress below half: 700 KiB of it makes a stream of more than 256 KiB.
    const noise = Array.from({ length: 700 }, () => randomBytes(512).toString('hex').slice(0, 1000));
    const long = pdf([noise.concat(CARD), ['after it']]);
    const { start, end } = streamData(long, 0);
    expect(end - start).toBeGreaterThan(256 * 1024);
    for (const size of [65536, 4099, long.length]) {
      const found = await scan(chunked(long, size), PDF);
      expect(found, `chunks of ${size}`).toContain('payment-card');
    }
    const cut = Buffer.concat([long.subarray(0, start + 300_000), Buffer.from(`\n${CARD}\n`)]);
    expect(await scan(chunked(cut, 65536), PDF)).toContain('payment-card');
  });
});

describe('PDF streams read through their filter chain (made when a stream is first streamed, not for those inflated at once)', () => {
  const content = Buffer.from(`BT /F1 9 Tf (${CARD}) Tj ET`, 'latin1');
  const object = (n: number, dict: string, data: Buffer) => Buffer.concat([Buffer.from(`${n} 0 obj\n${dict}\nstream\n`, 'latin1'), data, Buffer.from('\nendstream\nendobj\n', 'latin1')]);
  const file = (...objects: Buffer[]) => Buffer.concat([Buffer.from('%PDF-1.7\n', 'latin1'), ...objects, Buffer.from('trailer\n<< >>\n%%EOF\n', 'latin1')]);
  const flate = zlib.deflateSync(content);
  const hex = Buffer.from(`${flate.toString('hex')}>`, 'latin1');
  const nothing = zlib.deflateSync('BT /F1 9 Tf (nothing) Tj ET');
  const cases: Array<[string, Buffer]> = [
    ['Flate without /Length (read to endstream)', file(object(1, '<< /Filter /FlateDecode >>', flate))],
    ['a Flate stream that does not inflate', file(object(1, `<< /Length ${content.length} /Filter /FlateDecode >>`, content))],
    ['ASCIIHex over Flate', file(object(1, `<< /Length ${hex.length} /Filter [/ASCIIHexDecode /FlateDecode] >>`, hex))],
    ['an unknown filter', file(object(1, `<< /Length ${content.length} /Filter /Weird >>`, content))],
    ['no filter', file(object(1, `<< /Length ${content.length} >>`, content))],
    ['Flate, then a stream without /Length cut by the end of the file', Buffer.concat([Buffer.from('%PDF-1.7\n'), object(1, `<< /Length ${nothing.length} /Filter /FlateDecode >>`, nothing), Buffer.from('2 0 obj\n<< /Filter /FlateDecode >>\nstream\n'), flate])],
  ];

  it('each is read whole and at every chunk size that cuts it', async () => {
    for (const [name, body] of cases) {
      for (const size of [body.length, 64, 7, 1]) expect(await scan(chunked(body, size), PDF), `${name}, chunks of ${size}`).toContain('payment-card');
    }
  });
});
