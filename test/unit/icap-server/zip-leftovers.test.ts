// The zip reader as a hostile uploader sees it: every byte of an archive is either read (an entry,
// a record) or scanned as text (Extraction.leftover). A card number cut into the archive at any
// byte, appended after it, hidden in a header's fields, a file name, an extra field, a comment, a
// deflate stream's slack or between two entries is found; and what the reader accounts for is
// counted once (a name is not scanned again from the central directory, compressed bytes of a
// whole stream are not scanned as text).
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/index.js';
import { BodyScan } from '../../../src/icap-server/decode/body-scan.js';
import { buildDetectorSet } from '../../../src/icap-server/detectors/detector-set.js';
import { chunked, docx, zip, type ZipEntry } from './extract-fixtures.js';

const CARD = 'payment card 4111 1111 1111 1111 expires 05/28';
const card = Buffer.from(`${CARD}\n`);
const clean = 'hello world, nothing to see here\n'.repeat(4);
const config = parseConfig({ icapServer: { detectors: { keywords: [{ name: 'top-secret', words: ['TOP-SECRET'] }] } } }).icapServer;
const detectors = buildDetectorSet(config.detectors, 'dlp', 'REQMOD');

/** Each violation's name and count, the body sent in chunks of `size` bytes. */
async function violations(body: Buffer, size = body.length): Promise<Record<string, number>> {
  const scan = new BodyScan(detectors, { contentType: 'application/octet-stream' }, config, { service: 'dlp', method: 'REQMOD' });
  for (const chunk of chunked(body, Math.max(size, 1))) await scan.write(chunk);
  return Object.fromEntries((await scan.end()).map((v) => [v.name, v.count]));
}

/** The card is found, at every chunk size from 1 to 7 and whole, and nothing nested ran away. */
async function expectCard(body: Buffer, sizes = [body.length, 1, 2, 3, 4, 5, 6, 7], label = ''): Promise<void> {
  for (const size of sizes) {
    const found = await violations(body, size);
    expect(found['payment-card'] ?? 0, `${label} chunks of ${size}: ${JSON.stringify(found)}`).toBeGreaterThan(0);
    expect(found['decode-limit:depth']).toBeUndefined();
  }
}

const archives: Array<[string, ZipEntry[]]> = [
  ['deflated', [{ name: 'a.txt', data: clean }, { name: 'b.txt', data: clean }]],
  ['stored', [{ name: 'a.txt', data: clean, method: 0 }]],
  ['data descriptor', [{ name: 'a.txt', data: clean, descriptor: true }, { name: 'b.txt', data: clean, descriptor: true }]],
  ['zip64 with a data descriptor', [{ name: 'a.txt', data: clean, zip64: true, descriptor: true }]],
];

describe('zip: a card number where the reader stops', () => {
  it.each(archives)('%s: cut at every byte, the card right after the cut, chunks of 1, 7 and whole', async (_, entries) => {
    const archive = zip(entries);
    for (let cut = 0; cut <= archive.length; cut++) {
      const body = Buffer.concat([archive.subarray(0, cut), card]);
      await expectCard(body, [body.length, 1, 7], `cut at ${cut}`);
    }
  });

  it.each(archives)('%s: clean, it has no finding and no leftover worth one', async (_, entries) => {
    for (const size of [1, 7, 1 << 20]) expect(await violations(zip(entries), size)).toEqual({});
  });

  it('finds the card behind local header magic and any number of header bytes, even with a long text after it', async () => {
    const header = zip([{ name: 'a.txt', data: 'x', method: 0 }]).subarray(0, 30);
    const filler = Buffer.from('lorem ipsum dolor sit amet '.repeat(3000));
    for (let kept = 4; kept <= 30; kept++) {
      await expectCard(Buffer.concat([header.subarray(0, kept), card]));
      // With 80 KB after it, the header's name and extra lengths (taken from the text) are all there.
      await expectCard(Buffer.concat([header.subarray(0, kept), card, filler]), [1 << 20, 7]);
    }
  });

  it('reads on after an entry whose declared compressed size runs past the end of the body', async () => {
    const liar = zip([{ name: 'a.txt', data: clean }]);
    const packed = zlib.deflateRawSync(clean).length;
    liar.writeUInt32LE(0x7fffffff, 18);
    const body = Buffer.concat([liar.subarray(0, 35 + packed), card, zip([{ name: 'b.txt', data: 'memo TOP-SECRET' }])]);
    for (const size of [body.length, 1, 3, 7]) expect(await violations(body, size)).toEqual({ 'payment-card': 1, 'keyword:top-secret': 1 });
  });

  it('scans a deflated entry cut inside its stream, the text after it taken as compressed data', async () => {
    const text = Buffer.from(Array.from({ length: 4000 }, (_, i) => `line ${i * 7919} of the report`).join('\n'));
    const archive = zip([{ name: 'a.txt', data: text }]);
    for (const descriptor of [false, true]) {
      const entry = zip([{ name: 'a.txt', data: text, descriptor }]);
      for (const cut of [40, 100, 1000, 5000, entry.length - 200]) await expectCard(Buffer.concat([entry.subarray(0, cut), card]), [1 << 20, 5]);
    }
    expect(await violations(archive)).toEqual({});
  });

  it('scans a data-descriptor entry whose deflate stream never ends, at bounded cost', async () => {
    // A deflate stream of 5 MiB of zeros without its final block: the text after it is read as more of it.
    const open = zlib.deflateRawSync(Buffer.alloc(5 << 20), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    const entry = zip([{ name: 'a.txt', data: 'x', descriptor: true }]).subarray(0, 35);
    await expectCard(Buffer.concat([entry, open, card]), [1 << 20, 64 * 1024, 7]);
  });

  it('scans garbage between two local headers, and reads both entries', async () => {
    const first = zip([{ name: 'a.txt', data: clean, method: 0 }]);
    const entryBytes = 30 + 5 + clean.length;
    const body = Buffer.concat([first.subarray(0, entryBytes), Buffer.from('\u0000\u0001garbage '), card, zip([{ name: 'b.txt', data: 'memo TOP-SECRET' }])]);
    for (const size of [body.length, 1, 2, 5, 7]) expect(await violations(body, size)).toEqual({ 'payment-card': 1, 'keyword:top-secret': 1 });
  });

  it('scans text after a stored entry that claims size 0, and bytes after a deflate stream inside its declared size', async () => {
    const empty = zip([{ name: 'a.txt', data: '', method: 0 }]).subarray(0, 35);
    await expectCard(Buffer.concat([empty, card]));
    const entry = zip([{ name: 'a.txt', data: clean }]);
    const packed = zlib.deflateRawSync(clean);
    entry.writeUInt32LE(packed.length + card.length, 18);
    await expectCard(Buffer.concat([entry.subarray(0, 35 + packed.length), card, entry.subarray(35 + packed.length)]));
  });

  it('scans a zip comment, what follows the end record, and reads a second archive appended to the first', async () => {
    const archive = zip([{ name: 'a.txt', data: clean }]);
    const commented = Buffer.from(archive);
    commented.writeUInt16LE(card.length, commented.length - 2);
    await expectCard(Buffer.concat([commented, card]));
    await expectCard(Buffer.concat([archive, Buffer.from('trailing '), card]));
    expect(await violations(Buffer.concat([archive, zip([{ name: 'b.txt', data: `memo TOP-SECRET ${CARD}` }])]))).toEqual({ 'keyword:top-secret': 1, 'payment-card': 1 });
  });

  it('finds a card after a cut docx, and in a docx cut short of its central directory', async () => {
    const document = docx(['hello world, quarterly report']);
    for (const cut of [10, 60, 200, 400, document.length - 30]) await expectCard(Buffer.concat([document.subarray(0, cut), card]), [1 << 20, 3]);
  });

  it('finds a card in a zip nested in a zip, appended to the inner archive', async () => {
    const inner = Buffer.concat([zip([{ name: 'a.txt', data: clean }]), card]);
    await expectCard(zip([{ name: 'inner.zip', data: inner, method: 0 }]), [1 << 20, 7]);
    await expectCard(zip([{ name: 'inner.zip', data: inner }]), [1 << 20, 7]);
  });
});

describe('zip: the text its records carry, counted once', () => {
  it('finds a card in a file name, once although the central directory repeats the name', async () => {
    for (const method of [0, 8] as const) {
      const body = zip([{ name: 'card 4111 1111 1111 1111 exp 05-28.txt', data: clean, method }]);
      for (const size of [body.length, 1, 7]) expect(await violations(body, size)).toEqual({ 'payment-card': 1 });
    }
  });

  it('finds a card in a central directory name that differs from its local header', async () => {
    const name = 'report-00000000000000000000.txt';
    const body = zip([{ name, data: clean }]);
    const central = body.lastIndexOf(Buffer.from(name));
    body.write('r 4111 1111 1111 1111 000000000', central, 'latin1');
    expect(await violations(body)).toEqual({ 'payment-card': 1 });
  });

  it('finds a card in an extra field that is not a number, and in a file comment', async () => {
    const archive = zip([{ name: 'a.txt', data: clean, method: 0 }]);
    const field = Buffer.concat([Buffer.from([0x34, 0x12]), Buffer.alloc(2), card]);
    field.writeUInt16LE(card.length, 2);
    const local = Buffer.from(archive.subarray(0, 30));
    local.writeUInt16LE(field.length, 28);
    const withField = Buffer.concat([local, archive.subarray(30, 35), field, archive.subarray(35)]);
    await expectCard(withField);
    const commented = Buffer.from(archive);
    const central = commented.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    commented.writeUInt16LE(card.length, central + 32);
    const end = commented.indexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
    await expectCard(Buffer.concat([commented.subarray(0, end), card, commented.subarray(end)]));
  });

  it('counts a card in a stored entry once: the entry is read, not scanned again as leftover', async () => {
    const body = zip([{ name: 'a.txt', data: `${clean}${CARD}\n`, method: 0 }, { name: 'b.txt', data: clean, descriptor: true }]);
    for (const size of [body.length, 1, 7]) expect(await violations(body, size)).toEqual({ 'payment-card': 1 });
  });
});

describe('zip: entries that do not say their size (data descriptors, as every jar has)', () => {
  /** Words in a fixed pseudo-random order: text that deflates about 3:1, so sizes are what is asked. */
  const prose = (chars: number, seed: number) => {
    const words = ['ledger', 'quarterly', 'growth', 'units', 'stable', 'regions', 'revenue', 'the', 'of', 'report'];
    let s = seed;
    let out = '';
    while (out.length < chars) {
      s = (s * 1103515245 + 12345) % 2 ** 31;
      out += `${words[s % words.length]}${s % 7 === 0 ? '\n' : ' '}`;
    }
    return out;
  };
  // Tiny, small, about a 64 KiB chunk, and larger than what is inflated at once (256 KiB compressed).
  const sizes = [1, 300, 5_000, 70_000, 150_000, 2_000, 900_000, 40];
  const entries: ZipEntry[] = sizes.map((size, i) => ({ name: `com/example/C${i}.class`, data: i % 3 === 1 ? `${prose(size, i)}\n${CARD}\n${prose(size, i + 99)}` : prose(size, i), descriptor: true }));

  it('reads every entry once, at every chunk size, with the cards counted as in the plain text', async () => {
    const archive = zip(entries);
    const text = Buffer.from(entries.map((e) => `${String(e.data)}\n`).join(''));
    const expected = await violations(text);
    expect(expected['payment-card']).toBeGreaterThan(0);
    for (const size of [archive.length, 65_536, 4_096, 1_000, 7]) expect(await violations(archive, size), `chunks of ${size}`).toEqual(expected);
  });

  it('finds a card after an entry whose stream is cut at any of a hundred places, and text appended after the archive', async () => {
    const archive = zip(entries.slice(0, 6));
    for (let k = 1; k < 100; k++) {
      const cut = Math.floor((archive.length * k) / 100);
      await expectCard(Buffer.concat([archive.subarray(0, cut), card]), [1 << 22, 65_536], `cut at ${cut}`);
    }
    expect(await violations(Buffer.concat([zip(entries.filter((_, i) => i % 3 !== 1)), card]), 65_536)).toEqual({ 'payment-card': 1 });
  });
});
