// Archives and compressed files opened as they stream: zip (stored, deflate, data descriptors,
// zip64 fields, junk and lying headers), tar (ustar, pax, GNU long names), gzip files, nesting;
// the bomb limits (bytes, ratio, depth, entries) each named, and encrypted entries.
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { EICAR } from '../../../src/icap-server/detectors/eicar.js';
import { fastestMs, timedMs } from '../../support/timing.js';
import { chunked, tarball, zip } from './extract-fixtures.js';
import { scan } from './helpers.js';

const SECRET = 'memo: TOP-SECRET plans for the merger';
const keyword = { detectors: { keywords: [{ name: 'top-secret', words: ['TOP-SECRET'] }] } };
const octets = { contentType: 'application/octet-stream' };
const dlp = (body: Buffer | Buffer[], icapServer: Record<string, unknown> = {}) => scan(body, { content: octets, icapServer: { ...keyword, ...icapServer } });
const av = (body: Buffer | Buffer[], icapServer: Record<string, unknown> = {}) => scan(body, { content: octets, service: 'av', method: 'RESPMOD', icapServer });

describe('zip', () => {
  it.each([
    ['stored', { method: 0 as const }],
    ['deflate', { method: 8 as const }],
    ['deflate with a data descriptor', { method: 8 as const, descriptor: true }],
    ['deflate with zip64 sizes', { method: 8 as const, zip64: true }],
    ['zip64 with a data descriptor', { method: 8 as const, zip64: true, descriptor: true }],
  ])('reads every entry, %s, at any chunk size', async (_, options) => {
    const body = zip([
      { name: 'readme.txt', data: 'nothing to see here '.repeat(200), ...options },
      { name: 'notes/plan.txt', data: `${'filler '.repeat(500)}${SECRET}`, ...options },
    ]);
    for (const size of [1, 7, 100, body.length]) expect(await dlp(chunked(body, size))).toEqual(['keyword:top-secret']);
  });

  it('finds nothing in a clean archive and does not join entries', async () => {
    expect(await dlp(zip([{ name: 'a.txt', data: 'TOP-' }, { name: 'b.txt', data: 'SECRET' }]))).toEqual([]);
  });

  it('reads past junk, a lying header and trailing bytes to the next entry', async () => {
    const good = zip([{ name: 'plan.txt', data: SECRET }]);
    const liar = zip([{ name: 'x.txt', data: 'abc', method: 0 }]);
    liar.writeUInt32LE(0x7fffffff, 18); // a compressed size far past the end
    expect(await dlp(Buffer.concat([liar.subarray(0, 30 + 5), Buffer.from('junk'), good, Buffer.from('trailing')]))).toEqual(['keyword:top-secret']);
    expect(await dlp(Buffer.concat([zip([{ name: 'a', data: 'b' }]).subarray(0, 30 + 1 + 5), Buffer.from('PK\u0003\u0004garbage'), good]))).toEqual(['keyword:top-secret']);
  });

  it('reads a picture as the bytes it is (a PNG signature is 8 bytes anyone can type), and finds a zip appended to one', async () => {
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from(`IDAT ${SECRET}`)]);
    expect(await dlp(png)).toEqual(['keyword:top-secret']);
    expect(await dlp(Buffer.concat([png, zip([{ name: 'plan.txt', data: SECRET }])]))).toEqual(['keyword:top-secret']);
    expect(await dlp(Buffer.concat([Buffer.from('plain text before '), zip([{ name: 'plan.txt', data: SECRET }])]))).toEqual(['keyword:top-secret']);
  });

  it('finds an appended zip whose signature a chunk boundary cuts at any byte, at any chunk size', async () => {
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('IDAT pixels')]);
    const body = Buffer.concat([png, zip([{ name: 'plan.txt', data: SECRET }])]);
    for (let cut = png.length - 4; cut <= png.length + 4; cut++) {
      expect(await dlp([body.subarray(0, cut), body.subarray(cut)]), `cut at ${cut}`).toEqual(['keyword:top-secret']);
    }
    for (const size of [1, 2, 3, 5]) expect(await dlp(chunked(body, size)), `chunks of ${size}`).toEqual(['keyword:top-secret']);
  });

  it('applies EICAR and the executable rules to every file inside, at any depth', async () => {
    const pe = Buffer.alloc(256);
    pe.write('MZ', 0, 'latin1');
    pe.writeUInt32LE(0x80, 0x3c);
    pe.writeUInt32BE(0x50450000, 0x80);
    expect(await av(zip([{ name: 'docs/readme.txt', data: 'hello' }, { name: 'eicar.com', data: EICAR }]))).toEqual(['EICAR-Test-File']);
    expect(await av(zip([{ name: 'in.zip', data: zip([{ name: 'setup.exe', data: pe }]), method: 0 }]))).toEqual(['file-type:pe']);
    expect(await av(zlib.gzipSync(await tarball([{ name: 'bin/tool', data: pe }, { name: 'x/eicar.txt', data: EICAR }])))).toEqual(['EICAR-Test-File', 'file-type:pe']) // an archive's file types are counted when it ends (container-scope.ts);
  });

  it('reports an encrypted entry as encrypted-content on upload, and passes it on download by default', async () => {
    const body = zip([{ name: 'secret.docx', data: 'ciphertext', encrypted: true }, { name: 'plain.txt', data: 'hello' }]);
    expect(await dlp(body)).toEqual(['encrypted-content']);
    expect(await scan(body, { content: octets, method: 'RESPMOD' })).toEqual([]);
    expect(await scan(body, { content: octets, method: 'RESPMOD', icapServer: { extract: { encryptedContent: { download: 'block' } } } })).toEqual(['encrypted-content']);
    expect(await dlp(body, { extract: { encryptedContent: { upload: 'pass' } } })).toEqual([]);
    const described = zip([{ name: 's.txt', data: 'x'.repeat(100), encrypted: true, descriptor: true }, { name: 'plan.txt', data: SECRET }]);
    expect(await dlp(described)).toEqual(['encrypted-content', 'keyword:top-secret']);
  });
});

describe('tar and compressed files', () => {
  it('reads tar entries (ustar, pax and GNU long names), also gzip-compressed, also with a false type', async () => {
    const long = `${'deep/'.repeat(40)}plan.txt`;
    const body = await tarball([{ name: 'a.txt', data: 'hello' }, { name: long, data: SECRET }]);
    expect(await dlp(body)).toEqual(['keyword:top-secret']);
    expect(await dlp(chunked(zlib.gzipSync(body), 13))).toEqual(['keyword:top-secret']);
    expect(await scan(zlib.gzipSync(body), { content: { contentType: 'image/png' }, icapServer: keyword })).toEqual(['keyword:top-secret']);
  });

  it('reads the rest of a tar whose header breaks as it is', async () => {
    const body = await tarball([{ name: 'a.txt', data: 'hello' }]);
    const broken = Buffer.concat([body.subarray(0, 1024), Buffer.alloc(512, 0x41), Buffer.from(SECRET)]);
    expect(await dlp(broken)).toEqual(['keyword:top-secret']);
  });

  it('opens a gzip file inside a zip inside a multipart upload', async () => {
    const boundary = 'b0undary';
    const archive = zip([{ name: 'logs.gz', data: zlib.gzipSync(SECRET), method: 0 }]);
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="f"; filename="logs.zip"\r\nContent-Type: application/zip\r\n\r\n`),
      archive,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    expect(await scan(body, { content: { contentType: `multipart/form-data; boundary=${boundary}` }, icapServer: keyword })).toEqual(['keyword:top-secret']);
  });
});

describe('limits against bombs, each named', () => {
  it('stops a deeply nested archive at maxDecodeDepth (decode-limit:depth)', async () => {
    let body = zip([{ name: 'plan.txt', data: SECRET }]);
    for (let i = 0; i < 5; i++) body = zip([{ name: `layer${i}.zip`, data: body }]);
    expect(await dlp(body)).toEqual(['keyword:top-secret']);
    expect(await dlp(body, { maxDecodeDepth: 4 })).toEqual(['decode-limit:depth']);
  });

  it('stops a stream whose ratio passes extract.maxRatio (decode-limit:ratio), not a text that compresses well', async () => {
    const zeros = zip([{ name: 'zeros.bin', data: Buffer.alloc(32 * 1024 * 1024) }]);
    expect(await av(zeros)).toEqual(['decode-limit:ratio']);
    // The stop ends the work: under a low ratio it costs a fraction of reading the whole 32 MiB (a
    // baseline in the same test, not a wall-clock bound a loaded CI machine can pass). Best of five
    // for the stop: a shared machine's pauses only ever add time.
    const wholeMs = await timedMs(async () => expect(await av(zeros, { extract: { maxRatio: 2000 } })).toEqual([]));
    const stoppedMs = await fastestMs(5, async () => expect(await av(zeros, { extract: { maxRatio: 20 } })).toEqual(['decode-limit:ratio']));
    expect(stoppedMs / wholeMs).toBeLessThan(0.5);
    expect(await av(zlib.gzipSync(Buffer.alloc(8 * 1024 * 1024)))).toEqual(['decode-limit:ratio']);
    const log = Buffer.from(Array.from({ length: 60_000 }, (_, i) => `${i} GET /api/items/${(i * 7919) % 100_003} 200 ${(i * 31) % 977}ms\n`).join(''));
    expect(await av(zlib.gzipSync(log))).toEqual([]);
  });

  it('stops after extract.maxEntries files (decode-limit:entries)', async () => {
    const many = zip(Array.from({ length: 50 }, (_, i) => ({ name: `f${i}.txt`, data: `file ${i}` })));
    expect(await dlp(many)).toEqual([]);
    expect(await dlp(many, { extract: { maxEntries: 20 } })).toEqual(['decode-limit:entries']);
  });

  it('stops at maxDecodedBytes over all the files of a body (decode-limit:bytes)', async () => {
    const body = zip(Array.from({ length: 8 }, (_, i) => ({ name: `f${i}.txt`, data: 'lorem ipsum '.repeat(20_000), method: 0 as const })));
    expect(await dlp(body)).toEqual([]);
    expect(await dlp(body, { maxDecodedBytes: 1_000_000 })).toEqual(['decode-limit:bytes']);
  });

  it('reports an entry compressed with a method it cannot undo (decode-limit:method)', async () => {
    const body = zip([{ name: 'a.txt', data: 'hello', method: 0 }]);
    body.writeUInt16LE(14, 8); // LZMA
    expect(await dlp(body)).toEqual(['decode-limit:method']);
  });
});
