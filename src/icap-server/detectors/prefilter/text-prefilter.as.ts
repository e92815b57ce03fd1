// AssemblyScript with 128-bit SIMD, compiled to WebAssembly by `npm run build:wasm` into
// text-prefilter-wasm.ts (tsc does not read this file). One pass over a window of UTF-16 code
// units finds where the built-in text detectors can match; text-prefilter.ts has the contract and
// writes the tables. Sixteen units at a time, narrowed to bytes (a unit over 255 saturates to 255
// or 0: no ASCII character, so every class below stays exact):
//   - trigger literals (Teddy, the literal prefilter of Hyperscan and Rust's regex): per bucket of
//     literals, nibble tables of their first three bytes say where one may start; each such place
//     is compared with the bucket's literals in full;
//   - card starts: a digit at a word start (the unit before is not [A-Za-z0-9_], as `\b` reads it
//     without the u flag) whose run is 13 digits or more, or exactly 4 then a blank or a dash and a
//     digit (the card pattern's two shapes);
//   - SSN cores: `ddd S dd S dddd`, S one blank or dash twice (the SSN pattern's fixed part,
//     wherever it stands: the check decides about the word around it);
//   - two capitals A-Z at a word start (where IBANs, NINOs and VAT ids begin).
// Pass 1 is straight vector code writing a record for each block of 16 with anything in it;
// pass 2 reads the records in order, so every list comes out in increasing positions.

@inline function unit(text: usize, i: i32): u32 {
  return <u32>load<u16>(text + (<usize>i << 1));
}

@inline function isDigit(c: u32): bool {
  return c - 48 < 10;
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

/**
 * Scan `n` units at `text` (followed by at least 36 bytes of padding).
 * `teddy`: three pairs of 16-byte nibble tables (low, high) for the literals' bytes 0, 1 and 2.
 * `lits`: per bucket a u32 (first literal << 16 | count), then from lits + 32 the literals of the
 * buckets in order, each a u32 (bit index << 24 | length << 16 | start in `pool`, u16 units).
 * Output: up to `cap` positions (u32) each at `out` (cards), after it (SSN cores), after that
 * (capitals); `work` holds 32 bytes per 16 units; `result` gets the three counts and, at
 * result + 16, the u64 of the literals seen.
 */
export function scan(text: usize, n: i32, teddy: usize, lits: usize, pool: usize, out: usize, cap: i32, work: usize, result: usize): void {
  const ssnOut = out + (<usize>cap << 2);
  const capsOut = ssnOut + (<usize>cap << 2);
  let records: i32 = 0;
  let carryWord: u32 = 0;
  let carryDigit: u32 = 0;
  for (let i: i32 = 0; i < n; i += 16) {
    const valid: u32 = n - i >= 16 ? 0xffff : (<u32>1 << <u32>(n - i)) - 1;
    const b0 = bytes16(text, i);
    const b1 = bytes16(text, i + 1);
    const b2 = bytes16(text, i + 2);
    const t = v128.and(v128.and(nibbles(teddy, b0), nibbles(teddy + 32, b1)), nibbles(teddy + 64, b2));
    const candidates = <u32>i8x16.bitmask(i8x16.ne(t, i8x16.splat(0))) & valid;
    const digit = inRange(b0, 48, 10);
    const upper = inRange(b0, 65, 26);
    const word = v128.or(v128.or(digit, upper), v128.or(inRange(b0, 97, 26), i8x16.eq(b0, i8x16.splat(95))));
    const sep = v128.or(i8x16.eq(b0, i8x16.splat(32)), i8x16.eq(b0, i8x16.splat(45)));
    const digits = <u32>i8x16.bitmask(digit);
    const words = <u32>i8x16.bitmask(word);
    const afterWord = ((words << 1) | carryWord) & 0xffff;
    const afterDigit = ((digits << 1) | carryDigit) & 0xffff;
    carryWord = words >> 15;
    carryDigit = digits >> 15;
    const starts = digits & ~afterWord & valid;
    const capitals = <u32>i8x16.bitmask(upper) & ~afterWord & <u32>i8x16.bitmask(inRange(b1, 65, 26)) & valid;
    const seps = <u32>i8x16.bitmask(sep) & afterDigit & valid;
    const record = work + (<usize>records << 5);
    v128.store(record, t);
    store<u32>(record, i, 16);
    store<u32>(record, candidates | (starts << 16), 20);
    store<u32>(record, capitals | (seps << 16), 24);
    records += <i32>((candidates | starts | capitals | seps) != 0);
  }
  let cards: i32 = 0;
  let ssns: i32 = 0;
  let caps: i32 = 0;
  let seen: u64 = 0;
  for (let r: i32 = 0; r < records; r++) {
    const record = work + (<usize>r << 5);
    const i = load<i32>(record, 16);
    let candidates = load<u32>(record, 20) & 0xffff;
    let starts = load<u32>(record, 20) >>> 16;
    let capitals = load<u32>(record, 24) & 0xffff;
    let seps = load<u32>(record, 24) >>> 16;
    while (candidates != 0) {
      const j = <i32>ctz(candidates);
      candidates &= candidates - 1;
      let buckets = <u32>load<u8>(record + <usize>j);
      const at = i + j;
      while (buckets != 0) {
        const range = load<u32>(lits + (<usize>ctz(buckets) << 2));
        buckets &= buckets - 1;
        const first = <i32>(range >>> 16);
        const last = first + <i32>(range & 0xffff);
        for (let k = first; k < last; k++) {
          const d = load<u32>(lits + 32 + (<usize>k << 2));
          const length = <i32>((d >>> 16) & 0xff);
          if (at + length > n) continue;
          const start = <i32>(d & 0xffff);
          let same = true;
          for (let m: i32 = 0; m < length; m++) {
            if (unit(text, at + m) != <u32>load<u16>(pool + (<usize>(start + m) << 1))) {
              same = false;
              break;
            }
          }
          if (same) seen |= <u64>1 << <u64>(d >>> 24);
        }
      }
    }
    while (starts != 0) {
      const at = i + <i32>ctz(starts);
      starts &= starts - 1;
      let j = at + 1;
      while (j < n && isDigit(unit(text, j))) j++;
      const run = j - at;
      if (run >= 13 || (run == 4 && j + 1 < n && (unit(text, j) == 32 || unit(text, j) == 45) && isDigit(unit(text, j + 1)))) {
        store<u32>(out + (<usize>cards << 2), at);
        cards++;
      }
    }
    while (capitals != 0) {
      const at = i + <i32>ctz(capitals);
      capitals &= capitals - 1;
      store<u32>(capsOut + (<usize>caps << 2), at);
      caps++;
    }
    while (seps != 0) {
      const s = i + <i32>ctz(seps);
      seps &= seps - 1;
      const c = unit(text, s);
      if (s >= 3 && s + 7 < n && isDigit(unit(text, s - 3)) && isDigit(unit(text, s - 2)) && isDigit(unit(text, s + 1)) && isDigit(unit(text, s + 2)) && unit(text, s + 3) == c && isDigit(unit(text, s + 4)) && isDigit(unit(text, s + 5)) && isDigit(unit(text, s + 6)) && isDigit(unit(text, s + 7))) {
        store<u32>(ssnOut + (<usize>ssns << 2), s - 3);
        ssns++;
      }
    }
  }
  store<u32>(result, cards);
  store<u32>(result, ssns, 4);
  store<u32>(result, caps, 8);
  store<u64>(result, seen, 16);
}

/**
 * The maximal runs of at least `minRun` units of the base64 alphabet [A-Za-z0-9+/_-] among `n`
 * units at `text` (padded as for scan), as start, end pairs (u32) at `out`; returns how many.
 * Sixteen units per step: a block wholly inside a run or wholly outside one costs one compare.
 */
export function alphabetRuns(text: usize, n: i32, minRun: i32, out: usize): i32 {
  let pairs: i32 = 0;
  /** where the open run began; -1 outside a run */
  let start: i32 = -1;
  for (let i: i32 = 0; i < n; i += 16) {
    const valid: u32 = n - i >= 16 ? 0xffff : (<u32>1 << <u32>(n - i)) - 1;
    const b = bytes16(text, i);
    const letters = v128.or(inRange(b, 65, 26), inRange(b, 97, 26));
    const others = v128.or(v128.or(i8x16.eq(b, i8x16.splat(43)), i8x16.eq(b, i8x16.splat(47))), v128.or(i8x16.eq(b, i8x16.splat(45)), i8x16.eq(b, i8x16.splat(95))));
    const alphabet = <u32>i8x16.bitmask(v128.or(v128.or(letters, inRange(b, 48, 10)), others)) & valid;
    if (start >= 0 ? alphabet == 0xffff : alphabet == 0) continue;
    let pos: u32 = 0;
    while (pos < 16) {
      if (start < 0) {
        const rest = alphabet >> pos;
        if (rest == 0) break;
        pos += ctz(rest);
        start = i + <i32>pos;
      } else {
        const rest = (~alphabet & 0xffff) >> pos;
        if (rest == 0) break;
        pos += ctz(rest);
        const end = i + <i32>pos;
        if (end - start >= minRun) {
          store<u32>(out + (<usize>pairs << 3), start);
          store<u32>(out + (<usize>pairs << 3), end, 4);
          pairs++;
        }
        start = -1;
      }
    }
  }
  if (start >= 0 && n - start >= minRun) {
    store<u32>(out + (<usize>pairs << 3), start);
    store<u32>(out + (<usize>pairs << 3), n, 4);
    pairs++;
  }
  return pairs;
}
