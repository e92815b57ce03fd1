// AssemblyScript (part of the pdf-content-tokens.as.ts kernel): a content stream's bytes, the
// classes of its bytes (§7.2.2 white space, §7.2.3 delimiters), its numbers (§7.3.3) and strings
// (§7.3.4.2 literal, §7.3.4.3 hex) decoded to their byte codes, as numberAt, readLiteralString,
// readLiteralPart and readHexString of pdf-content-strings.ts read them.

// The input.
export let input: usize = 0;
export let n: i32 = 0;

export function setInput(address: usize, length: i32): void {
  input = address;
  n = length;
}

/** The byte at `i` (the caller puts 16 zero bytes after the input). */
@inline export function at(i: i32): u32 {
  return <u32>load<u8>(input + <usize>i);
}


/** A hex digit's value, or -1. */
@inline function hexValue(c: u32): i32 {
  if (c - 0x30 < 10) return <i32>(c - 0x30);
  const lower = c | 0x20;
  return lower - 0x61 < 6 ? <i32>(lower - 0x61 + 10) : -1;
}

// What the string readers leave: where the string ended (after its closing byte), and the codes written.
export let stringEnd: i32 = 0;
export let decoded: i32 = 0;

/** The hex string from `from` (after its `<`) decoded to `out` (readHexString): false when the input ends first. */
export function hexString(from: i32, out: usize): bool {
  let high: i32 = -1;
  let w: i32 = 0;
  let i = from;
  // Sixteen bytes a step (the caller's 16 zero bytes after the input end any run): while they are
  // all digits, eight codes; when the digits stop at the closing `>` after an even count of them,
  // the codes they make, and the string is over. Anything else (white space, an odd count, a cut)
  // is read a byte at a time from the step's start.
  while (i < n) {
    const v = v128.load(input + <usize>i);
    const digit = i8x16.sub(v, i8x16.splat(0x30));
    const letter = i8x16.sub(v128.or(v, i8x16.splat(0x20)), i8x16.splat(0x61));
    const isDigit = i8x16.lt_u(digit, i8x16.splat(10));
    const isLetter = i8x16.lt_u(letter, i8x16.splat(6));
    const digits = i8x16.bitmask(v128.or(isDigit, isLetter));
    const nibbles = v128.bitselect(digit, i8x16.add(letter, i8x16.splat(10)), isDigit);
    // Each pair of nibbles, first and second digit, as one u16 lane: (first << 4) | second.
    const pairs = v128.or(i16x8.shl(v128.and(nibbles, i16x8.splat(0xff)), 4), i16x8.shr_u(nibbles, 8));
    v128.store(out + <usize>w, i8x16.narrow_i16x8_u(pairs, pairs));
    if (digits == 0xffff) {
      w += 8;
      i += 16;
      continue;
    }
    const k = ctz<i32>(~digits);
    if ((k & 1) == 0 && i + k < n && at(i + k) == 0x3e) {
      stringEnd = i + k + 1;
      decoded = w + (k >> 1);
      return true;
    }
    break;
  }
  for (; i < n; i++) {
    const c = at(i);
    if (c == 0x3e) {
      if (high >= 0) store<u8>(out + <usize>(w++), <u8>(high << 4));
      stringEnd = i + 1;
      decoded = w;
      return true;
    }
    const v = hexValue(c);
    if (v < 0) continue;
    if (high < 0) high = v;
    else {
      store<u8>(out + <usize>(w++), <u8>((high << 4) | v));
      high = -1;
    }
  }
  return false;
}

/** The byte `\c` stands for (ESCAPED of pdf-syntax.ts, §7.3.4.2 Table 3), for a `c` that is no octal digit or line end. */
@inline function escaped(c: u32): u32 {
  if (c == 0x6e) return 10;
  if (c == 0x72) return 13;
  if (c == 0x74) return 9;
  if (c == 0x62) return 8;
  return c == 0x66 ? 12 : c;
}

/** The literal string from `from` (after its `(`) decoded to `out` (readLiteralString, readLiteralPart): false when the input ends first. */
export function literalString(from: i32, out: usize): bool {
  let depth: i32 = 1;
  let w: i32 = 0;
  let i = from;
  // An escape the end of the input cuts needs no check of its own: the string is then not closed.
  while (i < n) {
    // Sixteen bytes a step up to the next backslash or parenthesis, copied as they stand.
    if (i + 16 <= n) {
      const v = v128.load(input + <usize>i);
      const special = v128.or(v128.or(i8x16.eq(v, i8x16.splat(0x5c)), i8x16.eq(v, i8x16.splat(0x28))), i8x16.eq(v, i8x16.splat(0x29)));
      const found = i8x16.bitmask(special);
      v128.store(out + <usize>w, v);
      if (found == 0) {
        w += 16;
        i += 16;
        continue;
      }
      const k = ctz<i32>(found);
      w += k;
      i += k;
    }
    const c = at(i);
    if (c == 0x5c) {
      const e = at(i + 1);
      if (e - 0x30 < 8) {
        let k = i + 1;
        let value: u32 = 0;
        for (; k < i + 4 && k < n && at(k) - 0x30 < 8; k++) value = value * 8 + at(k) - 0x30;
        store<u8>(out + <usize>(w++), <u8>(value & 0xff));
        i = k;
      } else if (e == 0x0d || e == 0x0a) {
        // A backslash before an end of line continues the string on the next line.
        i += e == 0x0d && at(i + 2) == 0x0a ? 3 : 2;
      } else {
        store<u8>(out + <usize>(w++), <u8>escaped(e));
        i += 2;
      }
      continue;
    }
    if (c == 0x28) depth++;
    else if (c == 0x29 && --depth == 0) {
      stringEnd = i + 1;
      decoded = w;
      return true;
    }
    store<u8>(out + <usize>(w++), <u8>c);
    i++;
  }
  return false;
}

/** Where token classes are looked up: 1 a delimiter, 2 white space, 0 any other byte (built at each call: no data segment). */
let classes: usize = 0;

@inline export function classOf(c: u32): u32 {
  return <u32>load<u8>(classes + <usize>c);
}

/** Builds the class table at `at` (256 bytes). */
export function buildClasses(at: usize): void {
  classes = at;
  memory.fill(classes, 0, 256);
  for (let c: u32 = 0; c < 256; c++) {
    if (c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09 || c == 0x0c || c == 0) store<u8>(classes + <usize>c, 2);
    else if (c == 0x28 || c == 0x29 || c == 0x3c || c == 0x3e || c == 0x5b || c == 0x5d || c == 0x7b || c == 0x7d || c == 0x2f || c == 0x25) store<u8>(classes + <usize>c, 1);
  }
}

/** Set by numberAt for a number of more than fifteen digits. */
export let tooLong = false;

/** numberAt of pdf-content-strings.ts: the value, NaN when b[from, to) is no number, tooLong past fifteen digits. */
export function numberAt(from: i32, to: i32): f64 {
  tooLong = false;
  let i = from;
  const sign = at(i);
  if (sign == 0x2b || sign == 0x2d) i++;
  let value: f64 = 0;
  let scale: f64 = 0;
  let digits: i32 = 0;
  for (; i < to; i++) {
    const c = at(i);
    if (c - 0x30 < 10) {
      value = value * 10 + <f64>(c - 0x30);
      digits++;
      if (scale > 0) scale *= 10;
    } else if (c == 0x2e && scale == 0) scale = 1;
    else return NaN;
  }
  if (digits == 0) return NaN;
  if (digits > 15) {
    tooLong = true;
    return NaN;
  }
  const unsigned = scale > 1 ? value / scale : value;
  return sign == 0x2d ? -unsigned : unsigned;
}
