// Mail (RFC 5322 + MIME) and base64 inside text: headers with encoded words, base64 and
// quoted-printable parts, attachments opened by type, forwarded messages, LF-only mail; base64 and
// data: URLs in JSON and text opened when they decode to a known type or to text, and left alone
// otherwise (images, hashes, random tokens).
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { EICAR } from '../../../src/icap-server/detectors/eicar.js';
import { chunked, docx, zip } from './extract-fixtures.js';
import { scan } from './helpers.js';

const keyword = { detectors: { keywords: [{ name: 'top-secret', words: ['TOP-SECRET'] }] } };
const dlp = (body: Buffer | string, contentType = 'application/octet-stream') => scan(body, { content: { contentType }, icapServer: keyword });
const wrap = (b64: string) => b64.replace(/.{76}/g, '$&\r\n');

function mail(parts: Array<{ headers: string; body: string }>, head = 'From: Alice <alice@example.com>\r\nTo: bob@example.com\r\nSubject: notes\r\nMIME-Version: 1.0\r\nMessage-ID: <1@example.com>\r\n'): string {
  const boundary = '==b0undary==';
  return (
    `${head}Content-Type: multipart/mixed;\r\n boundary="${boundary}"\r\n\r\nThis is a MIME message.\r\n` +
    parts.map((p) => `--${boundary}\r\n${p.headers}\r\n\r\n${p.body}\r\n`).join('') +
    `--${boundary}--\r\n`
  );
}

describe('mail', () => {
  it('reads a quoted-printable body with soft line breaks', async () => {
    const eml = mail([{ headers: 'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable', body: 'memo: TOP=\r\n-SECRET plans =E2=80=94 see below' }]);
    expect(await dlp(eml)).toEqual(['keyword:top-secret']);
    expect(await dlp(eml, 'message/rfc822')).toEqual(['keyword:top-secret']);
  });

  it('opens a base64 attachment by its type (a docx, a zip), and a forwarded message', async () => {
    const attached = mail([
      { headers: 'Content-Type: text/plain', body: 'see attached' },
      { headers: 'Content-Type: application/vnd.openxmlformats-officedocument.wordprocessingml.document;\r\n\tname="plan.docx"\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename="plan.docx"', body: wrap(docx(['memo: TOP-|SECRET']).toString('base64')) },
    ]);
    for (const size of [5, 4096]) expect(await dlp(chunked(Buffer.from(attached), size) as unknown as Buffer)).toEqual(['keyword:top-secret']);
    const forwarded = mail([{ headers: 'Content-Type: message/rfc822', body: mail([{ headers: 'Content-Type: application/zip\r\nContent-Transfer-Encoding: base64', body: wrap(zip([{ name: 'a.txt', data: 'TOP-SECRET' }]).toString('base64')) }]) }]);
    expect(await dlp(forwarded)).toEqual(['keyword:top-secret']);
    const av = await scan(mail([{ headers: 'Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64', body: EICAR.toString('base64') }]), { service: 'av', method: 'RESPMOD' });
    expect(av).toEqual(['EICAR-Test-File']);
  });

  it('reads encoded words in the header block, and mail saved with LF line ends', async () => {
    const subject = `=?UTF-8?B?${Buffer.from('TOP-SECRET plan').toString('base64')}?=`;
    expect(await dlp(mail([{ headers: 'Content-Type: text/plain', body: 'hello' }], `From: a@example.com\r\nSubject: ${subject}\r\nMIME-Version: 1.0\r\n`))).toEqual(['keyword:top-secret']);
    const unix = mail([{ headers: 'Content-Type: text/plain\r\nContent-Transfer-Encoding: base64', body: Buffer.from('memo TOP-SECRET').toString('base64') }]).replace(/\r\n/g, '\n');
    expect(await dlp(unix)).toEqual(['keyword:top-secret']);
    expect(await dlp(mail([{ headers: 'Content-Type: text/plain', body: 'TOP-' }, { headers: 'Content-Type: text/plain', body: 'SECRET' }]))).toEqual([]);
  });
});

describe('base64 in JSON and text', () => {
  it('opens a file carried in a JSON field, and a data: URL', async () => {
    const json = JSON.stringify({ name: 'plan.zip', content: zip([{ name: 'plan.txt', data: 'memo: TOP-SECRET' }]).toString('base64') });
    for (const size of [3, 50, json.length]) expect(await scan(chunked(Buffer.from(json), size) as unknown as Buffer, { content: { contentType: 'application/json' }, icapServer: keyword })).toEqual(['keyword:top-secret']);
    const gz = zlib.gzipSync('memo: TOP-SECRET plans');
    expect(await dlp(`<a href="data:application/gzip;base64,${gz.toString('base64')}">x</a>`, 'text/html')).toEqual(['keyword:top-secret']);
    expect(await scan(JSON.stringify({ file: EICAR.toString('base64') }), { content: { contentType: 'application/json' }, service: 'av' })).toEqual(['EICAR-Test-File']);
  });

  it('the AV service finds base64 files in text read byte for byte (Latin-1), beside multi-byte and invalid UTF-8, at every chunk size', async () => {
    const carried = zip([{ name: 'eicar.com', data: EICAR }]).toString('base64');
    const text = Buffer.concat([Buffer.from('résumé — 日本語 😀 '), Buffer.from([0xc3, 0x28, 0xff, 0xfe]), Buffer.from(`payload:${carried}\nvoilà 😀`)]);
    for (const size of [1, 2, 3, 7, text.length]) {
      expect(await scan(chunked(text, size) as unknown as Buffer, { content: { contentType: 'text/plain' }, service: 'av', method: 'RESPMOD' }), `chunks of ${size}`).toEqual(['EICAR-Test-File']);
    }
    const json = Buffer.from(JSON.stringify({ note: 'ça marche — 日本', file: carried }));
    expect(await scan(chunked(json, 5) as unknown as Buffer, { content: { contentType: 'application/json' }, service: 'av', method: 'RESPMOD' })).toEqual(['EICAR-Test-File']);
    expect(await scan(Buffer.from('voilà 😀 only text'), { content: { contentType: 'text/plain' }, service: 'av', method: 'RESPMOD' })).toEqual([]);
  });

  it('decodes base64 that is text (an encoded secret), URL-safe too', async () => {
    const secret = Buffer.from('note: TOP-SECRET merger plans, do not share').toString('base64url');
    expect(await dlp(`{"payload":"${secret}"}`, 'application/json')).toEqual(['keyword:top-secret']);
    expect(await dlp(`token=${Buffer.from('my card is 4111 1111 1111 1111, exp 12/29').toString('base64')}`, 'text/plain')).toEqual(['payment-card']);
  });

  it('finds a run of exactly 24 base64 characters at every offset, and leaves one of 23', async () => {
    const run = Buffer.from('TOP-SECRET memo xy').toString('base64');
    const short = Buffer.from('TOP-SECRET memo x').toString('base64').replace(/=+$/, '');
    expect([run.length, short.length]).toEqual([24, 23]);
    for (let offset = 0; offset < 50; offset++) {
      const prefix = `${'ab '.repeat(offset)}-`.slice(-offset - 1, -1).replace(/\w$/, '.');
      expect(await dlp(`${prefix}${run}.`, 'text/plain'), `offset ${offset}`).toEqual(['keyword:top-secret']);
      expect(await dlp(`${prefix}${short}.`, 'text/plain'), `offset ${offset}`).toEqual([]);
    }
    expect(await dlp(chunked(Buffer.from(`${'word '.repeat(13107)}${run}`), 65536) as unknown as Buffer, 'text/plain')).toEqual(['keyword:top-secret']);
  });

  it('leaves images, hashes and random tokens alone', async () => {
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('IHDR TOP-SECRET')]);
    expect(await dlp(`{"icon":"${png.toString('base64')}"}`, 'application/json')).toEqual([]);
    const noise = Buffer.from(Array.from({ length: 600 }, (_, i) => (i * 7919 + 13) % 256)).toString('base64');
    expect(await dlp(`{"sha":"${'a3f9'.repeat(16)}","blob":"${noise}","id":"ThisIsAVeryLongIdentifierNameOfSomeKind"}`, 'application/json')).toEqual([]);
  });

  it('counts base64 files against maxEntries and the depth limit', async () => {
    const json = JSON.stringify(Array.from({ length: 30 }, (_, i) => Buffer.from(`file number ${i} with some words`).toString('base64')));
    expect(await dlp(json, 'application/json')).toEqual([]);
    expect(await scan(json, { content: { contentType: 'application/json' }, icapServer: { ...keyword, extract: { maxEntries: 10 } } })).toEqual(['decode-limit:entries']);
  });
});
