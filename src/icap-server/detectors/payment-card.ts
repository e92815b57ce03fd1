// Payment card numbers: 13-19 digits, plain or grouped with one kind of separator (4-4-4-4, 4-6-5),
// never part of a longer digit run or a decimal number, Luhn-valid (ISO/IEC 7812-1 annex B) and
// inside an issuer range that real cards use. A digit string that fails any of these is not a card.
// Confidence (as Purview's credit card number type): high with a card keyword nearby, a valid
// expiry next to it, or a label or column header naming a card; medium when written as people
// write cards (grouped), or contiguous beside a payment word, in prose; low when it is one
// number among many (a table, a log line) or labelled as something else (`trace_id=`).
import { inNumericContext, keywordNear, keywordPattern, nameOf } from './evidence.js';
import { isIban } from './iban.js';
import { followsWord, touchesDecimal, type Confidence, type DetectorRule, type MatchContext, type PatternDetector } from './text-detector.js';

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
  // Luhn first: it turns away nine in ten digit runs for less than the issuer table costs.
  return digits.length >= 13 && digits.length <= 19 && luhnValid(digits) && cardBrand(digits) !== undefined;
}

/**
 * Either 13-19 contiguous digits, or a first group of four followed by two to four groups of
 * three to six digits, all with the same separator (space or dash; TextScanner reads no-break
 * spaces as spaces; or `+`, the space of a form value in a URL's query, `?cc=4111+1111+1111+1111`,
 * wherever the URL is written: a JSON field, a log line). Neither may touch a word character or sit inside a decimal number (`3.4111…`, `4111….5`).
 * The four digits both forms start with are written once, outside the alternation: the engine
 * then rejects a position after four characters at most, and the pass runs about twice as fast.
 */
const CARD_PATTERN = /\b\d{4}(?:\d{9,15}|([ +-])\d{3,6}(?:\1\d{3,6}){1,3})(?!\w)/g;

/** Words that name a card (English, German, French, Spanish, Italian, Portuguese). */
export const CARD_KEYWORDS = keywordPattern([
  'card', 'cards', 'cc', 'ccn', 'cc#', 'credit', 'debit', 'visa', 'mastercard', 'master card', 'amex', 'american express',
  'discover', 'jcb', 'diners', 'diners club', 'unionpay', 'maestro', 'cardholder', 'card holder', 'cardnumber', 'pan',
  'cvv', 'cvv2', 'cvc', 'cvc2', 'csc', 'security code', 'expiry', 'expiration', 'exp', 'exp date', 'valid thru',
  'kreditkarte', 'karte', 'kartennummer', 'carte', 'carte bancaire', 'tarjeta', 'cartão', 'carta',
], { notAfterDot: true });

/** Words of payment that make a contiguous number in prose worth a look. */
const PAYMENT_WORDS = keywordPattern(['pay', 'paid', 'paying', 'payment', 'payments', 'invoice', 'billing', 'checkout', 'purchase', 'charge', 'charged', 'refund', 'zahlung', 'paiement', 'pago']);

/** MM/YY or MM/YYYY (not a part of a date such as 05/17/2024) within 40 characters: a card's expiry. */
const EXPIRY = /(?<![\d/.-])(?:0[1-9]|1[0-2])\s?\/\s?(?:20)?\d{2}(?![\d/.])/;

function expiryNear(m: RegExpExecArray): boolean {
  const end = m.index + m[0].length;
  return EXPIRY.test(m.input.slice(end, end + 40)) || EXPIRY.test(m.input.slice(Math.max(0, m.index - 40), m.index));
}

/** The confidence of a Luhn- and range-valid candidate, from what surrounds it. */
export function cardConfidence(m: RegExpExecArray, context: MatchContext, grouped: boolean): Confidence {
  const name = nameOf(m, context);
  if (name !== undefined && CARD_KEYWORDS.test(name)) return 'high';
  const keyword = keywordNear(m, CARD_KEYWORDS);
  if (expiryNear(m) && (name === undefined || keyword)) return 'high';
  if (name !== undefined) return PAYMENT_WORDS.test(name) ? 'medium' : 'low';
  const numeric = inNumericContext(m);
  if (keyword) return numeric ? 'medium' : 'high';
  if (numeric) return 'low';
  return grouped || keywordNear(m, PAYMENT_WORDS) ? 'medium' : 'low';
}

/** Printed IBAN groups right before a candidate (`CH33 2537 …`): the digits may be the rest of that IBAN. */
const IBAN_BEFORE = /[A-Z]{2}\d{2}(?: [A-Z0-9]{4}){0,6} $/;

/** True when the candidate continues a printed IBAN (ISO 13616 groups of four), so its digits are not a card. */
function insideIban(m: RegExpExecArray): boolean {
  const before = IBAN_BEFORE.exec(m.input.slice(Math.max(0, m.index - 36), m.index));
  if (before === null) return false;
  const after = /^(?: ?[A-Z0-9]{1,4}){0,7}/.exec(m.input.slice(m.index, m.index + 40))?.[0] ?? '';
  const groups = `${before[0]}${after}`.trim().split(' ');
  // The longest run of groups from the country code that is a valid IBAN.
  for (let n = groups.length; n >= 2; n--) if (isIban(groups.slice(0, n).join(''))) return true;
  return false;
}

export function paymentCardDetector(rule: DetectorRule): PatternDetector {
  return {
    type: 'pattern',
    name: 'payment-card',
    pattern: new RegExp(CARD_PATTERN.source, 'y'),
    // a digit run at a word start of 13 digits or more, or of 4 and a separator (the two shapes)
    anchor: 'card-start',
    maxMatchChars: 4 + 4 * 7,
    rule,
    check(match, context) {
      if (followsWord(match, true) || touchesDecimal(match) || insideIban(match)) return undefined;
      const text = match[0];
      const sep = match[1];
      if (sep === undefined) return isPaymentCard(text) ? cardConfidence(match, context, false) : undefined;
      const groups = text.split(sep);
      // The grouping is greedy: "4111 1111 1111 1111 123" may be a card followed by a number.
      for (let n = groups.length; n >= 3; n--) {
        if (isPaymentCard(groups.slice(0, n).join(''))) return cardConfidence(match, context, true);
      }
      return undefined;
    },
  };
}
