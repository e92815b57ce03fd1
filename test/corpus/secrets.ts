// Values for the corpus, made from a seeded generator so a seed always gives the same corpus and
// another seed gives one nobody tuned the detectors on: valid card numbers of each brand (Luhn),
// SSNs in issued ranges, IBANs with their mod-97 digits, NINOs, VAT ids that pass their national
// check, credentials in their vendors' formats (GitHub's with its CRC32), and real PEM keys.
import crypto from 'node:crypto';
import { crc32 } from '../../src/icap-server/detectors/credentials.js';

export type Rand = () => number;

/** mulberry32: small, seeded, good enough to vary a corpus. */
export function seeded(seed: number): Rand {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const pick = <T>(rand: Rand, list: readonly T[]): T => list[Math.floor(rand() * list.length)] as T;
export const digits = (rand: Rand, n: number) => Array.from({ length: n }, () => Math.floor(rand() * 10)).join('');
const chars = (rand: Rand, alphabet: string, n: number) => Array.from({ length: n }, () => alphabet[Math.floor(rand() * alphabet.length)]).join('');
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const UPPER_DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** The Luhn digit that completes `partial`. */
export function luhnDigit(partial: string): string {
  let sum = 0;
  for (let i = partial.length - 1, dbl = true; i >= 0; i--, dbl = !dbl) {
    let d = partial.charCodeAt(i) - 48;
    if (dbl) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return String((10 - (sum % 10)) % 10);
}

const CARD_PREFIXES: Array<[brand: string, prefix: string[], length: number]> = [
  ['Visa', ['4'], 16],
  ['Mastercard', ['51', '52', '53', '54', '55', '2221', '2720'], 16],
  ['Amex', ['34', '37'], 15],
  ['Discover', ['6011', '65'], 16],
  ['JCB', ['3528', '3589'], 16],
];

export interface Card {
  brand: string;
  digits: string;
  /** as printed: groups of four (Amex 4-6-5), with spaces or dashes */
  printed: string;
  expiry: string;
}

export function card(rand: Rand): Card {
  const [brand, prefixes, length] = pick(rand, CARD_PREFIXES);
  const prefix = pick(rand, prefixes);
  const body = prefix + digits(rand, length - 1 - prefix.length);
  const full = body + luhnDigit(body);
  const sep = rand() < 0.7 ? ' ' : '-';
  const printed = length === 15 ? [full.slice(0, 4), full.slice(4, 10), full.slice(10)].join(sep) : (full.match(/.{4}/g) as string[]).join(sep);
  const expiry = `${String(1 + Math.floor(rand() * 12)).padStart(2, '0')}/${26 + Math.floor(rand() * 6)}`;
  return { brand, digits: full, printed, expiry };
}

export function ssn(rand: Rand): string {
  const area = String(1 + Math.floor(rand() * 665)).padStart(3, '0');
  return `${area === '666' ? '667' : area}-${String(1 + Math.floor(rand() * 99)).padStart(2, '0')}-${String(1 + Math.floor(rand() * 9999)).padStart(4, '0')}`;
}

function mod97(text: string): number {
  let rest = 0;
  for (const c of text) rest = (rest * (c >= 'A' ? 100 : 10) + (c >= 'A' ? c.charCodeAt(0) - 55 : Number(c))) % 97;
  return rest;
}

export function iban(rand: Rand): { compact: string; printed: string } {
  const formats: Array<[string, string]> = [
    ['DE', digits(rand, 18)], ['FR', digits(rand, 10) + chars(rand, UPPER_DIGITS, 11) + digits(rand, 2)], ['GB', chars(rand, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 4) + digits(rand, 14)],
    ['NL', chars(rand, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 4) + digits(rand, 10)], ['ES', digits(rand, 20)], ['IT', chars(rand, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 1) + digits(rand, 22)],
    ['CH', digits(rand, 17)], ['BE', digits(rand, 12)], ['AT', digits(rand, 16)], ['PL', digits(rand, 24)],
  ];
  const [country, bban] = pick(rand, formats);
  const check = String(98 - mod97(`${bban}${country}00`)).padStart(2, '0');
  const compact = `${country}${check}${bban}`;
  return { compact, printed: (compact.match(/.{1,4}/g) as string[]).join(' ') };
}

export function nino(rand: Rand): { compact: string; spaced: string } {
  const first = pick(rand, [...'ABCEGHJKLMNOPRSTWXYZ']);
  const second = pick(rand, [...'ABCEGHJKLMNPRSTWXYZ']);
  const prefix = ['BG', 'GB', 'KN', 'NK', 'NT', 'TN', 'ZZ'].includes(first + second) ? 'AB' : first + second;
  const d = digits(rand, 6);
  const suffix = pick(rand, ['A', 'B', 'C', 'D']);
  return { compact: `${prefix}${d}${suffix}`, spaced: `${prefix} ${d.slice(0, 2)} ${d.slice(2, 4)} ${d.slice(4)} ${suffix}` };
}

/** A German VAT id (ISO 7064 MOD 11,10), or a Polish one (weighted mod 11). */
export function vat(rand: Rand): { compact: string; printed: string } {
  for (;;) {
    if (rand() < 0.5) {
      const body = `${1 + Math.floor(rand() * 9)}${digits(rand, 7)}`;
      let product = 10;
      for (const c of body) {
        const sum = (Number(c) + product) % 10 || 10;
        product = (2 * sum) % 11;
      }
      const id = `${body}${(11 - product) % 10}`;
      return { compact: `DE${id}`, printed: `DE ${id.slice(0, 3)} ${id.slice(3, 6)} ${id.slice(6)}` };
    }
    const body = digits(rand, 9);
    const check = [6, 5, 7, 2, 3, 4, 5, 6, 7].reduce((s, w, i) => s + w * Number(body[i]), 0) % 11;
    if (check === 10) continue;
    return { compact: `PL${body}${check}`, printed: `PL ${body.slice(0, 3)}-${body.slice(3, 6)}-${body.slice(6, 8)}-${body.slice(8)}${check}` };
  }
}

const FIRST = ['Jane', 'John', 'Amira', 'Lukas', 'Sofia', 'Chen', 'Priya', 'Mateo', 'Olga', 'Kwame', 'Emma', 'Noah', 'Yuki', 'Fatima', 'Liam', 'Ines'];
const LAST = ['Roe', 'Doe', 'Haddad', 'Becker', 'Rossi', 'Wei', 'Nair', 'Garcia', 'Ivanova', 'Mensah', 'Martin', 'Schulz', 'Tanaka', 'Khan', 'Walsh', 'Dubois'];
export const person = (rand: Rand) => ({ first: pick(rand, FIRST), last: pick(rand, LAST) });

export function emailList(rand: Rand, n: number, domain = 'customers-mail.com'): string[] {
  const out = new Set<string>();
  while (out.size < n) {
    const p = person(rand);
    out.add(`${p.first}.${p.last}${Math.floor(rand() * 1000)}@${domain}`.toLowerCase());
  }
  return [...out];
}

export function privateKeyPem(rand: Rand): string {
  const kind = pick(rand, ['ec', 'ed25519']);
  const { privateKey } = kind === 'ec' ? crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }) : crypto.generateKeyPairSync('ed25519');
  return privateKey.export({ format: 'pem', type: kind === 'ec' ? 'sec1' : 'pkcs8' }).toString().trim();
}

export const awsAccessKeyId = (rand: Rand) => `AKIA${chars(rand, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16)}`;
export const awsSecretKey = (rand: Rand) => {
  for (;;) {
    const key = chars(rand, `${ALNUM}/+`, 40);
    if (/[A-Z]/.test(key) && /[a-z]/.test(key) && /\d/.test(key)) return key;
  }
};

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export function githubToken(rand: Rand): string {
  const body = chars(rand, ALNUM, 30);
  let n = crc32(body);
  let check = '';
  for (let i = 0; i < 6; i++, n = Math.floor(n / 62)) check = BASE62[n % 62] + check;
  return `ghp_${body}${check}`;
}

export const slackToken = (rand: Rand) => `xoxb-${digits(rand, 12)}-${digits(rand, 13)}-${chars(rand, ALNUM, 24)}`;
export const googleApiKey = (rand: Rand) => `AIza${chars(rand, `${ALNUM}_-`, 35)}`;
export const stripeKey = (rand: Rand) => `sk_live_${chars(rand, ALNUM, 32)}`;
