// What a MIME or RTF reader cannot account for is scanned as text: a multipart's preamble and
// epilogue (RFC 2046 §5.1.1: readers ignore them, but they travel with the upload), text on a
// delimiter line, a header block cut or past its limit, a body whose boundary never appears; the
// bytes an RTF hides (a skipped destination, \bin data) when the document ends before they close.
// Each is tried at chunk sizes 1..7 and whole, as a hostile uploader would cut the stream.
import { describe, expect, it } from 'vitest';
import type { TextSink } from '../../../src/icap-server/decode/text-decoders.js';
import { rtfText } from '../../../src/icap-server/extract/rtf-text.js';
import { chunked } from './extract-fixtures.js';
import { scan } from './helpers.js';

const CARD = 'payment card 4111 1111 1111 1111 expires 05/28';
const SIZES = [1, 2, 3, 4, 5, 6, 7, Number.MAX_SAFE_INTEGER];
const BOUNDARY = '==b0undary==';

/** The findings of `body` at every chunk size, each list once. */
async function findingsBySize(body: string | Buffer, contentType: string): Promise<string[][]> {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'latin1') : body;
  const all: string[][] = [];
  for (const size of SIZES) all.push(await scan(chunked(bytes, Math.min(size, bytes.length)), { content: { contentType } }));
  return all;
}

async function expectCardAtEverySize(body: string | Buffer, contentType = 'application/octet-stream'): Promise<void> {
  for (const [i, found] of (await findingsBySize(body, contentType)).entries()) expect(found, `chunks of ${SIZES[i]}`).toContain('payment-card');
}

async function expectNothingAtEverySize(body: string | Buffer, contentType = 'application/octet-stream'): Promise<void> {
  for (const [i, found] of (await findingsBySize(body, contentType)).entries()) expect(found, `chunks of ${SIZES[i]}`).toEqual([]);
}

/** A multipart body with 8bit text parts (no transfer encoding that would hide appended text). */
function multipart(preamble: string, epilogue: string, parts = ['hello world', 'see you']): string {
  const body = parts.map((p, i) => `--${BOUNDARY}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Disposition: inline; filename="p${i}.txt"\r\n\r\n${p}\r\n`).join('');
  return `${preamble}${body}--${BOUNDARY}--${epilogue}`;
}

const MAIL_HEAD = `From: Alice <alice@example.com>\r\nTo: bob@example.com\r\nSubject: notes\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="${BOUNDARY}"\r\n\r\n`;
const mail = (preamble: string, epilogue: string) => MAIL_HEAD + multipart(preamble, epilogue);
const FORM = `multipart/form-data; boundary=${BOUNDARY}`;

describe('mail: preamble, epilogue and cut parts', () => {
  it('scans a card number in the preamble and in the epilogue', async () => {
    await expectCardAtEverySize(mail(`${CARD}\r\n`, '\r\n'));
    await expectCardAtEverySize(mail('This is a MIME message.\r\n', `\r\n${CARD}\r\n`));
    // With Unix line ends, and with nothing between the close delimiter and the card.
    await expectCardAtEverySize(mail('', CARD).replace(/\r\n/g, '\n'));
  });

  it('finds nothing in the same mail with a clean preamble and epilogue', async () => {
    await expectNothingAtEverySize(mail('This is a multi-part message in MIME format.\r\n', '\r\nbye\r\n'));
  });

  it('reads the whole body as text when the boundary never appears', async () => {
    await expectCardAtEverySize(`${MAIL_HEAD}first line\r\n--not-the-boundary\r\n${CARD}\r\n`);
  });

  it('scans text after every cut of the mail', async () => {
    const whole = Buffer.from(mail('This is a MIME message.\r\n', '\r\n'));
    for (let cut = 0; cut <= whole.length; cut++) {
      const body = Buffer.concat([whole.subarray(0, cut), Buffer.from(`\n${CARD}\n`)]);
      for (const size of [7, body.length]) {
        expect(await scan(chunked(body, size), { content: { contentType: 'message/rfc822' } }), `cut at ${cut}, chunks of ${size}`).toContain('payment-card');
      }
    }
  });

  it('scans text on a delimiter line, and after a delimiter line too long to be one', async () => {
    await expectCardAtEverySize(mail('', '').replace(`--${BOUNDARY}\r\nContent-Type`, `--${BOUNDARY} ${CARD}\r\nContent-Type`));
    await expectCardAtEverySize(mail('', '').replace(`--${BOUNDARY}\r\nContent-Type`, `--${BOUNDARY}${' '.repeat(2000)}${CARD}\r\nContent-Type`));
  });

  it('scans header lines of a part that are no field, as behind a look-alike delimiter', async () => {
    await expectCardAtEverySize(mail('', '').replace('Content-Disposition: inline', `${CARD}\r\nContent-Disposition: inline`));
    await expectCardAtEverySize(mail('', '').replace('hello world', `hello\r\n--${BOUNDARY}x\r\n${CARD}\r\n\r\nworld`));
  });

  it('scans what follows a part header block past its limit', async () => {
    const padded = mail('', '').replace('Content-Disposition: inline', `X-Pad: ${'a'.repeat(17 * 1024)}\r\nContent-Disposition: inline`);
    await expectCardAtEverySize(padded.replace('hello world', CARD));
  });

  it('keeps header lines that are no field, with or without a blank line after them', async () => {
    const head = 'From: alice@example.com\r\nMIME-Version: 1.0\r\nSubject: notes\r\n';
    await expectCardAtEverySize(`${head}${CARD}\r\n\r\nbody\r\n`);
    await expectCardAtEverySize(`${head}${CARD}\r\n`);
  });
});

describe('multipart/form-data: preamble, epilogue and cut parts', () => {
  it('scans a card number in the preamble and in the epilogue of an upload', async () => {
    await expectCardAtEverySize(multipart(`${CARD}\r\n`, '\r\n'), FORM);
    await expectCardAtEverySize(multipart('', `\r\n${CARD}\r\n`), FORM);
  });

  it('finds nothing in a clean upload', async () => {
    await expectNothingAtEverySize(multipart('', '\r\n'), FORM);
  });

  it('scans a part cut in its header block, and one cut in its body', async () => {
    const whole = multipart('', '\r\n');
    const inHeaders = whole.indexOf('Content-Disposition', whole.indexOf('p0.txt'));
    await expectCardAtEverySize(`${whole.slice(0, inHeaders)}X-Note: ${CARD}`, FORM);
    await expectCardAtEverySize(`${whole.slice(0, whole.indexOf('see you'))}${CARD}`, FORM);
  });

  it('reads an upload whose boundary never appears as text', async () => {
    await expectCardAtEverySize(`field=1\r\n${CARD}\r\n`, FORM);
  });
});

/** The text rtfText gives for `rtf` cut into chunks of `size`. */
async function rtfTextOf(rtf: string | Buffer, size: number): Promise<string> {
  const bytes = typeof rtf === 'string' ? Buffer.from(rtf, 'latin1') : rtf;
  let text = '';
  const out: TextSink = { write: (s) => void (text += s), end: () => undefined };
  const sink = rtfText(out);
  for (const chunk of chunked(bytes, Math.min(size, bytes.length))) await sink.write(chunk);
  await sink.end();
  return text;
}

describe('rtf: what a skipped group or \\bin data hides', () => {
  const head = '{\\rtf1\\ansi\\ansicpg1252\\deff0{\\fonttbl{\\f0\\fswiss Calibri;}}{\\*\\generator Riched20 10.0}\\f0 ';

  it('drops a destination that closes, and reads the text around it', async () => {
    for (const size of SIZES) {
      const text = await rtfTextOf(`${head}hello {\\*\\bkmkstart x}world\\par}`, size);
      expect(text, `chunks of ${size}`).toContain('hello world');
      expect(text).not.toContain('Calibri');
      expect(text).not.toContain('Riched20');
    }
  });

  it('scans what follows when groups never close', async () => {
    const cuts = ['{\\rtf1\\uc99\\u8364', '{\\rtf1{\\*\\generator Riched', '{\\rtf1\\ansi{\\fonttbl{\\f0 Calibri;', `${head}{\\pict\\pngblip 89504e47`, '{\\rtf1{\\*\\a{\\*\\b{\\*\\c '];
    for (const cut of cuts) {
      for (const size of SIZES) expect(await rtfTextOf(`${cut} ${CARD}`, size), `${cut}, chunks of ${size}`).toContain(CARD);
      await expectCardAtEverySize(`${cut}\n${CARD}\n`);
    }
  });

  it('skips \\bin data by its count, and scans it when the document ends first', async () => {
    for (const size of SIZES) {
      const text = await rtfTextOf(Buffer.concat([Buffer.from(`${head}before\\bin6 `), Buffer.from([0, 1, 0x7b, 0x7d, 0x5c, 2]), Buffer.from(' after\\par}')]), size);
      expect(text, `chunks of ${size}`).toContain('before');
      expect(text).toContain('after');
      expect(text).not.toContain('\u0001');
      expect(await rtfTextOf(`${head}before\\bin1000000 ${CARD}`, size), `chunks of ${size}`).toContain(CARD);
      expect(await rtfTextOf(`${head}{\\*\\objdata \\bin1000000 ${CARD}`, size), `chunks of ${size}`).toContain(CARD);
    }
    await expectCardAtEverySize(`${head}before\\bin99999999 ${CARD}`);
  });

  it('scans a hidden destination past 1 MiB as it comes, and finds nothing in a large picture', async () => {
    const filler = 'lorem ipsum '.repeat(100_000);
    const text = await rtfTextOf(`${head}{\\*\\x ${filler}${CARD}}visible\\par}`, 64 * 1024);
    expect(text).toContain(CARD);
    expect(text).toContain('visible');
    const hex = Array.from({ length: 2 * 1024 * 1024 }, (_, i) => ((i * 2654435761) >>> 24).toString(16).padStart(2, '0')).join('');
    const picture = `${head}{\\pict\\pngblip ${hex.replace(/.{128}/g, '$&\n')}}hello\\par}`;
    expect(await scan(chunked(Buffer.from(picture), 64 * 1024), { content: { contentType: 'application/rtf' } })).toEqual([]);
  });

  it('finds nothing in a whole RTF whose groups all close', async () => {
    await expectNothingAtEverySize(`${head}hello {\\b world}\\par {\\*\\themedata 504b030414000600080000002100}{\\*\\bkmkstart notes}}`);
  });
});

describe('RTF destinations a reader may ignore are read all the same', () => {
  const rtf = (inner: string) => Buffer.from(`{\\rtf1\\ansi{\\fonttbl{\\f0 Arial;}}\\pard hello ${inner}\\par}`);
  const card = '4111 1111 1111 1111';
  const hiding = [
    `{\\*\\atnid JS}{\\*\\atnauthor Jo}\\chatn{\\*\\annotation{\\*\\atnref 1}\\pard card ${card}}`,
    `{\\*\\comment card ${card}}`,
    `{\\*\\userprops{\\propname account}\\proptype30{\\staticval card ${card}}}`,
    `{\\*\\docvar {acct}{card ${card}}}`,
    `{\\field{\\*\\fldinst HYPERLINK "https://example.com/?card=${card}"}{\\fldrslt link}}`,
    `{\\field{\\*\\fldinst FORMTEXT {\\*\\formfield{\\fftype0{\\*\\ffname acct}{\\*\\ffdeftext card ${card}}}}}{\\fldrslt x}}`,
    `{\\*\\unknownnewthing card ${card}}`,
  ];
  for (const inner of hiding) {
    it(`finds a card number in ${inner.slice(0, 40)}…, at chunk sizes 1 to 7`, async () => {
      const body = rtf(inner);
      for (const size of [body.length, 1, 3, 7]) expect(await scan(chunked(body, size), { content: { contentType: 'application/rtf' } })).toContain('payment-card');
    });
  }

  it('still skips pictures, theme data and tables held in such destinations', async () => {
    const hex = Buffer.from(Array.from({ length: 4000 }, (_, i) => (i * 37 + 11) & 0xff)).toString('hex');
    const body = rtf(`{\\*\\shppict{\\pict\\pngblip ${hex}}}{\\*\\themedata ${hex}}{\\*\\colorschememapping ${hex}}{\\*\\datastore ${hex}}{\\*\\passwordhash ${hex.slice(0, 64)}}`);
    expect(await scan(body, { content: { contentType: 'application/rtf' } })).toEqual([]);
  });
});

describe('names people give to parts, and comments in HTML', () => {
  const card = '4111 1111 1111 1111';
  it('reads a part’s file name and description, in mail and in form-data, at chunk sizes 1 to 7', async () => {
    const mail = Buffer.from(`From: a@example.com\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: application/octet-stream; name="card ${card}.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\neHg=\r\n--b--\r\n`);
    const form = Buffer.from(`--f\r\nContent-Disposition: form-data; name="upload"; filename="card ${card}.txt"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--f--\r\n`);
    const described = Buffer.from(`--f\r\nContent-Disposition: form-data; name="upload"\r\nContent-Description: card ${card}\r\n\r\nhello\r\n--f--\r\n`);
    for (const [body, contentType] of [[mail, 'message/rfc822'], [form, 'multipart/form-data; boundary=f'], [described, 'multipart/form-data; boundary=f']] as const) {
      for (const size of [body.length, 1, 3, 7]) expect(await scan(chunked(body, size), { content: { contentType } }), `${contentType} in chunks of ${size}`).toEqual(['payment-card']);
    }
  });

  it('reads HTML comments (not shown, but they travel with the page)', async () => {
    const page = Buffer.from(`<html><body><p>hello</p><!-- card ${card} --></body></html>`);
    for (const size of [page.length, 1, 7]) expect(await scan(chunked(page, size), { content: { contentType: 'text/html' } })).toEqual(['payment-card']);
  });
});
