// The base64 spotter's cheap paths (runs found by a skipping window, a run judged from its first
// bytes decoded in place, hex-only runs skipped unless they read as text), attacked where a
// shortcut could lose a file.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { alphabetRuns, BASE64_DIGIT_VALUES, plainRun } from '../../../src/icap-server/detectors/prefilter/text-prefilter.js';
import { RUN_JUDGE } from '../../../src/icap-server/extract/base64-spotter.js';
import { chunked, zip } from './extract-fixtures.js';
import { scan } from './helpers.js';

const keyword = { detectors: { keywords: [{ name: 'top-secret', words: ['TOP-SECRET'] }] } };
const dlp = (body: string | Buffer[], contentType = 'text/plain', icapServer: Record<string, unknown> = keyword) => scan(body, { content: { contentType }, icapServer });
const b64 = (text: string | Buffer) => Buffer.from(text).toString('base64');

/**
 * The run judge as specified, one character and one byte at a time: the test's oracle for the
 * WebAssembly (text-prefilter.as.ts plainRun). Plain: the first 64 characters are hex digits in
 * one case and their pairs are not all printable; or the bytes they stand for start with no magic number, have too few NULs for wide
 * text (two or three of four lanes 90 % NUL), no "%P", and a control character in more than 5 % of
 * them or a byte no UTF-8 sequence allows there.
 */
function plainOracle(input: string, start: number, end: number): boolean {
  const stop = Math.min(end, start + 64);
  const chars = input.slice(start, stop);
  if (/^[0-9a-f]*$/.test(chars) || /^[0-9A-F]*$/.test(chars)) {
    // hex that reads as text is not plain: every whole pair printable ASCII, a tab or a line end
    const pairs = Buffer.from(chars.slice(0, chars.length - (chars.length % 2)), 'hex');
    return ![...pairs].every((b) => (b >= 0x20 && b < 0x7f) || b === 0x09 || b === 0x0a || b === 0x0d);
  }
  const head: number[] = [];
  let bits = 0;
  let acc = 0;
  for (const c of chars) {
    const v = BASE64_DIGIT_VALUES[c.charCodeAt(0)] ?? 0xff;
    if (v === 0xff) break;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      head.push((acc >> bits) & 0xff);
    }
  }
  if (head.length === 0 || RUN_JUDGE.firstBytes[head[0]!] !== 0) return false;
  if (head.some((b, i) => b === 0x25 && head[i + 1] === 0x50)) return false;
  if (head.filter((b) => b === 0).length >= ((head.length & ~3) / 4) * 0.9 * 2) return false;
  const controls = head.filter((b) => (b < 0x20 ? b !== 0x09 && b !== 0x0a && b !== 0x0d : b === 0x7f)).length;
  // UTF-8 by its structure (leads C2-DF, E0-EF, F0-F4 with 1, 2, 3 continuations), a sequence
  // cut by the end of the head allowed
  const invalid = !/^(?:[\x00-\x7f]|[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3})*(?:[\xc2-\xdf]|[\xe0-\xef][\x80-\xbf]?|[\xf0-\xf4][\x80-\xbf]{0,2})?$/.test(Buffer.from(head).toString('latin1'));
  return invalid || controls > head.length * 0.05;
}

describe('base64 spotter', () => {
  it('finds an encoded secret cut by a chunk boundary at every offset of the run', async () => {
    const run = b64('quarterly memo, TOP-SECRET, do not forward to anyone outside');
    const body = `notes: ${run} end`;
    for (let cut = 5; cut < body.length - 3; cut += 1) {
      expect(await dlp([Buffer.from(body.slice(0, cut)), Buffer.from(body.slice(cut))]), `cut at ${cut}`).toEqual(['keyword:top-secret']);
    }
  });

  it('reads a run of hex digits as hex when that reads as text: a hex-encoded secret, in either case, cut anywhere', async () => {
    for (const hex of [Buffer.from('quarterly memo, TOP-SECRET, do not forward').toString('hex'), Buffer.from('TOP-SECRET plans for the merger').toString('hex').toUpperCase()]) {
      const body = `payload=${hex}&x=1`;
      expect(await dlp(body)).toEqual(['keyword:top-secret']);
      for (let cut = 1; cut < body.length; cut += 3) expect(await dlp([Buffer.from(body.slice(0, cut)), Buffer.from(body.slice(cut))]), `cut at ${cut}`).toEqual(['keyword:top-secret']);
    }
    expect(await scan(`card ${Buffer.from('4111 1111 1111 1111 exp 05/28').toString('hex')}`)).toEqual(['payment-card']);
  });

  it('leaves hashes and ids in hex alone (they do not read as text)', async () => {
    const hashes = Array.from({ length: 200 }, (_, i) => `${i} sha256 ${createHash('sha256').update(String(i)).digest('hex')} ok`).join('\n');
    expect(await scan(hashes)).toEqual([]);
  });

  it('finds runs at the very start and the very end of the body, and one run after another', async () => {
    const run = b64('TOP-SECRET plans for the merger');
    expect(await dlp(run)).toEqual(['keyword:top-secret']);
    expect(await dlp(`x ${run}`)).toEqual(['keyword:top-secret']);
    const many = Array.from({ length: 40 }, (_, i) => b64(`ordinary line number ${i} of the export`)).join('\n');
    expect(await dlp(`${many}\n${run}`)).toEqual(['keyword:top-secret']);
  });

  it('reads text whose first 48 bytes end inside a multi-byte character', async () => {
    // Byte 47 starts "é" (two bytes): the decided head ends in half a character.
    for (const pad of [45, 46, 47]) {
      const text = `${'a'.repeat(pad)}éé résumé: TOP-SECRET pläne`;
      expect(await dlp(`data ${b64(text)} .`), `pad ${pad}`).toEqual(['keyword:top-secret']);
    }
  });

  it('opens UTF-16 text and a zip whose base64 is cut into 76-character lines', async () => {
    const utf16 = Buffer.from('\ufeffmemo: TOP-SECRET do not share', 'utf16le').toString('base64');
    const noBom = Buffer.from('memo: TOP-SECRET do not share with anyone', 'utf16le').toString('base64');
    expect(await dlp(`a ${utf16} b`)).toEqual(['keyword:top-secret']);
    expect(await dlp(`a ${noBom} b`)).toEqual(['keyword:top-secret']);
    const archive = zip([{ name: 'memo.txt', data: 'TOP-SECRET' }]).toString('base64').replace(/.{76}/g, '$&\n');
    expect(await dlp(`attachment:\n${archive}\n`)).toEqual(['keyword:top-secret']);
  });

  it('leaves hex hashes unopened even when their base64 reading is printable text', async () => {
    // "a000" reads as "kM4" in base64: every such quad is printable, so the old judge opened the run.
    const hashes = Array.from({ length: 5 }, (_, k) => Array.from({ length: 16 }, (_, i) => `a0${k}${(i % 10).toString()}`).join(''));
    expect(Buffer.from(hashes[0] as string, 'base64').toString('latin1')).toMatch(/^[ -~]+$/);
    const limited = { ...keyword, extract: { maxEntries: 1 } };
    expect(await dlp(JSON.stringify({ hashes }), 'application/json', limited)).toEqual([]);
    // Mixed case is not a hash: such a run is judged as base64 (and, being text here, opened).
    const mixed = hashes.map((h) => `${h.slice(0, 10)}A${h.slice(11)}`);
    expect(await dlp(JSON.stringify({ mixed }), 'application/json', limited)).toEqual(['decode-limit:entries']);
  });

  it('a decoder handing over one huge text: looked at in pieces, a run across two pieces is still found', async () => {
    const secret = b64('quarterly memo, TOP-SECRET, do not forward to anyone outside');
    const piece = 256 * 1024;
    for (const at of [piece - 30, piece - 1, piece, 2 * piece - 50]) {
      // the run starts at `at`, after a blank
      const body = `${'lorem ipsum '.repeat(Math.ceil(at / 12)).slice(0, at - 1)} ${secret} tail ${'x '.repeat(piece)}`;
      expect(await dlp([Buffer.from(body)]), `run at ${at}`).toEqual(['keyword:top-secret']);
    }
  });

  it('skips a huge line of random base64 in linear time and still opens the text after it', async () => {
    const noise = b64(Buffer.from(Array.from({ length: 3 * 1024 * 1024 }, (_, i) => (i * 7919 + 13) % 251)));
    const body = Buffer.from(`${noise} ${b64('TOP-SECRET after the noise')}`);
    const started = performance.now();
    expect(await dlp(chunked(body, 65536))).toEqual(['keyword:top-secret']);
    expect(performance.now() - started).toBeLessThan(15_000);
    // A run of one repeated character (NUL bytes) all the way to the end: nothing to open, nothing found.
    expect(await dlp(chunked(Buffer.from('A'.repeat(2 * 1024 * 1024)), 65536))).toEqual([]);
  });

  it('the run judge reads sixteen decoded bytes a step: what a longer head before left past the end of a shorter one counts for nothing', () => {
    // Each head is decoded into the same 48 bytes. The one before leaves NULs, control characters
    // or a "P" behind; the one judged ends at every length, with a "%" as its last byte or not.
    const judged = (bytes: Buffer) => bytes.toString('base64').replace(/=+$/, '');
    // (the NULs after a byte that keeps their base64 from reading as hex digits: "gAAA…", not "AAAA…")
    const before = [Buffer.alloc(48, 0).fill(0x80, 0, 1), Buffer.alloc(48, 0x01), Buffer.alloc(48, 0x50)];
    const letter = [...'klmnopqrsuvwxyz'].map((c) => c.charCodeAt(0)).find((c) => RUN_JUDGE.firstBytes[c] === 0)!;
    for (const left of before) {
      for (let length = 18; length <= 48; length++) {
        for (const last of [0x25, 0xe9, 0x41]) {
          // letters no magic number starts, with one invalid UTF-8 byte: surely nothing by that
          // byte alone, unless a "%P", NULs or control characters that are not its own count
          const head = Buffer.alloc(length, letter);
          head[1] = 0xff;
          head[length - 1] = last;
          const run = judged(head);
          plainRun(judged(left), 0, 64, RUN_JUDGE);
          expect(plainOracle(run, 0, run.length)).toBe(true);
          expect(plainRun(run, 0, run.length, RUN_JUDGE), `${length} bytes ending ${last.toString(16)} after ${left[0]}`).toBe(true);
        }
      }
    }
  });

  it('the WebAssembly run judge says what the oracle says, and the run finder leaves out exactly those runs (ending inside the text)', () => {
    let x = 2027;
    const rand = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 8) / 2 ** 24;
    const bytes = (n: number, f: () => number) => Buffer.from(Array.from({ length: n }, f));
    const heads: Array<() => Buffer | string> = [
      () => bytes(18 + Math.floor(rand() * 60), () => Math.floor(rand() * 256)),
      () => Buffer.from('quarterly memo, TOP-SECRET, do not forward to anyone outside the board'.slice(0, 20 + Math.floor(rand() * 50))),
      () => Buffer.from('r\u00e9sum\u00e9 na\u00efve caf\u00e9 \u65e5\u672c\u8a9e text and more text'),
      () => Buffer.from('plain text as UTF-16, little-endian, long enough', 'utf16le'),
      () => Buffer.concat([bytes(Math.floor(rand() * 8), () => 65 + Math.floor(rand() * 26)), Buffer.from('%PDF-1.7\n%')]),
      () => Buffer.concat([Buffer.from('PK\u0003\u0004'), bytes(30, () => Math.floor(rand() * 256))]),
      () => Buffer.concat([Buffer.from('MZ'), bytes(30, () => Math.floor(rand() * 256))]),
      // printable with a few control characters, around the 5 % line
      () => bytes(48, () => (rand() < 0.05 ? Math.floor(rand() * 32) : 32 + Math.floor(rand() * 95))),
      // NULs around the UTF-16 line
      () => bytes(48, () => (rand() < 0.45 ? 0 : 0x80 + Math.floor(rand() * 128))),
      () => Array.from({ length: 24 + Math.floor(rand() * 60) }, () => '0123456789abcdef'[Math.floor(rand() * 16)]).join(''),
      () => Array.from({ length: 24 + Math.floor(rand() * 60) }, () => '0123456789ABCDEF'[Math.floor(rand() * 16)]).join(''),
      () => Array.from({ length: 24 + Math.floor(rand() * 60) }, () => '0123456789abcdefABCDEF'[Math.floor(rand() * 22)]).join(''),
      () => Array.from({ length: 24 + Math.floor(rand() * 20) }, () => String(Math.floor(rand() * 10))).join(''),
      // text in hex, either case, sometimes with one control byte or one odd digit
      () => {
        let hex = Buffer.from('card 4111 1111 1111 1111, exp 05/28\tok\r\n'.slice(0, 12 + Math.floor(rand() * 28))).toString('hex');
        if (rand() < 0.3) hex = hex.slice(0, 2 * Math.floor(rand() * (hex.length / 2))) + ['00', '1f', '7f', '80', 'ff'][Math.floor(rand() * 5)]! + hex.slice(2 * Math.floor(rand() * 3));
        if (rand() < 0.3) hex += '7';
        return rand() < 0.5 ? hex : hex.toUpperCase();
      },
      // lower-case hex that decodes to printable ASCII ("a1d7" is "k]w"): only the hex test turns it away
      () => Array.from({ length: 6 + Math.floor(rand() * 10) }, () => `${'abcdef'[Math.floor(rand() * 6)]}${'0123'[Math.floor(rand() * 4)]}${'d5'[Math.floor(rand() * 2)]}${'0123456789abcdef'[Math.floor(rand() * 16)]}`).join(''),
      // the same with a g or a G where the last hex digit was: printable, and not hex
      () => Array.from({ length: 6 + Math.floor(rand() * 10) }, (_, i) => `${'abcdef'[Math.floor(rand() * 6)]}${'0123'[Math.floor(rand() * 4)]}${'d5'[Math.floor(rand() * 2)]}${i === 2 ? 'gG'[Math.floor(rand() * 2)] : '0123456789abcdef'[Math.floor(rand() * 16)]}`).join(''),
      // printable, with exactly k control characters, in heads of every length (the 5 % line falls between whole counts)
      () => {
        const head = bytes(rand() < 0.5 ? 34 + Math.floor(rand() * 3) : 18 + Math.floor(rand() * 31), () => 97 + Math.floor(rand() * 26));
        for (let k = Math.floor(rand() * 4); k > 0; k--) head[1 + Math.floor(rand() * (head.length - 1))] = [0x01, 0x1f, 0x7f, 0x09][Math.floor(rand() * 4)]!;
        return head;
      },
      // "%P" somewhere in bytes that are otherwise nothing
      () => bytes(48, () => 0x80 + Math.floor(rand() * 128)).fill(0x25, 20, 21).fill(0x50, 21, 22),
      // letters and one UTF-8 sequence at an edge: overlong and last leads, cut sequences, lone continuations
      () => {
        const edges = [[0xc0, 0x80], [0xc1, 0xbf], [0xc2, 0x80], [0xdf, 0xbf], [0xe0, 0xa0, 0x80], [0xef, 0xbf, 0xbf], [0xf0, 0x90, 0x80, 0x80], [0xf4, 0x8f, 0xbf, 0xbf], [0xf5, 0x80, 0x80, 0x80], [0xff], [0x80], [0xe0, 0x80]];
        return Buffer.concat([bytes(1 + Math.floor(rand() * 20), () => 97 + Math.floor(rand() * 26)), Buffer.from(edges[Math.floor(rand() * edges.length)]!), bytes(20, () => 97 + Math.floor(rand() * 26))]);
      },
    ];
    const separators = [' ', '\n', '"', '.', ' = ', '\u00e9'];
    for (let round = 0; round < 1500; round++) {
      let t = '';
      for (let i = 0, n = 1 + Math.floor(rand() * 12); i < n; i++) {
        const head = heads[Math.floor(rand() * heads.length)]!();
        let run = typeof head === 'string' ? head : head.toString('base64').replace(/=+$/, '');
        if (rand() < 0.3) run = run.replace(/\+/g, '-').replace(/\//g, '_');
        t += run + separators[Math.floor(rand() * separators.length)]!;
      }
      if (rand() < 0.5) t = t.slice(0, -1);
      const all = [...alphabetRuns(t, 24)];
      const expected: number[] = [];
      for (let k = 0; k < all.length; k += 2) {
        const [start, end] = [all[k]!, all[k + 1]!];
        const plain = plainOracle(t, start, end);
        expect(plainRun(t, start, end, RUN_JUDGE), JSON.stringify(t.slice(start, end))).toBe(plain);
        if (end === t.length || !plain) expected.push(start, end);
      }
      expect([...alphabetRuns(t, 24, RUN_JUDGE)], JSON.stringify(t)).toEqual(expected);
    }
  });
});
