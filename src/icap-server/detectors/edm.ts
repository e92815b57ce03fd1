// Exact data match (issue 13; Purview's EDM): a CSV of sensitive records (customers, employees)
// is imported as keyed hashes of its normalised field values, and the plain values are dropped
// once hashed. A body holding `minFields` or more fields of one record within `proximityChars`
// of each other is a violation naming the data set (`edm:<name>`), one count per record.
// At least one of the fields must be distinctive (a value no other record shares: an SSN, an
// e-mail address), so a first name and a city that many customers share are not a match.
//
// Scanning: the text is normalised as the values were (lower case, digit groups joined, every
// other character a word break), and each run of 1..maxWords words is looked up: first in a
// Bloom filter of a fast seeded hash, then, on a hit, by HMAC-SHA-256 with the data set's salt.
import { createHmac, randomBytes } from 'node:crypto';
import type { FindingSink } from './findings.js';
import type { StreamDetector, TextReader } from './text-detector.js';

export interface EdmOptions {
  name: string;
  minFields: number;
  proximityChars: number;
}

/** Values shorter than this after normalisation are not indexed: they are in every text. */
const MIN_VALUE_CHARS = 3;
const MAX_WORDS = 6;
/** Record states kept per scan; past it the oldest are forgotten. */
const MAX_OPEN_RECORDS = 50_000;
const BLOOM_BITS_PER_KEY = 12;

/** Lower case, digit groups joined (`536-22-1234` → `536221234`), every other run of non-alphanumerics one space. */
export function normalise(text: string): string {
  return text
    .toLowerCase()
    .replace(/(\d)[ \-./]+(?=\d)/g, '$1')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** RFC 4180 rows: quoted fields with "" escapes, CRLF or LF line ends. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(field), (field = '');
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      if (row.some((f) => f !== '')) rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  row.push(field);
  if (row.some((f) => f !== '')) rows.push(row);
  return rows;
}

/** FNV-1a over UTF-16 code units, seeded: the Bloom filter's hash (not a secret, only a pre-filter). */
function fnv(text: string, seed: number): number {
  let h = 0x811c9dc5 ^ seed;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export class EdmIndex {
  private readonly salt = randomBytes(16);
  private readonly seed = this.salt.readUInt32LE(0);
  private readonly bloom: Uint32Array;
  private readonly bloomBits: number;
  /** HMAC prefix → (record << 6 | column) of every record holding that value */
  private readonly keys = new Map<string, number[]>();
  readonly records: number;
  readonly columns: readonly string[];
  readonly maxWords: number;

  constructor(
    readonly options: EdmOptions,
    csv: string,
  ) {
    const [header = [], ...rows] = parseCsv(csv);
    this.columns = header.map((h) => h.trim());
    this.records = rows.length;
    const entries: Array<[string, number]> = [];
    let maxWords = 1;
    rows.forEach((row, r) => {
      row.slice(0, 64).forEach((value, c) => {
        const norm = normalise(value);
        if (norm.length < MIN_VALUE_CHARS) return;
        const words = norm.split(' ').length;
        if (words > MAX_WORDS) return;
        maxWords = Math.max(maxWords, words);
        entries.push([norm, r * 64 + c]);
      });
    });
    this.maxWords = maxWords;
    this.bloomBits = Math.max(1024, 2 ** Math.ceil(Math.log2(entries.length * BLOOM_BITS_PER_KEY)));
    this.bloom = new Uint32Array(this.bloomBits / 32);
    for (const [norm, ref] of entries) {
      for (const bit of this.bits(norm)) this.bloom[bit >>> 5]! |= 1 << (bit & 31);
      const key = this.key(norm);
      const refs = this.keys.get(key);
      if (refs) refs.push(ref);
      else this.keys.set(key, [ref]);
    }
  }

  private bits(norm: string): number[] {
    const a = fnv(norm, this.seed);
    const b = fnv(norm, this.seed ^ 0x5bd1e995) | 1;
    const mask = this.bloomBits - 1;
    return [a & mask, (a + b) & mask, (a + 2 * b) & mask];
  }

  private key(norm: string): string {
    return createHmac('sha256', this.salt).update(norm).digest('base64').slice(0, 16);
  }

  /** The (record << 6 | column) references holding `norm`, or undefined. */
  lookup(norm: string): readonly number[] | undefined {
    for (const bit of this.bits(norm)) if (((this.bloom[bit >>> 5] as number) & (1 << (bit & 31))) === 0) return undefined;
    return this.keys.get(this.key(norm));
  }

  /** True when no other record holds the same value in any column. */
  distinctive(refs: readonly number[]): boolean {
    const first = Math.floor((refs[0] as number) / 64);
    return refs.every((ref) => Math.floor(ref / 64) === first);
  }
}

/** Proximity is counted in words of about six characters. */
const CHARS_PER_WORD = 6;

export function edmDetector(index: EdmIndex): StreamDetector {
  const { name, minFields, proximityChars } = index.options;
  const proximityWords = Math.ceil(proximityChars / CHARS_PER_WORD);
  return {
    type: 'stream',
    name: `edm:${name}`,
    open(findings: FindingSink): TextReader {
      /** record → column → [word position of the last sighting, distinctive] */
      const open = new Map<number, Map<number, [number, boolean]>>();
      const matched = new Set<number>();
      /** Text after the last space of the previous write (a word or number it may continue). */
      let rawCarry = '';
      /** Words whose n-grams may still reach into the next write, and the position of the first. */
      let words: string[] = [];
      let base = 0;
      const see = (refs: readonly number[], at: number) => {
        const distinctive = index.distinctive(refs);
        for (const ref of refs) {
          const record = Math.floor(ref / 64);
          if (matched.has(record)) continue;
          let fields = open.get(record);
          if (fields === undefined) {
            if (open.size >= MAX_OPEN_RECORDS) open.delete(open.keys().next().value as number);
            fields = new Map();
            open.set(record, fields);
          }
          fields.set(ref % 64, [at, distinctive]);
          let near = 0;
          let anyDistinctive = false;
          for (const [seenAt, d] of fields.values()) {
            if (at - seenAt <= proximityWords) {
              near++;
              anyDistinctive ||= d;
            }
          }
          if (near >= minFields && anyDistinctive) {
            matched.add(record);
            open.delete(record);
            findings.add(`edm:${name}`, 'data', 1, 1);
          }
        }
      };
      const scan = (text: string, final: boolean) => {
        const input = rawCarry + text;
        let cut = final ? input.length : Math.max(input.lastIndexOf(' '), input.lastIndexOf('\n')) + 1;
        // A text without spaces (base64, minified code) is not held back whole.
        if (input.length - cut > 1024) cut = input.length;
        rawCarry = input.slice(cut);
        const fresh = normalise(input.slice(0, cut));
        if (fresh !== '') words = words.concat(fresh.split(' '));
        // Starts whose longest n-gram is complete are decided now; the rest wait for more words.
        const decided = final ? words.length : Math.max(0, words.length - index.maxWords + 1);
        for (let i = 0; i < decided; i++) {
          let gram = '';
          for (let n = 0; n < index.maxWords && i + n < words.length; n++) {
            gram = n === 0 ? (words[i] as string) : `${gram} ${words[i + n]}`;
            if (gram.length < MIN_VALUE_CHARS) continue;
            const refs = index.lookup(gram);
            if (refs) see(refs, base + i);
          }
        }
        words = words.slice(decided);
        base += decided;
      };
      return {
        write: (text) => scan(text, false),
        end: () => scan('', true),
      };
    },
  };
}
