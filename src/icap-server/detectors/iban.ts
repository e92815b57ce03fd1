// IBAN (ISO 13616): country code, two check digits, a BBAN of the country's fixed length, in the
// electronic form or printed in groups of four; the length table and the mod-97 check
// (ISO 7064 MOD 97-10) both have to agree, so an upper-case word with digits is not an IBAN.
// Confidence: high beside a banking keyword, medium otherwise (the check makes chance matches rare).
import { keywordNear, keywordPattern, nameOf } from './evidence.js';
import { followsWord, type DetectorRule, type PatternDetector } from './text-detector.js';

/** Total IBAN length per country (SWIFT IBAN registry). */
const IBAN_LENGTHS: Record<string, number> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BI: 27, BR: 29, BY: 28,
  CH: 21, CR: 22, CY: 28, CZ: 24, DE: 22, DJ: 27, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18,
  FK: 18, FO: 18, FR: 27, GB: 22, GE: 22, GI: 23, GL: 18, GR: 27, GT: 28, HR: 21, HU: 28, IE: 22,
  IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20, LU: 20,
  LV: 21, LY: 25, MC: 27, MD: 24, ME: 22, MK: 19, MN: 20, MR: 27, MT: 31, MU: 30, NI: 28, NL: 18,
  NO: 15, OM: 23, PK: 24, PL: 28, PS: 29, QA: 29, RO: 24, RS: 22, RU: 33, SA: 24, SC: 31, SD: 18,
  SE: 24, SI: 19, SK: 24, SM: 27, SO: 23, ST: 25, SV: 28, TL: 23, TN: 24, TR: 26, UA: 29, VA: 22,
  VG: 24, XK: 20, YE: 30,
};

/** ISO 7064 MOD 97-10 over the rearranged IBAN (letters as 10..35), computed piecewise. */
export function ibanChecksumValid(iban: string): boolean {
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let rest = 0;
  for (let i = 0; i < rearranged.length; i++) {
    const c = rearranged.charCodeAt(i);
    if (c >= 48 && c <= 57) rest = (rest * 10 + (c - 48)) % 97;
    else if (c >= 65 && c <= 90) rest = (rest * 100 + (c - 55)) % 97;
    else return false;
  }
  return rest === 1;
}

/** `iban` in electronic form (no spaces, upper case). */
export function isIban(iban: string): boolean {
  const expected = IBAN_LENGTHS[iban.slice(0, 2)];
  return expected !== undefined && iban.length === expected && /^[A-Z]{2}\d{2}[A-Z0-9]+$/.test(iban) && ibanChecksumValid(iban);
}

const IBAN_PATTERN = /[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![A-Za-z0-9])/g;

export const IBAN_KEYWORDS = keywordPattern([
  'iban', 'bank', 'banking', 'account', 'acct', 'bic', 'swift', 'sepa', 'transfer', 'wire', 'remit', 'beneficiary', 'payee',
  'konto', 'kontonummer', 'bankverbindung', 'überweisung', 'rib', 'compte', 'virement', 'cuenta', 'conto', 'rekening',
]);

export function ibanDetector(rule: DetectorRule): PatternDetector {
  return {
    type: 'pattern',
    name: 'iban',
    pattern: new RegExp(IBAN_PATTERN.source, 'y'),
    // two capitals at a word start (a match after a word character is no finding)
    anchor: 'capitals',
    maxMatchChars: 34 + 8,
    rule,
    check(match, context) {
      if (followsWord(match) || !validIban(match)) return undefined;
      const name = nameOf(match, context);
      return (name !== undefined && IBAN_KEYWORDS.test(name)) || keywordNear(match, IBAN_KEYWORDS) ? 'high' : 'medium';
    },
  };
}

/** The candidate, or its printed prefix at the country's length, is a valid IBAN. */
function validIban(match: RegExpExecArray): boolean {
  const compact = match[0].replaceAll(' ', '');
  if (isIban(compact)) return true;
  // A printed IBAN followed by another group of four ("BE68 5390 0754 7034 2024"): retry at
  // the country's length when that falls on a group boundary of the printed form.
  const expected = IBAN_LENGTHS[compact.slice(0, 2)];
  if (expected === undefined || compact.length <= expected || !match[0].includes(' ')) return false;
  let prefix = '';
  for (const group of match[0].split(' ')) {
    prefix += group;
    if (prefix.length === expected) return isIban(prefix);
    if (prefix.length > expected) return false;
  }
  return false;
}
