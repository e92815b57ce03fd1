// Bytes a container reader cannot account for are scanned as text (Extraction.leftover): a card
// number behind a container's magic, after its end, or after the place where it is cut must be
// found, as a hostile uploader would try each. And a container's failure must not nest: random
// bytes that start like gzip are not `decode-limit:depth` (they were: the raw bytes were sniffed as
// gzip again, ten levels deep).
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { type ByteSink, DecodeBudget } from '../../../src/icap-server/decode/byte-sink.js';
import { BodyScan } from '../../../src/icap-server/decode/body-scan.js';
import { contentDecoder } from '../../../src/icap-server/decode/content-decoder.js';
import { buildDetectorSet } from '../../../src/icap-server/detectors/detector-set.js';
import { Findings } from '../../../src/icap-server/detectors/findings.js';
import { bzip2, tar, xz } from '../../corpus/writers/archive-writers.js';
import { eml, rtf } from '../../corpus/writers/text-writers.js';
import { chunked, docx, pdf, xlsx, zip } from './extract-fixtures.js';
import { scan, serverConfig } from './helpers.js';

const CARD = 'payment card 4111 1111 1111 1111 expires 05/28';
const secret = Buffer.from(`\n${CARD}\n`);
const clean = Buffer.from('hello world, nothing to see here\n');

const containers: Array<[string, Buffer]> = [
  ['gzip', zlib.gzipSync(clean)],
  ['bzip2', bzip2(clean)],
  ['xz', xz(clean)],
  ['zip, deflated', zip([{ name: 'a.txt', data: clean }])],
  ['zip, stored', zip([{ name: 'a.txt', data: clean, method: 0 }])],
  ['zip, data descriptor', zip([{ name: 'a.txt', data: clean, descriptor: true }])],
  ['tar', tar([{ name: 'a.txt', data: clean }])],
  ['docx', docx(['hello world'])],
  ['xlsx', xlsx([['hello', 1]])],
  ['pdf', pdf([['hello world']])],
  ['mail', eml('hello', 'hello world')],
  ['rtf', rtf(['hello world'])],
];

const ways: Array<[string, (c: Buffer) => Buffer]> = [
  ['appended after its end', (c) => Buffer.concat([c, secret])],
  ['behind its first 8 bytes only', (c) => Buffer.concat([c.subarray(0, 8), secret])],
  ['after its first half', (c) => Buffer.concat([c.subarray(0, Math.floor(c.length / 2)), secret])],
  ['after its last byte is dropped', (c) => Buffer.concat([c.subarray(0, c.length - 1), secret])],
];

describe('bytes a container reader cannot account for are scanned', () => {
  for (const [name, container] of containers) {
    for (const [way, build] of ways) {
      it(`${name}: a card number ${way}`, async () => {
        const body = build(container);
        for (const size of [body.length, 7]) {
          const found = await scan(chunked(body, size), { content: { contentType: 'application/octet-stream' } });
          expect(found, `chunks of ${size}`).toContain('payment-card');
          expect(found).not.toContain('decode-limit:depth');
        }
      });
    }
    it(`${name}: the container alone has no finding`, async () => {
      expect(await scan(container, { content: { contentType: 'application/octet-stream' } })).toEqual([]);
    });
  }

  for (const [coding, packed] of [
    ['gzip', zlib.gzipSync(clean)],
    ['deflate', zlib.deflateSync(clean)],
    ['deflate (raw, as some servers send it)', zlib.deflateRawSync(clean)],
    ['br', zlib.brotliCompressSync(clean)],
  ] as const) {
    it(`Content-Encoding ${coding}: text after the compressed data, or after a cut, is scanned`, async () => {
      const contentEncoding = coding.split(' ')[0];
      for (const body of [Buffer.concat([packed, secret]), Buffer.concat([packed.subarray(0, packed.length - 2), secret])]) {
        for (const size of [body.length, 1, 5]) {
          expect(await scan(chunked(body, size), { content: { contentType: 'text/plain', contentEncoding } }), `chunks of ${size}`).toContain('payment-card');
        }
      }
      expect(await scan(packed, { content: { contentType: 'text/plain', contentEncoding } })).toEqual([]);
    });
  }

  it('text after a cut inside a base64 part is read as it stands, not decoded into noise (every cut of a mail)', async () => {
    const mail = eml('hello', 'hello world', [{ name: 'notes.txt', type: 'text/plain', data: Buffer.from('nothing to see here. '.repeat(12)) }]);
    const attachment = mail.indexOf('base64');
    for (let cut = attachment; cut < mail.length; cut += 2) {
      expect(await scan(Buffer.concat([mail.subarray(0, cut), secret]), { content: { contentType: 'message/rfc822' } }), `cut at ${cut}`).toContain('payment-card');
    }
  });

  it('a Content-Encoding that cannot be undone (zstd, compress) is decode-limit:method, and its bytes are still scanned', async () => {
    for (const contentEncoding of ['zstd', 'compress', 'gzip, x-unknown', 'constructor', 'toString']) {
      expect(await scan(secret, { content: { contentType: 'text/plain', contentEncoding } })).toEqual(['decode-limit:method', 'payment-card']);
    }
  });

  it('a whole gzip, deflate (zlib or raw) or br stream, at any chunk size, is all output and leaves nothing to scan as it is', async () => {
    const data = Buffer.from('hello world, nothing here. '.repeat(500));
    const codings = [['gzip', zlib.gzipSync(data)], ['deflate', zlib.deflateSync(data)], ['deflate', zlib.deflateRawSync(data)], ['br', zlib.brotliCompressSync(data)]] as const;
    for (const [coding, packed] of codings) {
      for (const size of [1, 2, 3, 7, packed.length]) {
        const out: Buffer[] = [];
        const left: Buffer[] = [];
        const budget = new DecodeBudget({ maxDecodedBytes: 1 << 30, maxRatio: 1e9, maxEntries: 10 }, new Findings());
        const collect = (into: Buffer[]): ByteSink => ({ write: async (c) => void into.push(Buffer.from(c)), end: async () => undefined });
        const sink = contentDecoder(coding, collect(out), budget, { sink: collect(left), undecodedToDownstream: false });
        for (const chunk of chunked(packed, size)) await sink.write(chunk);
        await sink.end();
        expect(Buffer.concat(out).equals(data), `${coding} in chunks of ${size}`).toBe(true);
        expect(left, `${coding} in chunks of ${size}`).toEqual([]);
      }
    }
  });

  it('a plain body labelled gzip is read as it is, and a gzip file inside it is still opened', async () => {
    expect(await scan(secret, { content: { contentType: 'text/plain', contentEncoding: 'gzip' } })).toContain('payment-card');
    const inner = Buffer.concat([zlib.gzipSync(secret), secret.subarray(0, 0)]);
    expect(await scan(zlib.gzipSync(inner), { content: { contentType: 'application/octet-stream', contentEncoding: 'gzip' } })).toContain('payment-card');
  });

  it('a second bzip2 or xz stream after the first is decoded, not scanned as bytes', async () => {
    for (const pack of [bzip2, xz]) {
      const found = await scan(Buffer.concat([pack(clean), pack(secret)]), { content: { contentType: 'application/octet-stream' } });
      expect(found).toEqual(['payment-card']);
    }
  });

  it('text behind the magic number of a picture, a sound, a video or a font is scanned (they are not decoded)', async () => {
    const magics = [
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      Buffer.from([0xff, 0xd8, 0xff, 0xe0]),
      Buffer.from('GIF89a'),
      Buffer.from('RIFF\x10\x00\x00\x00WEBPVP8 '),
      Buffer.from('ID3\x04\x00'),
      Buffer.from('OggS\x00'),
      Buffer.from('\x00\x00\x00\x18ftypmp42'),
      Buffer.from('wOF2'),
    ];
    for (const magic of magics) {
      for (const contentType of ['application/octet-stream', 'image/png']) {
        expect(await scan(Buffer.concat([magic, secret]), { content: { contentType } }), magic.toString('latin1')).toContain('payment-card');
      }
    }
  });

  it('an armored PGP or age header in front of plain text does not hide it where encrypted content passes', async () => {
    const icapServer = { extract: { encryptedContent: { upload: 'pass' } } };
    for (const header of ['-----BEGIN PGP MESSAGE-----\n\n', 'age-encryption.org/v1\n']) {
      expect(await scan(Buffer.concat([Buffer.from(header), secret]), { content: { contentType: 'application/octet-stream' }, icapServer })).toEqual(['payment-card']);
      expect(await scan(Buffer.concat([Buffer.from(header), secret]), { content: { contentType: 'application/octet-stream' } })).toEqual(['encrypted-content', 'payment-card']);
    }
  });

  it('a zip signature inside text does not make its text count twice (the text view reads every byte already)', async () => {
    const config = serverConfig();
    const body = new BodyScan(buildDetectorSet(config.detectors, 'dlp', 'REQMOD'), { contentType: 'text/plain' }, config);
    await body.write(Buffer.from(`notes: PK\x03\x04 then ${CARD}`));
    expect((await body.end()).map((v) => [v.name, v.count])).toEqual([['payment-card', 1]]);
  });

  it('names that are properties of every object (constructor, toString) are no known element or filter', async () => {
    const xml = Buffer.from(`<?xml version="1.0"?><a><constructor x="1">${CARD}</constructor><toString/><__proto__/></a>`);
    expect(await scan(xml, { content: { contentType: 'application/xml' } })).toEqual(['payment-card']);
  });

  it('a PDF stream under a filter the format does not have is read as it stands; a picture codec is not read', async () => {
    const stream = Buffer.from(`BT (${CARD}) Tj ET`);
    const pdfWith = (filter: string) => Buffer.from(`%PDF-1.7\n1 0 obj\n<< /Length ${stream.length} /Filter ${filter} >>\nstream\n${stream.toString('latin1')}\nendstream\nendobj\n%%EOF\n`, 'latin1');
    for (const filter of ['/Bogus', '/constructor', '[/FlateDecode /toString]']) {
      for (const size of [1000, 7]) expect(await scan(chunked(pdfWith(filter), size), { content: { contentType: 'application/pdf' } }), filter).toEqual(['payment-card']);
    }
    expect(await scan(pdfWith('/DCTDecode'), { content: { contentType: 'application/pdf' } })).toEqual([]);
  });

  it('random bytes that start like gzip, bzip2, xz or zip are text, not a container ten levels deep', async () => {
    const magics = [Buffer.from([0x1f, 0x8b, 8, 0]), Buffer.from('BZh9'), Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0]), Buffer.from('PK\x03\x04')];
    for (const magic of magics) {
      const noise = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 151 + 7) & 0xff));
      expect(await scan(Buffer.concat([magic, noise]), { content: { contentType: 'application/octet-stream' } })).toEqual([]);
    }
  });
});
