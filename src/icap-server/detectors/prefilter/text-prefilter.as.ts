// AssemblyScript with 128-bit SIMD, compiled to WebAssembly by `npm run build:wasm` into
// text-prefilter-wasm.ts (tsc does not read this file). One pass over a window of UTF-16 code
// units finds where the built-in text detectors can match; text-prefilter.ts has the contract and
// writes the tables. Sixteen units at a time are narrowed to bytes (a unit over 255 saturates to
// 255 or 0: no ASCII character, so every class below stays exact) and classified; the classes of
// 64 units make one 64-bit mask each, and the anchors are whole-mask arithmetic on them (with the
// next 64 units' masks for what a match reads past the chunk), so a chunk costs the same whatever
// it holds:
//   - trigger literals (Teddy, the literal prefilter of Hyperscan and Rust's regex): per bucket of
//     literals, nibble tables of their first three bytes say where one may start; each such place
//     is compared with the bucket's literals in full (ignoring ASCII case for a folded literal);
//   - card starts: a digit at a word start (the unit before is not [A-Za-z0-9_], as `\b` reads it
//     without the u flag) whose run is exactly 4 then a separator (blank, dash, or the plus sign a
//     URL query writes for a space) and a digit, or whose run of
//     13 to 19 digits, not followed by a letter or `_`, passes the Luhn check (the card pattern's
//     two shapes; a contiguous match is the whole run, and a card is Luhn-valid, so the ids, order
//     numbers and millisecond timestamps that fail it are never handed to the pattern);
//   - SSN cores: `ddd S dd S dddd`, S one blank or dash (or plus) twice (the SSN pattern's fixed part,
//     wherever it stands: the check decides about the word around it);
//   - two capitals A-Z at a word start (where IBANs, NINOs and VAT ids begin).

@inline function unit(text: usize, i: i32): u32 {
  return <u32>load<u16>(text + (<usize>i << 1));
}

/** Sixteen units from index i as bytes (unsigned saturation). */
@inline function bytes16(text: usize, i: i32): v128 {
  const p = text + (<usize>i << 1);
  return i8x16.narrow_i16x8_u(v128.load(p), v128.load(p, 16));
}

/** Per byte, the buckets whose literals may have this byte here: low-nibble table AND high-nibble table. */
@inline function nibbles(table: usize, b: v128): v128 {
  const lo = v128.and(b, i8x16.splat(0x0f));
  const hi = i8x16.shr_u(b, 4);
  return v128.and(i8x16.swizzle(v128.load(table), lo), i8x16.swizzle(v128.load(table, 16), hi));
}

@inline function inRange(b: v128, from: i8, count: i8): v128 {
  return i8x16.lt_u(i8x16.sub(b, i8x16.splat(from)), i8x16.splat(count));
}

/** The bits of lanes matching `v`, placed at block `q` of a 64-unit chunk. */
@inline function bits(v: v128, valid: u32, q: i32): u64 {
  return <u64>(<u32>i8x16.bitmask(v) & valid) << (<u64>q << 4);
}

/** Bit p of the result is bit p + k of the 128 bits `hi:lo` (0 < k < 64). */
@inline function shr(lo: u64, hi: u64, k: u64): u64 {
  return (lo >> k) | (hi << (64 - k));
}

/** The units of the 16-unit block at `at` that lie before `n`, as a lane mask. */
@inline function validLanes(at: i32, n: i32): u32 {
  return n - at >= 16 ? 0xffff : (<u32>1 << <u32>(n - at)) - 1;
}

// The three position lists: where each starts and how many it holds.
let cardsOut: usize = 0;
let ssnOut: usize = 0;
let capsOut: usize = 0;
let cards: i32 = 0;
let ssns: i32 = 0;
let caps: i32 = 0;

/** A word unit as `\b` reads it without the u flag: [A-Za-z0-9_]. */
@inline function isWordUnit(c: u32): bool {
  return c - 48 < 10 || (c | 32) - 97 < 26 || c == 95;
}

/**
 * The run of digits at `at` (13 or more long) is a card candidate: at most 19 digits, no letter or
 * `_` after it, and Luhn-valid (ISO/IEC 7812-1 annex B).
 */
function luhnRun(text: usize, at: i32, n: i32): bool {
  let end = at;
  while (end < n && end - at < 20 && unit(text, end) - 48 < 10) end++;
  if (end - at > 19 || (end < n && isWordUnit(unit(text, end)))) return false;
  let sum: u32 = 0;
  let double = false;
  for (let i = end - 1; i >= at; i--) {
    let d = unit(text, i) - 48;
    if (double) {
      d <<= 1;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 == 0;
}

/** Appends `base` + each set bit's index to the list at `list`, which holds `count`; returns the new count. */
@inline function emit(list: usize, count: i32, base: i32, set: u64): i32 {
  while (set != 0) {
    store<u32>(list + (<usize>count << 2), base + <i32>ctz(set));
    count++;
    set &= set - 1;
  }
  return count;
}

/**
 * The anchors among the 64 units at `i` (of `n` at `text`), from their classes (digits D, capitals U, word units W,
 * blanks B, dashes and plus signs H), the next 64 units' classes (suffix 1) and whether the unit before `i` is a
 * word unit.
 */
@inline function anchors(text: usize, n: i32, i: i32, D: u64, U: u64, W: u64, B: u64, H: u64, D1: u64, U1: u64, B1: u64, H1: u64, wordBefore: u64): void {
  const wordStart = ~((W << 1) | wordBefore);
  // dN: bit p set when units p .. p+N-1 are all digits
  const d2 = D & shr(D, D1, 1);
  const d2n = D1 & (D1 >> 1);
  const d3 = d2 & shr(D, D1, 2);
  const d4 = d2 & shr(d2, d2n, 2);
  const d4n = d2n & (d2n >> 2);
  const d8 = d4 & shr(d4, d4n, 4);
  const d8n = d4n & (d4n >> 4);
  const d13 = d8 & shr(d8, d8n, 5);
  const grouped = d4 & shr(B | H, B1 | H1, 4) & shr(D, D1, 5);
  let starts = D & wordStart & (d13 | grouped);
  while (starts != 0) {
    const bit = ctz(starts);
    const at = i + <i32>bit;
    starts &= starts - 1;
    if (((grouped >> bit) & 1) != 0 || luhnRun(text, at, n)) {
      store<u32>(cardsOut + (<usize>cards << 2), at);
      cards++;
    }
  }
  const sameSeparator = (shr(B, B1, 3) & shr(B, B1, 6)) | (shr(H, H1, 3) & shr(H, H1, 6));
  ssns = emit(ssnOut, ssns, i, d3 & sameSeparator & shr(d2, d2n, 4) & shr(d4, d4n, 7));
  caps = emit(capsOut, caps, i, U & shr(U, U1, 1) & wordStart);
}

/**
 * Scan `n` units at `text` (followed by at least 36 bytes of padding).
 * `teddy`: three pairs of 16-byte nibble tables (low, high) for the literals' bytes 0, 1 and 2.
 * `lits`: per bucket a u32 (first literal << 16 | count), then from lits + 32 the literals of the
 * buckets in order, each a u32 (bit index << 24 | folded << 23 | length << 16 | start in `pool`,
 * u16 units; a folded literal is stored in lower case and compared ignoring ASCII case).
 * Output: up to `cap` positions (u32) each at `out` (cards), after it (SSN cores), after that
 * (capitals); `work` is 16 bytes of scratch; `result` gets the three counts and, at result + 16,
 * the u64 of the literals seen, and from result + 32 a u32 per literal (by its bit index): where it
 * is first seen (left as it was for a literal not seen).
 */
export function scan(text: usize, n: i32, teddy: usize, lits: usize, pool: usize, out: usize, cap: i32, work: usize, result: usize): void {
  cardsOut = out;
  ssnOut = out + (<usize>cap << 2);
  capsOut = ssnOut + (<usize>cap << 2);
  cards = 0;
  ssns = 0;
  caps = 0;
  let seen: u64 = 0;
  // the previous chunk's classes, whose anchors wait for this chunk's
  let pD: u64 = 0;
  let pU: u64 = 0;
  let pW: u64 = 0;
  let pB: u64 = 0;
  let pH: u64 = 0;
  let wordBefore: u64 = 0;
  for (let i: i32 = 0; i < n; i += 64) {
    let D: u64 = 0;
    let U: u64 = 0;
    let W: u64 = 0;
    let B: u64 = 0;
    let H: u64 = 0;
    for (let q: i32 = 0; q < 4; q++) {
      const at = i + (q << 4);
      if (at >= n) break;
      const valid = validLanes(at, n);
      const b0 = bytes16(text, at);
      const digit = inRange(b0, 48, 10);
      const upper = inRange(b0, 65, 26);
      D |= bits(digit, valid, q);
      U |= bits(upper, valid, q);
      W |= bits(v128.or(v128.or(digit, upper), v128.or(inRange(b0, 97, 26), i8x16.eq(b0, i8x16.splat(95)))), valid, q);
      B |= bits(i8x16.eq(b0, i8x16.splat(32)), valid, q);
      H |= bits(v128.or(i8x16.eq(b0, i8x16.splat(45)), i8x16.eq(b0, i8x16.splat(43))), valid, q);
      const t = v128.and(v128.and(nibbles(teddy, b0), nibbles(teddy + 32, bytes16(text, at + 1))), nibbles(teddy + 64, bytes16(text, at + 2)));
      let candidates = <u32>i8x16.bitmask(i8x16.ne(t, i8x16.splat(0))) & valid;
      if (candidates == 0) continue;
      v128.store(work, t);
      while (candidates != 0) {
        const j = <i32>ctz(candidates);
        candidates &= candidates - 1;
        let buckets = <u32>load<u8>(work + <usize>j);
        const from = at + j;
        while (buckets != 0) {
          const range = load<u32>(lits + (<usize>ctz(buckets) << 2));
          buckets &= buckets - 1;
          const first = <i32>(range >>> 16);
          const last = first + <i32>(range & 0xffff);
          for (let k = first; k < last; k++) {
            const d = load<u32>(lits + 32 + (<usize>k << 2));
            const length = <i32>((d >>> 16) & 0x7f);
            if (from + length > n) continue;
            const folded = (d & 0x800000) != 0;
            const start = <i32>(d & 0xffff);
            let same = true;
            for (let m: i32 = 0; m < length; m++) {
              let u = unit(text, from + m);
              if (folded && u - 65 < 26) u |= 32;
              if (u != <u32>load<u16>(pool + (<usize>(start + m) << 1))) {
                same = false;
                break;
              }
            }
            if (!same) continue;
            const bit = <u64>1 << <u64>(d >>> 24);
            // Candidates come in increasing order: the first place a literal is seen is its first.
            if ((seen & bit) == 0) store<u32>(result + 32 + (<usize>(d >>> 24) << 2), from);
            seen |= bit;
          }
        }
      }
    }
    if (i > 0) {
      // every anchor starts with a digit or a capital
      if ((pD | pU) != 0) anchors(text, n, i - 64, pD, pU, pW, pB, pH, D, U, B, H, wordBefore);
      wordBefore = pW >> 63;
    }
    pD = D;
    pU = U;
    pW = W;
    pB = B;
    pH = H;
  }
  if ((pD | pU) != 0) anchors(text, n, (n - 1) & ~63, pD, pU, pW, pB, pH, 0, 0, 0, 0, wordBefore);
  store<u32>(result, cards);
  store<u32>(result, ssns, 4);
  store<u32>(result, caps, 8);
  store<u64>(result, seen, 16);
}

/** Bit p set when bits p .. p+run-1 of `m` are all set (1 <= run <= 64); runs are not continued past bit 63. */
@inline function runsOfAtLeast(m: u64, run: i32): u64 {
  let covered: i32 = 1;
  while (covered << 1 <= run) {
    m &= m >> <u64>covered;
    covered <<= 1;
  }
  if (covered < run) m &= m >> <u64>(run - covered);
  return m;
}

/** Characters of a run decoded to judge it (48 bytes): the base64 spotter's DECIDE_CHARS. */
const DECIDE_UNITS: i32 = 64;

/** The run's first DECIDE_UNITS units are hex digits in one case (or digits only): a hash, an id. */
function hexOnly(text: usize, start: i32, end: i32): bool {
  const stop = min(end, start + DECIDE_UNITS);
  let notLower: u32 = 0;
  let notUpper: u32 = 0;
  for (let at = start; at < stop; at += 16) {
    const b = bytes16(text, at);
    const valid = validLanes(at, stop);
    const digit = inRange(b, 48, 10);
    notLower |= ~(<u32>i8x16.bitmask(v128.or(digit, inRange(b, 97, 6)))) & valid;
    notUpper |= ~(<u32>i8x16.bitmask(v128.or(digit, inRange(b, 65, 6)))) & valid;
  }
  return notLower == 0 || notUpper == 0;
}

/**
 * The run's first DECIDE_UNITS units (hex digits, hexOnly said so) read as hex read as text: every
 * byte printable ASCII, a tab or a line end. Text hex-encoded to pass a filter is opened; a hash
 * or an id (random bytes) is not: all of 12 random bytes are printable once in 10^5.
 */
function hexText(text: usize, start: i32, end: i32): bool {
  const stop = min(end, start + DECIDE_UNITS);
  for (let i = start; i + 1 < stop; i += 2) {
    const hi = unit(text, i);
    const lo = unit(text, i + 1);
    const b = (((hi <= 57 ? hi - 48 : (hi | 32) - 87) << 4) | (lo <= 57 ? lo - 48 : (lo | 32) - 87)) & 0xff;
    if (b < 0x20 ? b != 0x09 && b != 0x0a && b != 0x0d : b >= 0x7f) return false;
  }
  return true;
}

/**
 * True for random bytes (images, tokens, ciphertext) from one look at each of those the run's
 * first DECIDE_UNITS units stand for (decoded at `judge` + 384 with the digit values at `judge`;
 * `judge` + 128 holds, per byte, whether a file the scan opens may start with it): no magic number
 * can start them, they hold too few NULs for UTF-16 or UTF-32 (two or three of four lanes 90 %
 * NUL, as sniff.ts reads wide text) and no "%P" for a PDF header, and they are not text (a control
 * character in more than 5 % of them, or a byte no UTF-8 sequence allows there).
 */
function surelyNothing(text: usize, start: i32, end: i32, judge: usize): bool {
  const head = judge + 384;
  const stop = min(end, start + DECIDE_UNITS);
  let n: i32 = 0;
  let bits: u32 = 0;
  let acc: u32 = 0;
  for (let i = start; i < stop; i++) {
    const c = unit(text, i);
    const v = c < 128 ? <u32>load<u8>(judge + c) : 0xff;
    if (v == 0xff) break;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      store<u8>(head + n, (acc >> bits) & 0xff);
      n++;
    }
  }
  if (n == 0 || load<u8>(judge + 128 + <usize>load<u8>(head)) != 0) return false;
  // NULs, "%P" and control characters sixteen bytes at a time (the bytes past n, left by an
  // earlier run, are masked off; the byte after each lane is read for the P).
  let zeros: i32 = 0;
  let controls: i32 = 0;
  for (let at: i32 = 0; at < n; at += 16) {
    const b = v128.load(head + <usize>at);
    const valid = validLanes(at, n);
    zeros += <i32>popcnt(<u32>i8x16.bitmask(i8x16.eq(b, i8x16.splat(0))) & valid);
    if ((<u32>i8x16.bitmask(i8x16.eq(b, i8x16.splat(0x25))) & <u32>i8x16.bitmask(i8x16.eq(v128.load(head + <usize>at, 1), i8x16.splat(0x50))) & validLanes(at + 1, n)) != 0) return false;
    const blank = v128.or(v128.or(i8x16.eq(b, i8x16.splat(0x09)), i8x16.eq(b, i8x16.splat(0x0a))), i8x16.eq(b, i8x16.splat(0x0d)));
    const control = v128.or(v128.andnot(i8x16.lt_u(b, i8x16.splat(0x20)), blank), i8x16.eq(b, i8x16.splat(0x7f)));
    controls += <i32>popcnt(<u32>i8x16.bitmask(control) & valid);
  }
  if (<f64>zeros >= (<f64>((n & ~3) >> 2)) * 0.9 * 2) return false;
  if (<f64>controls > <f64>n * 0.05) return true;
  // Few control characters (text, or nearly): a byte no UTF-8 sequence allows there decides.
  let pending: i32 = 0;
  for (let i: i32 = 0; i < n; i++) {
    const b = <u32>load<u8>(head + i);
    if (pending > 0) {
      if (b >= 0x80 && b < 0xc0) pending--;
      else return true;
    } else if (b >= 0x80) {
      if (b >= 0xc2 && b < 0xe0) pending = 1;
      else if (b >= 0xe0 && b < 0xf0) pending = 2;
      else if (b >= 0xf0 && b < 0xf5) pending = 3;
      else return true;
    }
  }
  return false;
}

/**
 * True when the run of base64 alphabet units at [start, end) is surely not worth opening from its
 * first DECIDE_UNITS units: hex digits in one case (a hash, an id: their base64 reading has no
 * digit, capital or magic number at the first of every three bytes) that do not read as text in
 * hex, or bytes surelyNothing turns away. The base64 spotter's judge, for the runs alphabetRuns
 * does not judge itself.
 */
export function plainRun(text: usize, start: i32, end: i32, judge: usize): bool {
  return hexOnly(text, start, end) ? !hexText(text, start, end) : surelyNothing(text, start, end, judge);
}

/** The run [start, end) is listed: long enough, and ending at `n` (it may go on) or not judged plain. */
@inline function kept(text: usize, n: i32, start: i32, end: i32, minRun: i32, judge: usize): bool {
  return end - start >= minRun && (judge == 0 || end == n || !plainRun(text, start, end, judge));
}

/** Appends the run [start, end) to the `pairs` runs at `out`; returns the new count. */
@inline function pair(out: usize, pairs: i32, start: i32, end: i32): i32 {
  store<u32>(out + (<usize>pairs << 3), start);
  store<u32>(out + (<usize>pairs << 3), end, 4);
  return pairs + 1;
}

/**
 * The maximal runs of at least `minRun` (at most 64) units of the base64 alphabet [A-Za-z0-9+/_-]
 * among `n` units at `text` (padded as for scan), as start, end pairs (u32) at `out`; returns how
 * many. Sixteen units per step, sixty-four per decision: a chunk wholly inside a run, or with no
 * long run and none reaching its end (ordinary words), costs a few operations on one mask.
 * With `judge` (tables as for surelyNothing; 0 for none), a run that ends before `n` is left out
 * when its head is hex digits or surely nothing the scan would open.
 */
export function alphabetRuns(text: usize, n: i32, minRun: i32, out: usize, judge: usize): i32 {
  let pairs: i32 = 0;
  /** where the open run began; -1 outside a run */
  let start: i32 = -1;
  for (let i: i32 = 0; i < n; i += 64) {
    let m: u64 = 0;
    for (let q: i32 = 0; q < 4; q++) {
      const at = i + (q << 4);
      if (at >= n) break;
      const b = bytes16(text, at);
      const letters = v128.or(inRange(b, 65, 26), inRange(b, 97, 26));
      const others = v128.or(v128.or(i8x16.eq(b, i8x16.splat(43)), i8x16.eq(b, i8x16.splat(47))), v128.or(i8x16.eq(b, i8x16.splat(45)), i8x16.eq(b, i8x16.splat(95))));
      m |= bits(v128.or(v128.or(letters, inRange(b, 48, 10)), others), validLanes(at, n), q);
    }
    let pos: u64 = 0;
    if (start >= 0) {
      if (m == ~(<u64>0)) continue;
      // the run open from the chunk before ends here
      pos = ctz(~m);
      const end = i + <i32>pos;
      if (kept(text, n, start, end, minRun, judge)) pairs = pair(out, pairs, start, end);
      start = -1;
    }
    // The rest of the chunk: with no long run in it (ordinary words), only a run reaching its
    // end matters, which may go on in the next chunk.
    const rest = (m >> pos) << pos;
    if (rest == 0) continue;
    if (runsOfAtLeast(rest, minRun) == 0) {
      if (rest >> 63 != 0) start = i + 64 - <i32>clz(~rest);
      continue;
    }
    while (pos < 64) {
      if (start < 0) {
        const ahead = m >> pos;
        if (ahead == 0) break;
        pos += ctz(ahead);
        start = i + <i32>pos;
      } else {
        const ahead = ~m >> pos;
        if (ahead == 0) break;
        pos += ctz(ahead);
        const end = i + <i32>pos;
        if (kept(text, n, start, end, minRun, judge)) pairs = pair(out, pairs, start, end);
        start = -1;
      }
    }
  }
  if (start >= 0 && n - start >= minRun) pairs = pair(out, pairs, start, n);
  return pairs;
}
