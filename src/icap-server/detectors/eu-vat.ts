// EU VAT identification numbers as VIES lays them out: the country prefix (EL for Greece, XI for
// Northern Ireland), then the national format, printed compact or in groups. Where the national
// check digit is published it must hold (DE ISO 7064 MOD 11,10; FR key; IT and SE Luhn; NL mod 11
// or mod 97; weighted mod 11 for AT, DK, EL, FI, PL, PT, SI; BE and LU mod 97/89). A VAT id is
// printed on every invoice, so it needs its keyword: high beside one (or under a label or column
// naming it), low otherwise.
import { keywordNear, keywordPattern, nameOf } from './evidence.js';
import { followsWord, type DetectorRule, type PatternDetector } from './text-detector.js';

const FORMATS: Record<string, RegExp> = {
  AT: /^U\d{8}$/, BE: /^[01]\d{9}$/, BG: /^\d{9,10}$/, CY: /^\d{8}[A-Z]$/, CZ: /^\d{8,10}$/, DE: /^\d{9}$/, DK: /^\d{8}$/,
  EE: /^\d{9}$/, EL: /^\d{9}$/, ES: /^[A-Z0-9]\d{7}[A-Z0-9]$/, FI: /^\d{8}$/, FR: /^[A-HJ-NP-Z0-9]{2}\d{9}$/, HR: /^\d{11}$/,
  HU: /^\d{8}$/, IE: /^(?:\d{7}[A-W][A-I]?|\d[A-Z+*]\d{5}[A-W])$/, IT: /^\d{11}$/, LT: /^(?:\d{9}|\d{12})$/, LU: /^\d{8}$/,
  LV: /^\d{11}$/, MT: /^\d{8}$/, NL: /^\d{9}B\d{2}$/, PL: /^\d{10}$/, PT: /^\d{9}$/, RO: /^\d{2,10}$/, SE: /^\d{10}01$/,
  SI: /^\d{8}$/, SK: /^\d{10}$/, XI: /^(?:\d{9}|\d{12}|GD\d{3}|HA\d{3})$/,
};

const digits = (s: string) => [...s].map((c) => c.charCodeAt(0) - 48);
const weighted = (d: number[], weights: number[]) => weights.reduce((sum, w, i) => sum + w * (d[i] as number), 0);

function luhn(d: number[]): boolean {
  let sum = 0;
  for (let i = d.length - 1, dbl = false; i >= 0; i--, dbl = !dbl) {
    const v = dbl ? (d[i] as number) * 2 : (d[i] as number);
    sum += v > 9 ? v - 9 : v;
  }
  return sum % 10 === 0;
}

function mod11(d: number[], weights: number[], at: number): boolean {
  const check = 11 - (weighted(d, weights) % 11);
  return (check === 11 ? 0 : check) === d[at] && check !== 10;
}

/** The national check digit, for the countries that publish it; true where none is known. */
const CHECKS: Record<string, (body: string) => boolean> = {
  AT: (b) => {
    const d = digits(b.slice(1));
    let sum = 0;
    for (let i = 0; i < 7; i++) sum += i % 2 === 0 ? (d[i] as number) : Math.floor((d[i] as number) * 2 / 10) + (((d[i] as number) * 2) % 10);
    return (10 - ((sum + 4) % 10)) % 10 === d[7];
  },
  BE: (b) => 97 - (Number(b.slice(0, 8)) % 97) === Number(b.slice(8)),
  DE: (b) => {
    let product = 10;
    for (const d of digits(b.slice(0, 8))) {
      const sum = (d + product) % 10 || 10;
      product = (2 * sum) % 11;
    }
    return (11 - product) % 10 === Number(b[8]);
  },
  DK: (b) => weighted(digits(b), [2, 7, 6, 5, 4, 3, 2, 1]) % 11 === 0,
  EL: (b) => (weighted(digits(b), [256, 128, 64, 32, 16, 8, 4, 2]) % 11) % 10 === Number(b[8]),
  FI: (b) => mod11(digits(b), [7, 9, 10, 5, 8, 4, 2], 7),
  FR: (b) => !/^\d\d$/.test(b.slice(0, 2)) || (12 + 3 * (Number(b.slice(2)) % 97)) % 97 === Number(b.slice(0, 2)),
  IT: (b) => luhn(digits(b)),
  LU: (b) => Number(b.slice(0, 6)) % 89 === Number(b.slice(6)),
  NL: (b) => {
    const d = digits(b.slice(0, 9));
    const old = weighted(d, [9, 8, 7, 6, 5, 4, 3, 2]) % 11;
    if (old === d[8] && old !== 10) return true;
    // Since 2020 sole traders get ids checked by ISO 7064 MOD 97-10 over "NL" + number (N=23, L=21, B=11).
    let rest = 0;
    for (const c of `2321${b.slice(0, 9)}11${b.slice(10)}`) rest = (rest * 10 + Number(c)) % 97;
    return rest === 1;
  },
  PL: (b) => weighted(digits(b), [6, 5, 7, 2, 3, 4, 5, 6, 7]) % 11 === Number(b[9]),
  PT: (b) => mod11(digits(b), [9, 8, 7, 6, 5, 4, 3, 2], 8) || (weighted(digits(b), [9, 8, 7, 6, 5, 4, 3, 2]) % 11 < 2 && b[8] === '0'),
  SE: (b) => luhn(digits(b.slice(0, 10))),
  SI: (b) => mod11(digits(b), [8, 7, 6, 5, 4, 3, 2], 7),
};

export function isEuVat(compact: string): boolean {
  const country = compact.slice(0, 2);
  const body = compact.slice(2);
  const format = FORMATS[country];
  return format !== undefined && format.test(body) && (CHECKS[country]?.(body) ?? true);
}

const VAT_PATTERN = new RegExp(`(?:${Object.keys(FORMATS).join('|')}) ?[0-9A-Z+*](?:[ .-]?[0-9A-Z+*]){1,13}(?![A-Za-z0-9])`, 'g');

export const VAT_KEYWORDS = keywordPattern([
  'vat', 'vat id', 'vat no', 'vat number', 'vat reg', 'ust', 'ust-id', 'ust-idnr', 'ustid', 'ustidnr', 'umsatzsteuer', 'mwst', 'tva',
  'n° tva', 'iva', 'nif', 'cif', 'btw', 'moms', 'momsregistreringsnummer', 'alv', 'nip', 'dic', 'dph', 'pvm', 'pvn', 'ddv', 'fpa', 'áfa', 'tax id', 'tax number',
]);

/** The compact candidate, or its longest prefix ending on a printed group boundary, that is a VAT id. */
function validVat(text: string): boolean {
  const groups = text.split(/[ .-]/);
  for (let n = groups.length; n >= 1; n--) if (isEuVat(groups.slice(0, n).join(''))) return true;
  return false;
}

export function euVatDetector(rule: DetectorRule): PatternDetector {
  return {
    type: 'pattern',
    name: 'eu-vat',
    pattern: new RegExp(VAT_PATTERN.source, 'y'),
    // two capitals at a word start (a match after a word character is no finding)
    anchor: 'capitals',
    maxMatchChars: 2 + 1 + 14 * 2,
    rule,
    check(m, context) {
      if (followsWord(m) || !validVat(m[0])) return undefined;
      const name = nameOf(m, context);
      return (name !== undefined && VAT_KEYWORDS.test(name)) || keywordNear(m, VAT_KEYWORDS, 80) ? 'high' : 'low';
    },
  };
}
