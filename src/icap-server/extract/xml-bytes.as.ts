// AssemblyScript shared by the WebAssembly kernels that read XML bytes where they stand
// (ooxml-runs.as.ts, spreadsheet-scan.as.ts and the modules it imports; each kernel is compiled
// with its own copy): the input, its bytes read without an end check, a byte searched sixteen at a
// time, short copies, a word compared in place.

export const LT: u32 = 0x3c;
export const GT: u32 = 0x3e;
export const SLASH: u32 = 0x2f;

// The input.
let xml: usize = 0;
let n: i32 = 0;

export function setInput(input: usize, length: i32): void {
  xml = input;
  n = length;
}

/** The input's length: the bytes after it are zeros as far as the kernel reads past it (at()). */
@inline export function inputLength(): i32 {
  return n;
}

/** The address of byte `i` of the input. */
@inline export function address(i: i32): usize {
  return xml + <usize>i;
}

/**
 * The byte at `i`. The caller puts zero bytes after the input as far as its kernel reads past it
 * (16 for the run reader, 32 for the spreadsheet readers; 0 is none of the bytes a tag is read
 * by), so a read needs no check against the end (a compare per byte read was a fifth of the run
 * reader's time).
 */
@inline export function at(i: i32): u32 {
  return <u32>load<u8>(xml + <usize>i);
}

/** The first `c` at or after `from`, or -1: sixteen bytes per step. */
export function find(from: i32, c: u8): i32 {
  let i = from;
  const splat = i8x16.splat(c);
  while (i + 16 <= n) {
    const hits = <u32>i8x16.bitmask(i8x16.eq(v128.load(xml + <usize>i), splat));
    if (hits != 0) return i + <i32>ctz(hits);
    i += 16;
  }
  while (i < n) {
    if (load<u8>(xml + <usize>i) == c) return i;
    i++;
  }
  return -1;
}

/** Copies `length` bytes sixteen at a time (up to 15 past them: the caller leaves that room). */
@inline export function copy(to: usize, from: usize, length: i32): void {
  for (let k: i32 = 0; k < length; k += 16) v128.store(to + <usize>k, v128.load(from + <usize>k));
}

/**
 * True when the `length` (at most 8) bytes at `i` are those of `word`, packed little-endian. No
 * string literal: the module keeps no data in its memory, all of which is the caller's.
 */
@inline export function startsWith(i: i32, word: u64, length: i32): bool {
  for (let k = 0; k < length; k++) if (at(i + k) != <u32>((word >> (<u64>k << 3)) & 0xff)) return false;
  return true;
}
