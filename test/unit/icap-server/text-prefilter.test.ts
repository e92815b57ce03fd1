// The text prefilter (WebAssembly SIMD) against the patterns it stands in for, on texts made to
// hit its edges: every 16-unit block boundary, the end of the window, units above 255 whose low
// byte is a digit or a capital (U+0130, U+0141), units above 0x7fff, lone surrogates. It must
// list every position where the card, SSN and two-capitals patterns match (more is allowed: the
// sticky patterns decide), and say exactly which trigger literals occur.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/index.js';
import { buildDetectorSet } from '../../../src/icap-server/detectors/detector-set.js';
import { luhnValid, paymentCardDetector } from '../../../src/icap-server/detectors/payment-card.js';
import { alphabetRuns, TextPrefilter, type PrefilterAnchor } from '../../../src/icap-server/detectors/prefilter/text-prefilter.js';
import { usSsnDetector } from '../../../src/icap-server/detectors/us-ssn.js';

const RULE = { minConfidence: 'low', minCount: 1 } as const;
const config = parseConfig({}).icapServer;
const LITERALS = [...new Set(buildDetectorSet(config.detectors, 'dlp', 'REQMOD').text.flatMap((d) => (d.type === 'pattern' ? (d.triggers ?? []) : [])))];
const global = (re: RegExp) => new RegExp(re.source, 'g');
const PATTERNS: Record<PrefilterAnchor, RegExp> = {
  'card-start': global(paymentCardDetector(RULE).pattern),
  'ssn-core': global(usSsnDetector(RULE).pattern),
  capitals: /\b[A-Z][A-Z]/g,
};

function matchStarts(re: RegExp, text: string, keep: (m: RegExpExecArray) => boolean = () => true): number[] {
  const out: number[] = [];
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) if (keep(m)) out.push(m.index);
  return out;
}

/** A card match the kernel lists: grouped, or a contiguous run that passes Luhn (every card does). */
const KEEP: Partial<Record<PrefilterAnchor, (m: RegExpExecArray) => boolean>> = { 'card-start': (m) => m[1] !== undefined || luhnValid(m[0]) };

/** A deterministic generator (the same texts every run). */
function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const PIECES = [
  ...'0123456789ABCXYZabcxyz_ -+.,\n\t@/:=',
  '\u00e9', '\u0130', '\u0141', '\uff10', '\u8030', '\ud800', '\udfff', '\u00a0',
  '4111', '1111 ', '4111111111111111', '41111111111111111111', '5500-0000-0000-0004', '378282246310005', '4111 1111 1111 1111', '4111+1111+1111+1111', '123+45+6789',
  '123-45-6789', '123 45 6789', '123-45 6789', '12-34-5678', '1234-56-78901',
  'DE89 3704 0044 0532 0130 00', 'GB82WEST12345698765432', 'QQ 12 34 56 C', 'aB', 'Ab',
  ...LITERALS, 'AKI', 'secre', 'xox', 'hooks.slack.co', 'T3Blbk', 'Accoun',
];

function text(rand: () => number, pieces: number): string {
  let s = '';
  for (let i = 0; i < pieces; i++) s += PIECES[Math.floor(rand() * PIECES.length)];
  return s;
}

describe('text prefilter', () => {
  const prefilter = new TextPrefilter(LITERALS);

  it('lists every place the card, SSN and capitals patterns match, in increasing order, and the literals exactly', () => {
    const rand = random(2026);
    for (let round = 0; round < 3000; round++) {
      const t = text(rand, 1 + Math.floor(rand() * 60));
      const found = prefilter.scan(t);
      for (const anchor of Object.keys(PATTERNS) as PrefilterAnchor[]) {
        const listed = [...found.positions[anchor]];
        expect(listed, `${anchor} sorted in ${JSON.stringify(t)}`).toEqual([...listed].sort((a, b) => a - b));
        expect(listed.every((p) => p < t.length)).toBe(true);
        const have = new Set(listed);
        const missed = matchStarts(PATTERNS[anchor], t, KEEP[anchor]).filter((p) => !have.has(p));
        expect(missed, `${anchor} in ${JSON.stringify(t)}`).toEqual([]);
      }
      expect(found.literals.map((k) => LITERALS[k]).sort(), JSON.stringify(t)).toEqual(LITERALS.filter((l) => t.includes(l)).sort());
      for (const k of found.literals) expect(found.firstAt[k], `${LITERALS[k]} first in ${JSON.stringify(t)}`).toBe(t.indexOf(LITERALS[k]!));
    }
  });

  it('a contiguous digit run is listed exactly when it is 13 to 19 digits, Luhn-valid, and no letter or _ follows', () => {
    const rand = random(31);
    for (let round = 0; round < 3000; round++) {
      const length = 11 + Math.floor(rand() * 11);
      const digits = Array.from({ length }, () => String(Math.floor(rand() * 10))).join('');
      const after = [' ', '', '.', 'x', '_', '-', '\u0141'][Math.floor(rand() * 7)]!;
      const before = ['', ' ', 'ab ', '.'][Math.floor(rand() * 4)]!;
      const t = `${before}${digits}${after}`;
      const at = before.length;
      const listed = length >= 13 && length <= 19 && luhnValid(digits) && !/^[A-Za-z_]/.test(after);
      expect([...prefilter.scan(t).positions['card-start']], JSON.stringify(t)).toEqual(listed ? [at] : []);
    }
  });

  it('two capitals at a word start are listed exactly (the anchor IBAN, NINO and VAT share)', () => {
    const rand = random(7);
    for (let round = 0; round < 500; round++) {
      const t = text(rand, 40);
      expect([...prefilter.scan(t).positions.capitals]).toEqual(matchStarts(PATTERNS.capitals, t));
    }
  });

  it('a literal or a candidate at the very end of the window, and an empty window', () => {
    for (const pad of ['', ' ', ' '.repeat(15), ' '.repeat(16), ' '.repeat(31)]) {
      const t = `${pad}4111111111111111`;
      expect([...prefilter.scan(t).positions['card-start']]).toEqual([pad.length]);
      expect(prefilter.scan(`${pad}AKIA`).literals.map((k) => LITERALS[k])).toEqual(['AKIA']);
      expect(prefilter.scan(`${pad}AKI`).literals).toEqual([]);
    }
    const empty = prefilter.scan('');
    expect({ literals: empty.literals, positions: empty.positions }).toEqual({ literals: [], positions: { 'card-start': new Uint32Array(0), 'ssn-core': new Uint32Array(0), capitals: new Uint32Array(0) } });
  });

  it('a unit over 255 is no ASCII character: U+0130 is no digit, U+0141 no capital, and neither joins a word', () => {
    expect([...prefilter.scan('\u01304111111111111111').positions['card-start']]).toEqual([1]);
    expect([...prefilter.scan('\u0141\u0141').positions.capitals]).toEqual([]);
    expect([...prefilter.scan('\u0141GB82').positions.capitals]).toEqual([1]);
  });

  it('a larger window after a smaller one (the memory grows), and the smaller again', () => {
    const big = `${'lorem ipsum '.repeat(20_000)}4111111111111111`;
    expect([...prefilter.scan(big).positions['card-start']]).toEqual([big.length - 16]);
    expect([...prefilter.scan('x 4111111111111111').positions['card-start']]).toEqual([2]);
  });

  it('base64 alphabet runs: exactly the maximal runs of 24 or more, wherever they start and end', () => {
    const rand = random(99);
    const alphabet = [...'ABCXYZabcxyz0189+/-_', '=', ' ', '.', '\n', '\u00e9', '\u0141', '\u8030', 'QUJD'.repeat(3), 'x'.repeat(23), 'y'.repeat(24), 'z'.repeat(40)];
    for (let round = 0; round < 2000; round++) {
      let t = '';
      for (let i = 0, n = Math.floor(rand() * 40); i < n; i++) t += alphabet[Math.floor(rand() * alphabet.length)];
      const expected = [...t.matchAll(/[A-Za-z0-9+/_-]{24,}/g)].flatMap((m) => [m.index, m.index + m[0].length]);
      expect([...alphabetRuns(t, 24)], JSON.stringify(t)).toEqual(expected);
    }
    expect([...alphabetRuns('', 24)]).toEqual([]);
    expect([...alphabetRuns('A'.repeat(100_000), 24)]).toEqual([0, 100_000]);
  });

  it('base64 alphabet runs among words of every length, at every minimum: prose crossing the 64-unit steps', () => {
    const rand = random(7);
    for (let round = 0; round < 300; round++) {
      let t = '';
      while (t.length < 1500) t += `${'aZ9+/_-'[Math.floor(rand() * 7)]!.repeat(1 + Math.floor(rand() * (rand() < 0.9 ? 12 : 90)))}${' .\n='[Math.floor(rand() * 4)]}`;
      for (const minRun of [1, 2, 23, 24, 63, 64]) {
        const expected = [...t.matchAll(new RegExp(`[A-Za-z0-9+/_-]{${minRun},}`, 'g'))].flatMap((m) => [m.index, m.index + m[0].length]);
        expect([...alphabetRuns(t, minRun)], `round ${round}, minimum ${minRun}`).toEqual(expected);
      }
    }
  });

  it('base64 alphabet runs that start and end at every offset around the 64-unit steps', () => {
    for (const length of [23, 24, 25, 40, 63, 64, 65, 127, 128, 129, 200]) {
      for (let offset = 0; offset < 140; offset++) {
        const t = `${'ab .'.repeat(40).slice(0, offset)}${'Q'.repeat(length)}.${'x'.repeat(30)}`;
        const expected = [...t.matchAll(/[A-Za-z0-9+/_-]{24,}/g)].flatMap((m) => [m.index, m.index + m[0].length]);
        expect([...alphabetRuns(t, 24)], `${length} at ${offset}`).toEqual(expected);
      }
    }
    expect(() => alphabetRuns('x', 65)).toThrow(/1 to 64/);
  });

  it('a folded literal is found in any ASCII case and a plain one only as written; both at every offset', () => {
    const folded = new TextPrefilter([{ text: 'secret', foldCase: true }, 'AKIA', { text: 'Project Falcon', foldCase: true }, { text: 'Zaz', foldCase: true }]);
    const found = (t: string) => folded.scan(t).literals.sort();
    expect(found('x SeCrEt y')).toEqual([0]);
    expect(found('SECRET project FALCON akia')).toEqual([0, 2]);
    expect(found('secre t AKIA')).toEqual([1]);
    // a letter folds, nothing else does: '@' is 0x40, '`' 0x60, '{' 0x7b
    expect(found('s@cret sEcre\u0074')).toEqual([0]);
    expect(found('\u017fecret')).toEqual([]);
    for (let offset = 0; offset < 40; offset++) expect(found(`${' '.repeat(offset)}sEcReT`), `at ${offset}`).toEqual([0]);
    const rand = random(5);
    const letters = [...'sSeEcCrRtTaAkKiIzZ @`{[', 'secret', 'SECRET', 'akia', 'AKIA', 'zaz', 'ZAZ'];
    for (let round = 0; round < 1000; round++) {
      let t = '';
      for (let i = 0, n = Math.floor(rand() * 50); i < n; i++) t += letters[Math.floor(rand() * letters.length)];
      const ascii = t.replace(/[A-Z]/g, (c) => c.toLowerCase());
      const expected = [ascii.includes('secret') ? 0 : -1, t.includes('AKIA') ? 1 : -1, ascii.includes('project falcon') ? 2 : -1, ascii.includes('zaz') ? 3 : -1].filter((k) => k >= 0);
      expect(found(t), JSON.stringify(t)).toEqual(expected);
      // where each is first found, in any ASCII case for the folded ones (a scan after a longer one, whose places are still there)
      const { firstAt } = folded.scan(t);
      const first = [ascii.indexOf('secret'), t.indexOf('AKIA'), ascii.indexOf('project falcon'), ascii.indexOf('zaz')];
      for (const k of expected) expect(firstAt[k], `${k} in ${JSON.stringify(t)}`).toBe(first[k]);
    }
  });

  it('refuses what it cannot hold: more than 64 literals, a literal not printable ASCII', () => {
    expect(() => new TextPrefilter(Array.from({ length: 65 }, (_, i) => `lit${i}`))).toThrow(/at most 64/);
    expect(() => new TextPrefilter(['caf\u00e9'])).toThrow(/printable ASCII/);
    expect(() => new TextPrefilter([''])).toThrow(/printable ASCII/);
  });

});
