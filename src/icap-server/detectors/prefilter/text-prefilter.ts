// Where the built-in text detectors can match in a window, found by one WebAssembly SIMD pass
// (text-prefilter.as.ts, committed compiled in text-prefilter-wasm.ts) instead of a
// regular-expression pass each: which trigger literals occur (TextScanner runs a triggered
// detector only on a window holding one of its literals), and the positions where card numbers,
// US SSNs and words of two capitals (IBAN, NINO, VAT ids) can start, where each of those detectors
// runs its sticky pattern. Every such position is listed (a superset): the patterns and the checks
// decide, as before.
//
// The window goes into the module's memory as UTF-16 code units, so a position is a string index.
// Memory (bytes): the Teddy nibble tables, the literals by bucket and their units, the result (and
// where each literal is first found), then per scan the text (and zero padding), the three
// position lists and 16 bytes of scratch; it grows with the largest window and stays.
import { Kernel as WasmKernel, type KernelMemory } from '../../wasm/kernel.js';
import { TEXT_PREFILTER_WASM } from './text-prefilter-wasm.js';

export type PrefilterAnchor = 'card-start' | 'ssn-core' | 'capitals';

/**
 * A trigger literal: printable ASCII, at most MAX_LITERAL_CHARS. A string is found as written;
 * `foldCase` finds it in any ASCII case (the triggers of a case-insensitive pattern).
 */
export type PrefilterLiteral = string | { readonly text: string; readonly foldCase: boolean };

export interface PrefilterResult {
  /** indexes (into the literals given) of the literals present in the window */
  literals: number[];
  /** by index into the literals given, where each present one is first found; valid until the next scan */
  firstAt: Uint32Array;
  /** increasing positions; valid until the next scan of this prefilter */
  positions: Record<PrefilterAnchor, Uint32Array>;
}

/** The literals seen are bits of one u64; Teddy has eight buckets (one byte per lane). */
export const MAX_LITERALS = 64;
/** a literal's length has seven bits in its record */
export const MAX_LITERAL_CHARS = 127;
const BUCKETS = 8;
/** the kernel reads up to 18 units past the window (three overlapping loads of 16) */
const PADDING = 64;

interface Exports extends KernelMemory {
  scan(text: number, n: number, teddy: number, lits: number, pool: number, out: number, cap: number, work: number, result: number): void;
  alphabetRuns(text: number, n: number, minRun: number, out: number, judge: number): number;
  plainRun(text: number, start: number, end: number, judge: number): number;
}

/** The prefilter's kernel: memory as UTF-16 units. */
class Kernel extends WasmKernel<Exports> {
  constructor() {
    super(TEXT_PREFILTER_WASM);
  }

  /** `text` as UTF-16 units at byte `at`, then the zero padding the kernel may read. */
  put(bytes: Buffer, text: string, at: number): void {
    bytes.write(text, at, 2 * text.length, 'utf16le');
    bytes.fill(0, at + 2 * text.length, at + 2 * text.length + PADDING);
  }
}

export class TextPrefilter {
  readonly #kernel = new Kernel();
  readonly #result: number;
  /** where each scan's text starts; the position lists and the kernel's scratch follow it */
  readonly #text: number;

  /** `given`: the detectors' triggers, at most 64. */
  constructor(given: readonly PrefilterLiteral[]) {
    if (given.length > MAX_LITERALS) throw new RangeError(`text prefilter: ${given.length} trigger literals (at most ${MAX_LITERALS})`);
    const literals = given.map((l) => (typeof l === 'string' ? { text: l, foldCase: false } : { text: l.foldCase ? l.text.toLowerCase() : l.text, foldCase: l.foldCase }));
    for (const { text } of literals) {
      if (!/^[\x20-\x7e]+$/.test(text) || text.length > MAX_LITERAL_CHARS) throw new RangeError(`text prefilter: trigger ${JSON.stringify(text)} is not printable ASCII of at most ${MAX_LITERAL_CHARS} characters`);
    }
    const tables = teddyTables(literals);
    const pool = 128 + 32 + 4 * MAX_LITERALS;
    this.#result = align(pool + 2 * literals.reduce((n, l) => n + l.text.length, 0), 16);
    this.#text = this.#result + 32 + 4 * MAX_LITERALS;
    const bytes = this.#kernel.reserve(this.#text);
    bytes.set(tables.nibbles, 0);
    let at = 0;
    let unitAt = 0;
    tables.buckets.forEach((bucket, b) => {
      bytes.writeUInt32LE(((at << 16) | bucket.length) >>> 0, 128 + 4 * b);
      for (const k of bucket) {
        const { text, foldCase } = literals[k]!;
        bytes.writeUInt32LE(((k << 24) | (foldCase ? 1 << 23 : 0) | (text.length << 16) | unitAt) >>> 0, 128 + 32 + 4 * at++);
        bytes.write(text, pool + 2 * unitAt, 'utf16le');
        unitAt += text.length;
      }
    });
  }

  scan(window: string): PrefilterResult {
    const n = window.length;
    const cap = (n >> 1) + 1;
    const out = align(this.#text + 2 * n + PADDING, 16);
    const work = align(out + 3 * cap * 4, 16);
    const bytes = this.#kernel.reserve(work + 16);
    this.#kernel.put(bytes, window, this.#text);
    this.#kernel.exports.scan(this.#text, n, 0, 128, 128 + 32 + 4 * MAX_LITERALS, out, cap, work, this.#result);
    const result = new Uint32Array(bytes.buffer, bytes.byteOffset + this.#result, 6);
    const literals: number[] = [];
    for (let word = 0; word < 2; word++) for (let bits = result[4 + word]!, bit = 0; bits !== 0; bits >>>= 1, bit++) if (bits & 1) literals.push(32 * word + bit);
    const list = (k: number) => new Uint32Array(bytes.buffer, bytes.byteOffset + out + 4 * k * cap, result[k]!);
    return { literals, firstAt: new Uint32Array(bytes.buffer, bytes.byteOffset + this.#result + 32, MAX_LITERALS), positions: { 'card-start': list(0), 'ssn-core': list(1), capitals: list(2) } };
  }
}

const align = (n: number, to: number) => Math.ceil(n / to) * to;

/**
 * The kernel of alphabetRuns (one per thread: each call is synchronous). Its memory starts with
 * the judge's tables: the base64 digit values (128 bytes, 0xff for no digit), the bytes a file the
 * scan opens may start with (256), 48 bytes where a run's head is decoded; the text follows.
 */
let runsKernel: { kernel: Kernel; firstBytes: Uint8Array | undefined } | undefined;
const DIGIT_VALUES_AT = 16;
const FIRST_BYTES_AT = DIGIT_VALUES_AT + 128;
const RUNS_TEXT_AT = FIRST_BYTES_AT + 256 + 48;

/** Base64 and base64url digit values (RFC 4648 §4, §5), 0xff for everything else. */
export const BASE64_DIGIT_VALUES = new Uint8Array(128).fill(0xff);
[...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'].forEach((c, i) => (BASE64_DIGIT_VALUES[c.charCodeAt(0)] = i));
BASE64_DIGIT_VALUES[0x2d] = 62;
BASE64_DIGIT_VALUES[0x5f] = 63;

/** What the run finder needs to leave out the runs no closer look would open. */
export interface RunJudge {
  /** 256 entries, nonzero for a byte a file the scan opens (a magic number) may start with */
  readonly firstBytes: Uint8Array;
}

/** The runs kernel's memory of at least `size` bytes, with `judge`'s tables in place. */
function runsMemory(size: number, judge: RunJudge | undefined): { kernel: Kernel; bytes: Buffer } {
  runsKernel ??= { kernel: new Kernel(), firstBytes: undefined };
  const { kernel } = runsKernel;
  const bytes = kernel.reserve(size);
  if (judge !== undefined && runsKernel.firstBytes !== judge.firstBytes) {
    bytes.set(BASE64_DIGIT_VALUES, DIGIT_VALUES_AT);
    bytes.set(judge.firstBytes.subarray(0, 256), FIRST_BYTES_AT);
    runsKernel.firstBytes = judge.firstBytes;
  }
  return { kernel, bytes };
}

/**
 * The maximal runs of at least `minRun` (1 to 64) characters of the base64 alphabet (A-Z a-z 0-9 +
 * / - _) in `text`, as start, end pairs in one flat list (valid until the next call): the base64
 * spotter's candidates, found sixteen units per step. With `judge`, a run that ends before the
 * text does is left out when plainRun says so.
 */
export function alphabetRuns(text: string, minRun: number, judge?: RunJudge): Uint32Array {
  if (!(minRun >= 1 && minRun <= 64)) throw new RangeError(`alphabet runs: a minimum run of ${minRun} (1 to 64)`);
  const n = text.length;
  const out = align(RUNS_TEXT_AT + 2 * n + PADDING, 16);
  const { kernel, bytes } = runsMemory(out + 8 * (Math.floor(n / (minRun + 1)) + 1), judge);
  kernel.put(bytes, text, RUNS_TEXT_AT);
  const pairs = kernel.exports.alphabetRuns(RUNS_TEXT_AT, n, minRun, out, judge === undefined ? 0 : DIGIT_VALUES_AT);
  return new Uint32Array(bytes.buffer, bytes.byteOffset + out, 2 * pairs);
}

/** Characters of a run its judge reads (text-prefilter.as.ts DECIDE_UNITS). */
export const JUDGED_CHARS = 64;

/**
 * True when the run `text`[start, end) of the base64 alphabet is surely not worth opening from its
 * first 64 characters: hex digits in one case that do not read as text in hex (a hash, an id), or bytes that no magic number
 * starts and that are neither wide text, nor a PDF header, nor text (text-prefilter.as.ts has
 * each test).
 */
export function plainRun(text: string, start: number, end: number, judge: RunJudge): boolean {
  const head = text.slice(start, Math.min(end, start + JUDGED_CHARS));
  const { kernel, bytes } = runsMemory(RUNS_TEXT_AT + 2 * JUDGED_CHARS + PADDING, judge);
  kernel.put(bytes, head, RUNS_TEXT_AT);
  return kernel.exports.plainRun(RUNS_TEXT_AT, 0, head.length, DIGIT_VALUES_AT) !== 0;
}

/**
 * Teddy's tables: the literals in at most eight buckets, grouped by first character (the smallest
 * groups merged, into one with the same high nibble where there is one, so that each bucket's
 * nibble tables stay narrow), and per bucket and byte 0-2 the nibbles its literals have there (a
 * literal shorter than three bytes allows anything past its end; a folded letter, both cases).
 */
function teddyTables(literals: ReadonlyArray<{ text: string; foldCase: boolean }>): { nibbles: Uint8Array; buckets: number[][] } {
  const groups = new Map<string, number[]>();
  literals.forEach(({ text }, k) => groups.set(text[0]!, [...(groups.get(text[0]!) ?? []), k]));
  const buckets = [...groups.values()];
  while (buckets.length > BUCKETS) {
    buckets.sort((a, b) => a.length - b.length);
    const smallest = buckets.shift()!;
    const high = literals[smallest[0]!]!.text.charCodeAt(0) >> 4;
    const near = buckets.find((g) => literals[g[0]!]!.text.charCodeAt(0) >> 4 === high) ?? buckets[0]!;
    near.push(...smallest);
  }
  const nibbles = new Uint8Array(96);
  buckets.forEach((bucket, b) => {
    for (const k of bucket) {
      const { text, foldCase } = literals[k]!;
      for (let at = 0; at < 3; at++) {
        const table = 32 * at;
        if (at >= text.length) {
          for (let x = 0; x < 32; x++) nibbles[table + x]! |= 1 << b;
          continue;
        }
        const c = text.charCodeAt(at);
        const cases = foldCase && c >= 0x61 && c <= 0x7a ? [c, c - 0x20] : [c];
        for (const unit of cases) {
          nibbles[table + (unit & 15)]! |= 1 << b;
          nibbles[table + 16 + (unit >> 4)]! |= 1 << b;
        }
      }
    }
  });
  return { nibbles, buckets };
}
