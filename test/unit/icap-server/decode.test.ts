import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { EICAR } from '../../../src/icap-server/detectors/eicar.js';
import { scan } from './helpers.js';

const CARD = '4111 1111 1111 1111';
const chunked = (buf: Buffer, size: number) => Array.from({ length: Math.ceil(buf.length / size) }, (_, i) => buf.subarray(i * size, (i + 1) * size));

describe('Content-Encoding', () => {
  const text = Buffer.from(`${'padding text '.repeat(500)} card ${CARD} end`);

  it.each([
    ['gzip', zlib.gzipSync(text)],
    ['x-gzip', zlib.gzipSync(text)],
    ['deflate', zlib.deflateSync(text)],
    ['deflate', zlib.deflateRawSync(text)],
    ['br', zlib.brotliCompressSync(text)],
  ])('%s is decoded before detection, in small chunks too', async (coding, body) => {
    expect(await scan(body, { content: { contentType: 'text/plain', contentEncoding: coding } })).toEqual(['payment-card']);
    expect(await scan(chunked(body, 7), { content: { contentType: 'text/plain', contentEncoding: coding } })).toEqual(['payment-card']);
  });

  it('undoes stacked codings in reverse order', async () => {
    const body = zlib.brotliCompressSync(zlib.gzipSync(text));
    expect(await scan(body, { content: { contentEncoding: 'gzip, br' } })).toEqual(['payment-card']);
  });

  it('scans a body that does not decode as it is (a false label hides nothing)', async () => {
    expect(await scan(`plain ${CARD}`, { content: { contentType: 'text/plain', contentEncoding: 'gzip' } })).toEqual(['payment-card']);
  });

  it('reads every member of a multi-member gzip (RFC 1952 §2.2), what trails the data, and a cut, at chunks of 1..7', async () => {
    const plain = zlib.gzipSync(Buffer.from('padding text '.repeat(300)));
    const members = Buffer.concat([plain, zlib.gzipSync(Buffer.from(`second member: card ${CARD}`))]);
    const trailing = Buffer.concat([plain, Buffer.from(` trailing card ${CARD}`)]);
    const secret = zlib.gzipSync(Buffer.from(`${'x '.repeat(40_000)} card ${CARD} ${'y '.repeat(40_000)}`));
    const cut = secret.subarray(0, secret.length - 40);
    for (const size of [1, 2, 3, 5, 7, 65536]) {
      for (const [name, body] of [['members', members], ['trailing', trailing], ['cut', cut]] as const) {
        expect(await scan(chunked(body, size), { content: { contentType: 'text/plain', contentEncoding: 'gzip' } }), `${name} at ${size}`).toEqual(['payment-card']);
      }
    }
    const middle = Buffer.from(`${'x '.repeat(40_000)} card ${CARD} ${'y '.repeat(40_000)}`);
    for (const coding of ['deflate', 'br'] as const) {
      const encoded = coding === 'br' ? zlib.brotliCompressSync(middle) : zlib.deflateSync(middle);
      expect(await scan(Buffer.concat([encoded, Buffer.from(' tail')]), { content: { contentType: 'text/plain', contentEncoding: coding } })).toEqual(['payment-card']);
      expect(await scan(chunked(encoded.subarray(0, encoded.length - 4), 3), { content: { contentType: 'text/plain', contentEncoding: coding } }), `${coding} cut`).toEqual(['payment-card']);
    }
  });

  it('finds EICAR inside a gzip-encoded download', async () => {
    expect(await scan(zlib.gzipSync(EICAR), { service: 'av', method: 'RESPMOD', content: { contentEncoding: 'gzip' } })).toEqual(['EICAR-Test-File']);
  });

  it('stops a decompression bomb at maxDecodedBytes and reports it', async () => {
    // 16 and 64 MiB of zeros (~16 and ~64 KiB compressed), each stopped at 1 MiB: the larger one
    // costs about as much, not four times as much (a ratio, not a wall-clock bound: a loaded CI
    // machine slows both alike). Best of three taken in turns: pauses only ever add time.
    const bombs = [16, 64].map((mib) => zlib.gzipSync(Buffer.alloc(mib * 1024 * 1024)));
    const best = [Infinity, Infinity];
    for (let round = 0; round < 3; round++) {
      for (const [i, bomb] of bombs.entries()) {
        const started = performance.now();
        expect(await scan(bomb, { content: { contentEncoding: 'gzip' }, icapServer: { maxDecodedBytes: 1024 * 1024 } })).toEqual(['decode-limit:bytes']);
        best[i] = Math.min(best[i]!, performance.now() - started);
      }
    }
    expect(best[1]! / best[0]!).toBeLessThan(2);
    expect(await scan(zlib.gzipSync(text), { content: { contentEncoding: 'gzip' }, icapServer: { maxDecodedBytes: 1024 } })).toEqual(['decode-limit:bytes']);
  });
});

describe('multipart/form-data', () => {
  const boundary = '----WebKitFormBoundary7MA4YWxkTrZu0gW';
  const form = (parts: Array<{ headers: string; body: Buffer | string }>) =>
    Buffer.concat([
      ...parts.flatMap((p) => [Buffer.from(`--${boundary}\r\n${p.headers}\r\n\r\n`), Buffer.from(p.body), Buffer.from('\r\n')]),
      Buffer.from(`--${boundary}--\r\n`),
    ]);
  const content = { contentType: `multipart/form-data; boundary=${boundary}` };

  it('scans every part with its own type and encoding, at any chunk size', async () => {
    const body = form([
      { headers: 'Content-Disposition: form-data; name="note"', body: 'hello' },
      { headers: 'Content-Disposition: form-data; name="data"; filename="d.json"\r\nContent-Type: application/json', body: '{"n":"4111\\u00201111\\u00201111\\u00201111"}' },
      { headers: 'Content-Disposition: form-data; name="f"; filename="k.gz"\r\nContent-Type: text/plain\r\nContent-Encoding: gzip', body: zlib.gzipSync('-----BEGIN PRIVATE KEY-----') },
      { headers: 'Content-Disposition: form-data; name="b"\r\nContent-Transfer-Encoding: base64', body: Buffer.from('IBAN DE89370400440532013000').toString('base64') },
    ]);
    for (const size of [1, 3, 64, body.length]) {
      expect(await scan(chunked(body, size), { content })).toEqual(['payment-card', 'private-key', 'iban']);
    }
  });

  it('judges each uploaded file by its own first bytes', async () => {
    const body = form([
      { headers: 'Content-Disposition: form-data; name="a"', body: 'text first' },
      { headers: 'Content-Disposition: form-data; name="f"; filename="eicar.com"\r\nContent-Type: application/octet-stream', body: EICAR },
    ]);
    expect(await scan(body, { service: 'av', content })).toEqual(['EICAR-Test-File']);
  });

  it('does not join text across parts and ignores preamble and epilogue', async () => {
    const body = Buffer.concat([
      Buffer.from(`preamble ${CARD}\r\n`),
      form([
        { headers: 'Content-Disposition: form-data; name="a"', body: '4111 1111' },
        { headers: 'Content-Disposition: form-data; name="b"', body: '1111 1111' },
      ]),
      Buffer.from(`epilogue ${CARD}`),
    ]);
    expect(await scan(body, { content })).toEqual([]);
  });
});

describe('form and JSON text views', () => {
  it('percent-decodes urlencoded names and values, across chunk boundaries', async () => {
    const body = Buffer.from('a=1&card=4111%201111%201111%201111&b=x+y');
    const content = { contentType: 'application/x-www-form-urlencoded' };
    for (const size of [1, 2, 5, body.length]) expect(await scan(chunked(body, size), { content })).toEqual(['payment-card']);
    expect(await scan('card=4111%201111%201111%201112', { content })).toEqual([]);
  });

  it('does not join urlencoded fields into one number', async () => {
    expect(await scan('a=4111111&b=111111111', { content: { contentType: 'application/x-www-form-urlencoded' } })).toEqual([]);
  });

  it('unescapes JSON strings, keeps numbers, separates values', async () => {
    const content = { contentType: 'application/json; charset=utf-8' };
    expect(await scan('{"k":"-----BEGIN\\u0020PRIVATE KEY-----"}', { content })).toEqual(['private-key']);
    expect(await scan('{"card":4111111111111111}', { content })).toEqual(['payment-card']);
    expect(await scan('{"a":"4111 1111","b":"1111 1111"}', { content })).toEqual([]);
    const body = Buffer.from('{"list":["x","ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY2z4A"],"esc":"\\"q\\""}');
    expect(await scan(chunked(body, 1), { content: { contentType: 'application/vnd.api+json' } })).toEqual(['github-token']);
  });
});
