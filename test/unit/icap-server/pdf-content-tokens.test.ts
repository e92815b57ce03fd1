// The content stream kernel (extract/pdf-content-tokens.as.ts: WebAssembly that reads a stream's
// tokens, keeps its operands and writes what its text operators do, the parser's byte reader going
// on from where it stops) against its specification, the byte reader reading the whole stream
// (ContentTextParser with the kernel off): the same text shown, in the same fonts, runs and
// separators, on streams generated from the tokens of content streams and from what the kernel
// leaves to the byte reader (cut strings and tokens, comments, inline images, numbers too long
// for it, escapes, nesting, arrays left open, more operands than are kept, stray delimiters, odd
// white space, binary junk), handed over at chunks of 1 to 7 bytes, at random cuts, whole, and
// larger than a kernel call reads, with operators and long strings across its calls.
import { describe, expect, it } from 'vitest';
import { ContentTextParser } from '../../../src/icap-server/extract/pdf-content.js';
import { shownRuns } from './pdf-shown-runs.js';

function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 8) / 2 ** 24;
}

/** What a stream shows read at `cuts`: runs of codes (latin1) after their font's name, separators as they are. */
function shown(content: Buffer, cuts: readonly number[], kernel: boolean): string {
  const parser = new ContentTextParser(kernel ? 0 : Number.POSITIVE_INFINITY);
  let from = 0;
  for (const cut of [...cuts, content.length]) {
    parser.write(content.subarray(from, cut));
    from = cut;
  }
  parser.end();
  return shownRuns(parser.shown);
}

const NUMBERS = [
  '0', '12', '-12', '-300', '-201', '-200', '-200.01', '-199.99', '-20.05', '-2.001', '+5', '.5', '-.25', '3.', '-0', '0.0', '1.2.3', '--1', '+', '-', '.', '1e3', '12a',
  '1234567890123456789', '-1234567890123456', '123456789012345', '-12345678901234.5', '0.000000000000001', '4.5-',
];
const STRINGS = [
  '(a)', '()', '(4111 1111 1111 1111)', '(a\\(b\\)c)', '(a(b)c)', '(a(b(c)))', '(\\n\\r\\t\\b\\f\\\\\\q)', '(\\101\\1012\\7\\08)', '(\\\r\nx)', '(\\\rx)', '(\\\nx)', '(caf\u00e9 \u00ff\u0000)', '(x\ry\nz)',
  '<>', '<41>', '<4142 43>', '<414>', '<410>', '<0>', '<4g1 42>', '<00030004000500060007>', '< 0 0 0 3 >', '<\n4\r1\t>', '<ZZ>',
];
const OPERATORS = ['Tj', 'TJ', "'", '"', 'Tf', 'Td', 'TD', 'T*', 'Tm', 'BT', 'ET', 'q', 'Q', 'cm', 'Do', 're', 'f*', 'T', 'Tjx', 'TJ1', 'I', 'IDx', 'EI', '}', '{', ')', '>', 'true', 'null'];
const NAMES = ['/F1', '/F2', '/F12', '/TT0', '/F\u00e9', '/', '/Im1', '/a#20b'];
const PIECES = [
  '[', ']', '<<', '>>', '[(a) -300 (b) -12 <4142>] TJ', '<</ActualText (x)>>', '% comment (no) Tj\n', '%\r', '%', 'BI /W 2 /H 1 ID \u0000\u00ff>>]EI ', 'BI ID xEI', '/F1 9 Tf', '1 0 0 1 72 700 Tm', '1 0 0 1 72 7.5 Tm', '1 0 0 1 9 7.50 Tm', '1 0 0 1 9 -0 Tm', '1 0 0 1 9 0 Tm', '0 -14 Td', '0 0 Td', '0 .0 Td', '0 -.5 TD', 'T*',
  '(unclosed', '<4142', '(\\', '(\\1', '(\\12', '(\\\r', ')', '\u0000', '\f', '\t', '\r\n', '  ',
  // An array open when a string operator comes, and more than sixteen operands before an operator.
  "(open) [(x) '", '(open) [(x) Tj', '(open) [(x) "', '(o) <</K [(x)>> Tj',
  `${Array.from({ length: 17 }, (_, k) => k % 3).join(' ')} Td`, `${Array.from({ length: 18 }, (_, k) => k % 4).join(' ')} TD`, `${Array.from({ length: 21 }, (_, k) => k % 5).join(' ')} Tm`,
  `${Array.from({ length: 19 }, (_, k) => `/F${k}`).join(' ')} 9 Tf`, `/F1 ${Array.from({ length: 17 }, (_, k) => (k % 2 ? `/G${k}` : `${k}`)).join(' ')} Tf`,
];
const WHITE = [' ', ' ', ' ', '\n', '\r\n', '\t', '\u0000', '\f', '', ''];

/** A stream mostly of what content streams hold, now and then anything. */
function stream(rand: () => number, tokens: number, hostile: boolean): Buffer {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)] as T;
  const parts: string[] = [];
  for (let k = 0; k < tokens; k++) {
    const r = rand();
    if (r < 0.25) parts.push(pick(NUMBERS));
    else if (r < 0.5) parts.push(pick(STRINGS));
    else if (r < 0.65) parts.push(pick(OPERATORS));
    else if (r < 0.75) parts.push(pick(NAMES));
    else if (r < 0.9 || hostile) parts.push(pick(PIECES));
    else parts.push(`[${pick(STRINGS)} ${pick(NUMBERS)} ${pick(STRINGS)}] TJ`);
    parts.push(pick(WHITE));
  }
  return Buffer.from(parts.join(''), 'latin1');
}

function cutsEvery(size: number, length: number): number[] {
  return Array.from({ length: Math.max(0, Math.ceil(length / size) - 1) }, (_, k) => (k + 1) * size);
}

describe('content stream kernel against the byte reader', () => {
  it('streams of the tokens of content streams: the same text at chunks of 1 to 7 bytes, random cuts and whole', () => {
    const rand = random(3);
    for (let round = 0; round < 400; round++) {
      const content = stream(rand, 1 + Math.floor(rand() * 40), round % 4 === 3);
      const want = shown(content, [], false);
      const random = Array.from({ length: 3 }, () => Math.floor(rand() * content.length)).sort((a, b) => a - b);
      for (const cuts of [[], random, cutsEvery(1 + (round % 7), content.length)]) {
        expect(shown(content, cuts, true), `${JSON.stringify(content.toString('latin1'))} cut at ${cuts.join(',')}`).toBe(want);
      }
    }
  });

  it('random bytes, and content with random bytes put anywhere', () => {
    const rand = random(5);
    for (let round = 0; round < 300; round++) {
      const content = stream(rand, 1 + Math.floor(rand() * 30), false);
      for (let k = Math.floor(rand() * 6); k > 0; k--) content[Math.floor(rand() * content.length)] = Math.floor(rand() * 256);
      const junk = Buffer.from(Array.from({ length: Math.floor(rand() * 200) }, () => Math.floor(rand() * 256)));
      for (const bytes of [content, junk]) {
        const want = shown(bytes, [], false);
        for (const cuts of [[], cutsEvery(3, bytes.length)]) expect(shown(bytes, cuts, true), JSON.stringify(bytes.toString('latin1'))).toBe(want);
      }
    }
  });

  it('a stream larger than a kernel call reads, with tokens across its calls, whole and in 64 KiB chunks', () => {
    const rand = random(7);
    const content = Buffer.concat(Array.from({ length: 120 }, () => stream(rand, 1000, false)));
    expect(content.length).toBeGreaterThan(3 * 256 * 1024);
    const want = shown(content, [], false);
    expect(want).toContain('F1[');
    for (const cuts of [[], cutsEvery(65_536, content.length), cutsEvery(65_521, content.length)]) expect(shown(content, cuts, true) === want).toBe(true);
  });

  it('strings longer than a kernel call reads and than the parser keeps, literal and hex, are read on by the byte reader', () => {
    for (const long of [`(${'4111 1111 1111 1111 '.repeat(20_000)})`, `<${'0041'.repeat(100_000)}>`, `(${'a'.repeat(300_000)}`]) {
      const content = Buffer.from(`BT /F1 9 Tf [(a) -300 <4142>] TJ ${long} Tj (after) Tj ET`, 'latin1');
      const want = shown(content, [], false);
      for (const cuts of [[], cutsEvery(65_536, content.length), [content.length - 20]]) expect(shown(content, cuts, true) === want).toBe(true);
    }
  });
});

describe('content stream kernel: strings read sixteen bytes a step', () => {
  /** Lengths about the sixteen bytes of a step: every one up to two steps, then a few. */
  const LENGTHS = [...Array.from({ length: 34 }, (_, k) => k), 40];
  /** Every place a stream can be cut once, and not at all. */
  const everyCut = (length: number) => [[], ...Array.from({ length: length - 1 }, (_, k) => [k + 1])];
  const check = (body: string) => {
    // After a font and an array opened, before the show, so that the kernel reads the string with codes before it.
    for (const content of [Buffer.from(`/F1 9 Tf [<41> ${body}] TJ ${body} Tj`, 'latin1'), Buffer.from(body, 'latin1')]) {
      const want = shown(content, [], false);
      for (const cuts of everyCut(content.length)) expect(shown(content, cuts, true), `${JSON.stringify(content.toString('latin1'))} cut at ${cuts.join(',')}`).toBe(want);
    }
  };

  it('hex strings of 0 to 40 digits, even and odd, with white space, a byte that is no digit, or the end of the input at every place', () => {
    const digits = '0123456789abcdefABCDEF00417A';
    for (const length of LENGTHS) {
      const hex = Array.from({ length }, (_, k) => digits[(k * 7) % digits.length]).join('');
      check(`<${hex}>`);
      check(`<${hex}`);
      for (let at = 0; at <= length; at += length > 17 ? 3 : 1) {
        for (const odd of [' ', '\n', 'g', '\u0000', '>', '<', '\u00ff']) check(`<${hex.slice(0, at)}${odd}${hex.slice(at)}>`);
      }
    }
  });

  it('literal strings of 0 to 40 bytes with an escape, an octal code, a nested or closing parenthesis, or a cut escape at every place', () => {
    const text = 'the quarterly report 4111 1111 1111 1111 \u00e9\u00ff\u0000';
    for (const length of LENGTHS) {
      const body = text.slice(0, length).padEnd(length, 'x');
      check(`(${body})`);
      check(`(${body}`);
      for (let at = 0; at <= length; at += length > 17 ? 3 : 1) {
        for (const odd of ['\\n', '\\(', '\\)', '\\\\', '\\101', '\\7x', '(', ')', '()', '(x', '\\\r\n', '\\']) check(`(${body.slice(0, at)}${odd}${body.slice(at)})`);
      }
    }
  });
});

describe('content stream kernel: the items of a TJ array read in a loop of their own', () => {
  const everyCut = (length: number) => [[], ...Array.from({ length: length - 1 }, (_, k) => [k + 1])];
  const check = (content: Buffer) => {
    const want = shown(content, [], false);
    for (const cuts of everyCut(content.length)) expect(shown(content, cuts, true), `${JSON.stringify(content.toString('latin1'))} cut at ${cuts.join(',')}`).toBe(want);
  };

  it('numbers of one to twelve digits, signed, with a dot, or not numbers, followed by each delimiter, white space, a letter or the end', () => {
    const digits = '987654321012';
    const numbers: string[] = [];
    for (let length = 1; length <= 12; length++) {
      const d = digits.slice(0, length);
      numbers.push(d, `-${d}`, `+${d}`, `-${d}.5`, `${d}.`, `-.${d}`, `-0${d}`);
    }
    numbers.push('-200', '-201', '-200.0', '-200.001', '-199', '-', '+', '.', '-.', '--5', '5-', '-5-', '1.2.3', '-1e3', '-0', '1234567890123456', '-1234567890123456');
    for (const number of numbers) {
      for (const after of [' ', '\n', '\r', '\t', '\f', '\u0000', '<42>', '(b)', ']', '[', '/F1', '%c\n', '{', '}', ')', '>', 'x', '']) {
        check(Buffer.from(`/F1 9 Tf [<41> ${number}${after} <4344>] TJ (x) Tj`, 'latin1'));
      }
    }
  });

  it('hex strings about the thirty-two bytes read at once: with white space, an odd count, a byte that is no digit, or the end of the input at every place', () => {
    const digits = '0123456789abcdefABCDEF';
    for (const length of [28, 29, 30, 31, 32, 33, 34, 35, 63, 64, 65]) {
      const hex = Array.from({ length }, (_, k) => digits[(k * 5) % digits.length]).join('');
      for (let at = 0; at <= length; at += length > 35 ? 7 : 1) {
        for (const odd of ['', ' ', 'g', '\u0000', '>', '<']) check(Buffer.from(`[<${hex.slice(0, at)}${odd}${hex.slice(at)}> -300 <41>] TJ`, 'latin1'));
      }
    }
  });
});
