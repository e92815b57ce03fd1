// The content stream parser's in-place readers: hex strings decoded where they stand (pieces of
// 4096 bytes, characters outside the hex digits ignored) and numbers read without a token string,
// attacked at chunk boundaries and with the number forms §7.3.3 allows.
import { describe, expect, it } from 'vitest';
import { decodeCodes, parseToUnicode, TextUnits, type ToUnicode } from '../../../src/icap-server/extract/pdf-cmap.js';
import { ContentTextParser } from '../../../src/icap-server/extract/pdf-content.js';
import { NEW_LINE, type ShownText, WORD_GAP } from '../../../src/icap-server/extract/pdf-shown-text.js';

/** A piece of shown text: codes (latin1 characters, one per byte) in a font, or a separator. */
type TextOp = { font: string; codes: string } | string;

/** The runs of what a stream shows, one by one. */
function opsOf(shown: ShownText): TextOp[] {
  const ops: TextOp[] = [];
  let from = 0;
  for (let k = 0; k < shown.used; k += 2) {
    const kind = shown.runs[k] as number;
    const end = shown.runs[k + 1] as number;
    if (kind === NEW_LINE || kind === WORD_GAP) ops.push(kind === NEW_LINE ? '\n' : ' ');
    else ops.push({ font: shown.fonts[kind] as string, codes: Buffer.from(shown.codes.bytes.subarray(from, end)).toString('latin1') });
    from = end;
  }
  return ops;
}

function parse(content: string, chunk = content.length): TextOp[] {
  const parser = new ContentTextParser();
  for (let at = 0; at < content.length; at += chunk) parser.write(Buffer.from(content.slice(at, at + chunk), 'latin1'));
  parser.end();
  return opsOf(parser.shown);
}

function decode(codes: string, cmap: ToUnicode | undefined, twoByte: boolean): string {
  const out = new TextUnits();
  decodeCodes(Buffer.from(codes, 'latin1'), 0, codes.length, cmap, twoByte, out);
  return out.take();
}

const hex = (text: string) => Buffer.from(text, 'latin1').toString('hex');

describe('PDF content streams', () => {
  it('decodes a hex string longer than one decoding piece, cut at every chunk size', () => {
    const text = Array.from({ length: 5000 }, (_, i) => String.fromCharCode(32 + (i % 95))).join('');
    const content = `BT /F1 9 Tf <${hex(text)}> Tj ET`;
    for (const chunk of [7, 4096, 8193, content.length]) expect(parse(content, chunk), `chunk ${chunk}`).toEqual([{ font: 'F1', codes: text }]);
  });

  it('ignores line breaks and junk inside a hex string, and pads an odd last digit with 0', () => {
    expect(parse('BT /F1 9 Tf <54\r\n4F\t50 2d zz 53> Tj <4> Tj <> Tj ET')).toEqual([{ font: 'F1', codes: 'TOP-S\u0040' }]);
  });

  it('reads kerning in every number form: a gap past a fifth of an em is a space, a smaller one is not', () => {
    const content = 'BT /F1 9 Tf [(TOP) -200.5 (-) -200 (SE) -.5 (CRET) +300 (x) -1234567890123456789 (y) 12. (z) -0200.000001 (w)] TJ ET';
    for (const chunk of [3, 11, content.length]) {
      expect(parse(content, chunk), `chunk ${chunk}`).toEqual([{ font: 'F1', codes: 'TOP' }, ' ', { font: 'F1', codes: '-SECRETx' }, ' ', { font: 'F1', codes: 'yz' }, ' ', { font: 'F1', codes: 'w' }]);
    }
  });

  it('tells a new line from a word gap by decimal positions written two ways', () => {
    const content = 'BT /F1 9 Tf 1 0 0 1 72 700.50 Tm (card) Tj 1 0 0 1 120 700.5 Tm (4111) Tj 1 0 0 1 72 686.1 Tm (next) Tj ET';
    expect(parse(content)).toEqual(['\n', { font: 'F1', codes: 'card' }, ' ', { font: 'F1', codes: '4111' }, '\n', { font: 'F1', codes: 'next' }]);
  });

  it('maps two-byte codes through a ToUnicode CMap, multi-unit targets and unmapped codes included', () => {
    const cmap = parseToUnicode('1 begincodespacerange <0000> <FFFF> endcodespacerange 2 beginbfchar <0001> <0041> <0002> <D83DDE00> endbfchar 1 beginbfrange <0010> <0012> <0030> endbfrange');
    const codes = String.fromCharCode(0, 1, 0, 2, 0, 0x10, 0, 0x12, 0x7f, 0x7f, 0, 1);
    expect(decode(codes, cmap, true)).toBe('A\u{1F600}02A');
  });

  it('a string longer than a token may be is shown as it comes: the text deep inside it is read, whatever the chunks cut', () => {
    const words = Array.from({ length: 60_000 }, (_, i) => ['lorem', 'ipsum', 'dolor', 'sit'][i % 4]).join(' ');
    // escapes of every kind around the card, so that chunks cut them
    const literal = `${words} (nested) \\(x\\) card \\064\\06111 1111 \\\r\n1111 1111\\t${words}`;
    const shown = `${words} (nested) (x) card 4111 1111 1111 1111\t${words}`;
    const contents = [`BT /F1 9 Tf (${literal}) Tj ET BT /F2 9 Tf (after) Tj ET`, `BT /F1 9 Tf [(${literal}) -300 (tail)] TJ ET BT /F2 9 Tf (after) Tj ET`];
    for (const content of contents) {
      const at = content.indexOf('card');
      for (const chunk of [65536, 65521, 300_000]) {
        for (const shift of [0, 5, 6, 7, 8, 9, 10, 11, 21, 22, 23]) {
          const parser = new ContentTextParser();
          const cuts = [...Array.from({ length: Math.floor(content.length / chunk) }, (_, k) => (k + 1) * chunk), at + shift].sort((a, b) => a - b);
          let from = 0;
          for (const cut of [...cuts, content.length]) {
            parser.write(Buffer.from(content.slice(from, cut), 'latin1'));
            from = cut;
          }
          parser.end();
          const ops = opsOf(parser.shown);
          const codes = ops.map((op) => (typeof op === 'string' ? op : op.codes)).join('');
          expect(codes.includes(shown), `chunks of ${chunk}, a cut at card + ${shift}`).toBe(true);
          expect(ops.at(-1), 'the content after the string reads on').toEqual({ font: 'F2', codes: 'after' });
        }
      }
    }
  });

  it('a long hex string is shown as it comes, a digit cut from its pair waiting for it; a string that never ends is read to the end', () => {
    const text = `${'x'.repeat(300_000)} card 4111 1111 1111 1111 ${'y'.repeat(300_000)}`;
    const content = `BT /F1 9 Tf <${hex(text)}> Tj ET`;
    for (const chunk of [65536, 65535, 100_001]) {
      const codes = parse(content, chunk).map((op) => (typeof op === 'string' ? op : op.codes)).join('');
      expect(codes === text, `chunk ${chunk}`).toBe(true);
    }
    const open = parse(`BT /F1 9 Tf (${'z'.repeat(400_000)} 4111 1111 1111 1111`, 65536);
    expect(open.map((op) => (typeof op === 'string' ? op : op.codes)).join('')).toContain('4111 1111 1111 1111');
  });
});
