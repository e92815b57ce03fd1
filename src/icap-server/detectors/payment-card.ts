// Payment card numbers: 13-19 digits, plain or grouped with one kind of separator (4-4-4-4, 4-6-5),
// never part of a longer digit run or a decimal number, Luhn-valid (ISO/IEC 7812-1 annex B) and
// inside an issuer range that real cards use. A digit string that fails any of these is not a card.
import { followsWord, type TextDetector } from './text-detector.js';

interface Brand {
  name: string;
  /** inclusive prefix ranges, compared on the first digits of the same length */
  ranges: Array<[from: string, to: string]>;
  lengths: number[];
}


const BRANDS: Brand[] = [
  { name: 'visa', ranges: [['4', '4']], lengths: [13, 16, 19] },
  { name: 'mastercard', ranges: [['51', '55'], ['2221', '2720']], lengths: [16] },
  { name: 'amex', ranges: [['34', '34'], ['37', '37']], lengths: [15] },
  { name: 'discover', ranges: [['6011', '6011'], ['644', '649'], ['65', '65'], ['622126', '622925']], lengths: [16, 17, 18, 19] },
  { name: 'jcb', ranges: [['3528', '3589']], lengths: [16, 17, 18, 19] },
  { name: 'diners', ranges: [['300', '305'], ['3095', '3095'], ['36', '36'], ['38', '39']], lengths: [14, 15, 16, 17, 18, 19] },
  { name: 'unionpay', ranges: [['62', '62'], ['81', '81']], lengths: [16, 17, 18, 19] },
  { name: 'maestro', ranges: [['5018', '5018'], ['5020', '5020'], ['5038', '5038'], ['5893', '5893'], ['6304', '6304'], ['6759', '6759'], ['6761', '6763']], lengths: [13, 14, 15, 16, 17, 18, 19] },
  { name: 'mir', ranges: [['2200', '2204']], lengths: [16] },
];

/** The card brand whose issuer range and length fit `digits`, if any. */
export function cardBrand(digits: string): string | undefined {
  for (const brand of BRANDS) {
    if (!brand.lengths.includes(digits.length)) continue;
    for (const [from, to] of brand.ranges) {
      const prefix = digits.slice(0, from.length);
      if (prefix >= from && prefix <= to) return brand.name;
    }
  }
  return undefined;
}

/** Luhn mod-10 check over a string of ASCII digits. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

export function isPaymentCard(digits: string): boolean {
  return digits.length >= 13 && digits.length <= 19 && cardBrand(digits) !== undefined && luhnValid(digits);
}

/**
 * Either 13-19 contiguous digits, or a first group of four followed by two to four groups of
 * three to six digits, all with the same separator (space or dash). Neither may touch a word
 * character or sit inside a decimal number (`3.4111…`, `4111….5`).
 */
const CARD_PATTERN = /(?:\d{13,19}|\d{4}([ -])\d{3,6}(?:\1\d{3,6}){1,3})(?!\w|[.,]\d)/g;

export function paymentCardDetector(minCount: number): TextDetector {
  return {
    name: 'payment-card',
    pattern: new RegExp(CARD_PATTERN.source, 'g'),
    maxMatchChars: 4 + 4 * 7,
    minCount,
    check(match) {
      if (followsWord(match, true)) return 0;
      const text = match[0];
      const sep = match[1];
      if (sep === undefined) return isPaymentCard(text) ? 1 : 0;
      const groups = text.split(sep);
      // The grouping is greedy: "4111 1111 1111 1111 123" may be a card followed by a number.
      for (let n = groups.length; n >= 3; n--) {
        if (isPaymentCard(groups.slice(0, n).join(''))) return 1;
      }
      return 0;
    },
  };
}
