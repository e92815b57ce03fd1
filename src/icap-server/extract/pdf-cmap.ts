// ToUnicode CMaps (ISO 32000-1 §9.10.3; Adobe TN 5014/5411): the code space gives the byte length
// of a character code, bfchar and bfrange map codes to UTF-16BE text. Fonts that subset and
// renumber their glyphs (every font a modern writer embeds) are readable only through this map.

export interface ToUnicode {
  /** Bytes per character code. */
  codeBytes: number;
  map: Map<number, string>;
}

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
  return { codeBytes, map };
}

/** Byte codes (latin1 characters) to text through `cmap`; unmapped one-byte codes are taken as Latin-1. */
export function decodeCodes(codes: string, cmap: ToUnicode | undefined, twoByteFont: boolean): string {
  if (cmap === undefined) return twoByteFont ? '' : codes;
  // Pieces joined once: adding a character at a time to a string made a page of text thousands
  // of short-lived strings (a quarter of a PDF scan went to the garbage collector).
  const out: string[] = [];
  const n = cmap.codeBytes;
  for (let i = 0; i + n <= codes.length; i += n) {
    let code = 0;
    for (let k = 0; k < n; k++) code = code * 256 + codes.charCodeAt(i + k);
    const mapped = cmap.map.get(code);
    if (mapped !== undefined) out.push(mapped);
    else if (n === 1) out.push(codes[i] as string);
  }
  return out.join('');
}
