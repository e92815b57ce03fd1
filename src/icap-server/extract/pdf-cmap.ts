// ToUnicode CMaps (ISO 32000-1 §9.10.3; Adobe TN 5014/5411): the code space gives the byte length
// of a character code, bfchar and bfrange map codes to UTF-16BE text. Fonts that subset and
// renumber their glyphs (every font a modern writer embeds) are readable only through this map.
// One- and two-byte codes are looked up in a table of UTF-16 units (a Map lookup and a string
// per code were a fifth of a PDF scan); targets of more than one unit stay in the Map.

export interface ToUnicode {
  /** Bytes per character code. */
  codeBytes: number;
  /** The unit of each one- or two-byte code below its length: UNMAPPED, or APART (the text is in `map`); undefined for a sparse map. */
  units: Uint16Array | undefined;
  /** Codes to text: every code when `units` is undefined, else those APART. */
  map: Map<number, string>;
}

export const UNMAPPED = 0xffff;
export const APART = 0xfffe;

/** Codes shown at once up to this many are copied a unit at a time (a native copy costs more to start). */
const SHORT = 32;

/** Ranges longer than this are not expanded (a hostile CMap cannot fill memory). */
const MAX_RANGE = 65_536;

const utf16 = (hex: string): string => {
  const clean = hex.replace(/[^0-9A-Fa-f]/g, '');
  return Buffer.from(clean.length % 4 === 0 ? clean : clean.padEnd(clean.length + (4 - (clean.length % 4)), '0'), 'hex').swap16().toString('utf16le');
};

export function parseToUnicode(text: string): ToUnicode {
  const space = /begincodespacerange\s*<([0-9A-Fa-f]+)>/.exec(text);
  const codeBytes = space ? Math.max(1, Math.ceil((space[1] as string).length / 2)) : 2;
  const map = new Map<number, string>();
  for (const block of text.matchAll(/beginbfchar([\s\S]*?)endbfchar/g)) {
    for (const m of (block[1] as string).matchAll(/<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]*)>/g)) map.set(Number.parseInt(m[1] as string, 16), utf16(m[2] as string));
  }
  for (const block of text.matchAll(/beginbfrange([\s\S]*?)endbfrange/g)) {
    for (const m of (block[1] as string).matchAll(/<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*(?:<([0-9A-Fa-f]*)>|\[([^\]]*)\])/g)) {
      const from = Number.parseInt(m[1] as string, 16);
      const to = Math.min(Number.parseInt(m[2] as string, 16), from + MAX_RANGE);
      if (m[3] !== undefined) {
        // The last byte of the destination counts up through the range.
        const base = utf16(m[3]);
        const last = base.charCodeAt(base.length - 1);
        for (let code = from; code <= to; code++) map.set(code, base.slice(0, -1) + String.fromCharCode(last + code - from));
      } else {
        const targets = (m[4] as string).match(/<([0-9A-Fa-f]*)>/g) ?? [];
        targets.forEach((t, i) => {
          if (from + i <= to) map.set(from + i, utf16(t.slice(1, -1)));
        });
      }
    }
  }
  return tabled(codeBytes, map);
}

/**
 * The map with a table of units when its codes are one or two bytes and fill at least a quarter
 * of the table (a table per sparse map would let a small hostile CMap take 128 KiB).
 */
function tabled(codeBytes: number, map: Map<number, string>): ToUnicode {
  if (codeBytes > 2) return { codeBytes, units: undefined, map };
  const limit = codeBytes === 1 ? 0x100 : 0x10000;
  let size = codeBytes === 1 ? 0x100 : 0;
  for (const code of map.keys()) if (code < limit && code >= size) size = code + 1;
  if (size > 4 * map.size + 0x100) return { codeBytes, units: undefined, map };
  const units = new Uint16Array(size).fill(UNMAPPED);
  // Unmapped one-byte codes are taken as Latin-1.
  if (codeBytes === 1) for (let code = 0; code < 0x100; code++) units[code] = code;
  const apart = new Map<number, string>();
  for (const [code, target] of map) {
    if (code >= size) continue;
    const unit = target.length === 1 ? target.charCodeAt(0) : APART;
    units[code] = unit < APART ? unit : APART;
    if (unit >= APART) apart.set(code, target);
  }
  return { codeBytes, units, map: apart };
}

/** Decoded text as UTF-16 units, grown as needed and taken as a string once. */
export class TextUnits {
  private units = new Uint16Array(4096);
  private length = 0;
  /** Every unit's bits or-ed: past 0xff the text is not Latin-1. */
  private bits = 0;
  private narrow = Buffer.alloc(0);

  /** Room for `n` more units, and where they go. */
  reserve(n: number): Uint16Array {
    if (this.length + n > this.units.length) {
      const grown = new Uint16Array(Math.max(this.units.length * 2, this.length + n));
      grown.set(this.units.subarray(0, this.length));
      this.units = grown;
    }
    return this.units;
  }

  unit(u: number): void {
    this.reserve(1)[this.length++] = u;
    this.bits |= u;
  }

  string(s: string): void {
    const units = this.reserve(s.length);
    for (let k = 0; k < s.length; k++) {
      const u = s.charCodeAt(k);
      units[this.length++] = u;
      this.bits |= u;
    }
  }

  /** Units written to the array reserve() gave: `n` of them, or-ed together into `bits`. */
  wrote(n: number, bits: number): void {
    this.length += n;
    this.bits |= bits;
  }

  get size(): number {
    return this.length;
  }

  /** The text so far (a one-byte string when it is all Latin-1, as the detectors read fastest), and a fresh start. */
  take(): string {
    const n = this.length;
    let text: string;
    if (this.bits <= 0xff) {
      if (this.narrow.length < n) this.narrow = Buffer.allocUnsafe(Math.max(n, 2 * this.narrow.length));
      this.narrow.set(this.units.subarray(0, n));
      text = this.narrow.toString('latin1', 0, n);
    } else text = Buffer.from(this.units.buffer, 0, 2 * n).toString('utf16le');
    this.length = 0;
    this.bits = 0;
    return text;
  }
}

/**
 * Byte codes codes[from, to) to text through `cmap`, into `out`; a font without a map is read as
 * Latin-1 when its codes are single bytes, and not at all when they are a Type0 font's CIDs.
 */
export function decodeCodes(codes: Uint8Array, from: number, to: number, cmap: ToUnicode | undefined, twoByteFont: boolean, out: TextUnits): void {
  if (cmap === undefined) {
    if (twoByteFont) return;
    const units = out.reserve(to - from);
    const n = out.size;
    // A copy that widens each byte, made natively: a few times faster than a loop past a few dozen.
    if (to - from > SHORT) units.set(codes.subarray(from, to), n);
    else for (let i = from; i < to; i++) units[n + i - from] = codes[i] as number;
    out.wrote(to - from, 0);
    return;
  }
  const table = cmap.units;
  const width = cmap.codeBytes;
  if (table === undefined) {
    for (let i = from; i + width <= to; i += width) {
      let code = 0;
      for (let k = 0; k < width; k++) code = code * 256 + (codes[i + k] as number);
      const mapped = cmap.map.get(code);
      if (mapped !== undefined) out.string(mapped);
      else if (width === 1) out.unit(codes[i] as number);
    }
    return;
  }
  let units = out.reserve(to - from);
  let n = out.size;
  let bits = 0;
  const size = table.length;
  for (let i = from; i + width <= to; i += width) {
    const code = width === 1 ? (codes[i] as number) : ((codes[i] as number) << 8) | (codes[i + 1] as number);
    const unit = code < size ? (table[code] as number) : UNMAPPED;
    if (unit < APART) {
      units[n++] = unit;
      bits |= unit;
    } else if (unit === APART) {
      out.wrote(n - out.size, bits);
      out.string(cmap.map.get(code) as string);
      units = out.reserve(to - i);
      n = out.size;
      bits = 0;
    }
  }
  out.wrote(n - out.size, bits);
}
