// AssemblyScript (exported by the pdf-content-tokens.as.ts kernel): a held content stream's codes
// to text, as decodeCodes of pdf-cmap.ts turns them (ISO 32000-1 §9.10.2): its runs (a font and
// where its codes end, or a separator) read in order, each code looked up in its font's table of
// UTF-16 units (a ToUnicode map, pdf-cmap.ts), written as units. A code whose text is more than
// one unit (APART) stops the call: the caller writes that text and calls again past it.

/** What a font's codes are (a record of 16 bytes per font: mode, table address, table size). */
const SKIP: i32 = 0;
const LATIN1: i32 = 1;
const TABLE1: i32 = 2;
const TABLE2: i32 = 3;
const NEW_LINE: i32 = -1;
const UNMAPPED: u32 = 0xffff;
const APART: u32 = 0xfffe;

/**
 * Decodes the runs from result[0] (a run index) at result[4] (where its codes go on) into `out`,
 * result[8] units written so far, their bits or-ed in result[12]. Runs are pairs of i32 (a font
 * index or a separator, where the codes end); `codes` has 16 bytes after its last code and `out`
 * 32 bytes after room for every code and separator. Leaves the same four numbers, then result[16]:
 * 0 when every run is decoded (the units narrowed in place to bytes when their bits are all below
 * 0x100), 1 when the code at result[4] of run result[0] is APART (its value in result[20]).
 */
export function decode(codes: usize, runs: usize, runCount: i32, fonts: usize, out: usize, result: usize): void {
  let k = load<i32>(result);
  let i = load<i32>(result + 4);
  let n = load<i32>(result + 8);
  let bits = load<u32>(result + 12);
  for (; k < runCount; k++) {
    const kind = load<i32>(runs + (<usize>k << 3));
    const end = load<i32>(runs + (<usize>k << 3) + 4);
    if (kind < 0) {
      const unit: u32 = kind == NEW_LINE ? 0x0a : 0x20;
      store<u16>(out + (<usize>n << 1), <u16>unit);
      n++;
      bits |= unit;
      i = end;
      continue;
    }
    const font = fonts + (<usize>kind << 4);
    const mode = load<i32>(font);
    if (mode == LATIN1) {
      // Each byte widened, eight a step (the 16 bytes after the codes and 32 after the room end any step).
      for (; i < end; i += 8) {
        v128.store(out + (<usize>n << 1), i16x8.extend_low_i8x16_u(v128.load(codes + <usize>i)));
        n += min(8, end - i);
      }
      bits |= 0xff;
    } else if (mode == TABLE1 || mode == TABLE2) {
      const table = <usize>load<i32>(font + 4);
      const size = <u32>load<i32>(font + 8);
      const width: i32 = mode == TABLE1 ? 1 : 2;
      for (; i + width <= end; i += width) {
        const code: u32 = width == 1 ? <u32>load<u8>(codes + <usize>i) : (<u32>load<u8>(codes + <usize>i) << 8) | <u32>load<u8>(codes + <usize>i + 1);
        const unit: u32 = code < size ? <u32>load<u16>(table + (<usize>code << 1)) : UNMAPPED;
        if (unit < APART) {
          store<u16>(out + (<usize>n << 1), <u16>unit);
          n++;
          bits |= unit;
        } else if (unit == APART) {
          store<i32>(result, k);
          store<i32>(result + 4, i);
          store<i32>(result + 8, n);
          store<u32>(result + 12, bits);
          store<i32>(result + 16, 1);
          store<i32>(result + 20, <i32>code);
          return;
        }
      }
    }
    // SKIP: a two-byte font without a map shows nothing; an odd byte at a run's end is no code.
    i = end;
  }
  if (bits < 0x100) {
    // Sixteen units a step to sixteen bytes, in place: a step writes below what the next one reads.
    for (let j: i32 = 0; j < n; j += 16) {
      const at = out + (<usize>j << 1);
      v128.store(out + <usize>j, i8x16.narrow_i16x8_u(v128.load(at), v128.load(at + 16)));
    }
  }
  store<i32>(result, k);
  store<i32>(result + 4, i);
  store<i32>(result + 8, n);
  store<u32>(result + 12, bits);
  store<i32>(result + 16, 0);
}
