// Hostile files: every extractor fed truncated, bit-flipped and spliced versions of valid files
// (and plain random bytes), at random chunk sizes. A scan must always end, with a verdict or with
// the limit that stopped it, in bounded time: never an exception, never a hang.
import zlib from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bzip2, xz } from '../../corpus/writers/archive-writers.js';
import { docx, pdf, xlsx, zip } from './extract-fixtures.js';
import { scan } from './helpers.js';

const keyword = { detectors: { keywords: [{ name: 'top-secret', words: ['TOP-SECRET'] }] } };
const secret = Buffer.from('memo: TOP-SECRET plans for the merger, card 4111 1111 1111 1111');
const mail = Buffer.from(
  `From: a@example.com\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: application/zip\r\nContent-Transfer-Encoding: base64\r\n\r\n${zip([{ name: 'a.txt', data: secret }]).toString('base64')}\r\n--b--\r\n`,
);
const rtf = Buffer.from(String.raw`{\rtf1\ansi{\fonttbl{\f0 Arial;}}\pard memo: TOP\'2dSECRET \u8364? \bin4 abcd{\*\x y}\par}`);
const seeds: Array<[string, Buffer]> = [
  ['zip', zip([{ name: 'a.txt', data: secret }, { name: 'b.txt', data: secret, descriptor: true }, { name: 'c.txt', data: secret, zip64: true, method: 0 }])],
  ['docx', docx(['memo: TOP-|SECRET plans'])],
  ['xlsx', xlsx([['a', 'b'], ['TOP-SECRET', 1]])],
  ['pdf', pdf([['memo: TOP-SECRET']], { toUnicode: true, objectStream: true })],
  ['gzip', zlib.gzipSync(secret)],
  ['bzip2', bzip2(Buffer.concat([secret, Buffer.alloc(3000, 0x61), secret]))],
  ['xz', xz(secret)],
  ['mail', mail],
  ['rtf', rtf],
  ['json', Buffer.from(JSON.stringify({ f: zip([{ name: 'a', data: secret }]).toString('base64') }))],
  ['utf16', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('memo TOP-SECRET', 'utf16le')])],
];

/** A mutation of `seed`: cut, bytes flipped or overwritten, a piece spliced in twice. */
const mutated = (seed: Buffer) =>
  fc
    .record({
      cut: fc.nat({ max: seed.length }),
      flips: fc.array(fc.record({ at: fc.nat({ max: Math.max(0, seed.length - 1) }), value: fc.integer({ min: 0, max: 255 }) }), { maxLength: 8 }),
      splice: fc.option(fc.record({ from: fc.nat({ max: seed.length }), length: fc.nat({ max: 256 }) })),
      chunk: fc.integer({ min: 1, max: 4096 }),
    })
    .map(({ cut, flips, splice, chunk }) => {
      const bytes = Buffer.from(seed);
      for (const f of flips) bytes[f.at] = f.value;
      let body = bytes.subarray(0, Math.max(cut, 1));
      if (splice) body = Buffer.concat([body, bytes.subarray(splice.from, splice.from + splice.length), bytes.subarray(splice.from)]);
      return { body, chunk };
    });

describe('hostile input to the extractors', () => {
  it.each(seeds)('a mutated %s always ends in bounded time', async (_, seed) => {
    await fc.assert(
      fc.asyncProperty(mutated(seed), async ({ body, chunk }) => {
        const started = Date.now();
        const chunks = Array.from({ length: Math.ceil(body.length / chunk) }, (_, i) => body.subarray(i * chunk, (i + 1) * chunk));
        const found = await scan(chunks, { content: { contentType: 'application/octet-stream' }, icapServer: keyword });
        expect(Array.isArray(found)).toBe(true);
        expect(Date.now() - started).toBeLessThan(5000);
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? (process.env.CI ? 60 : 25)) },
    );
  });

  it('random bytes with container magic numbers in front always end', async () => {
    const magics = ['PK\u0003\u0004', '\u001f\u008b\u0008', 'BZh9', '\u00fd7zXZ\u0000', '%PDF-1.7', '{\\rtf1', '\u00d0\u00cf\u0011\u00e0\u00a1\u00b1\u001a\u00e1', 'From: a\r\nMIME-Version: 1.0\r\n'];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...magics), fc.uint8Array({ maxLength: 4096 }), async (magic, rest) => {
        const found = await scan(Buffer.concat([Buffer.from(magic, 'latin1'), Buffer.from(rest)]), { content: { contentType: 'application/octet-stream' } });
        expect(Array.isArray(found)).toBe(true);
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? (process.env.CI ? 200 : 80)) },
    );
  });
});
