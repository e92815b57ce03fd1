// The header of an indirect object, `N G obj` (objectHeader, pdf-syntax.ts), found by reading back
// from each `obj`: at every offset of texts made of digits, white space of every kind, `obj`, letters
// and other bytes, what the regular expression it stands for finds.
import { describe, expect, it } from 'vitest';
import { header, objectHeader } from '../../../src/icap-server/extract/pdf-syntax.js';

const OBJECT = /(\d{1,10})\s+(\d{1,5})\s+obj(?![A-Za-z])/g;

function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 8) / 2 ** 24;
}

const PIECES = ['obj', 'obj', ' 0 obj', '3 0 obj', 'objx', 'objZ', 'obj1', 'obj<', 'endobj', ' ', ' ', '\n', '\r\n', '\t', '\v', '\f', '\u00a0', '\u0085', '\u0000', '0', '7', '12', '12345', '123456', '1234567890', '12345678901', 'x', 'R', '<<', '%'];

function text(rand: () => number): string {
  let s = '';
  const n = 1 + Math.floor(rand() * 16);
  for (let k = 0; k < n; k++) s += PIECES[Math.floor(rand() * PIECES.length)];
  return s;
}

const expected = (s: string, from: number) => {
  OBJECT.lastIndex = from;
  const m = OBJECT.exec(s);
  return m === null ? -1 : { at: m.index, end: m.index + m[0].length, number: Number(m[1]) };
};

const got = (s: string, from: number) => {
  const at = objectHeader(s, from);
  return at < 0 ? -1 : { at, end: header.end, number: header.number };
};

describe('objectHeader', () => {
  it('finds what the regular expression finds, from every offset of 6,000 random texts', () => {
    const rand = random(11);
    let found = 0;
    for (let t = 0; t < 6000; t++) {
      const s = text(rand);
      for (let from = 0; from <= s.length; from++) {
        const want = expected(s, from);
        if (want !== -1) found++;
        expect(got(s, from), JSON.stringify({ s, from })).toEqual(want);
      }
    }
    expect(found).toBeGreaterThan(20_000);
  });

  it('reads the headers a file has, and long numbers as the expression cuts them', () => {
    for (const s of ['1 0 obj', '\n12 0 obj\n<<', 'endstream\nendobj\n9 0 obj <<', '12345678901 0 obj', '1 123456 0 obj', '4 00000 obj', '5\u00a00\u000bobj', '1 0 objects 2 0 obj', '1 0 obj', '3 0obj', '3 0  \r\n obj']) {
      for (let from = 0; from <= s.length; from++) expect(got(s, from), JSON.stringify({ s, from })).toEqual(expected(s, from));
    }
  });
});
