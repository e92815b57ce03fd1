// Which font a content stream's `/F1` means (ISO 32000-1 §7.7.3.3, §7.8.3): the page whose /Contents
// names the stream (or the form XObject itself) has /Resources, inline or by reference, inherited
// from its /Parent pages when absent; their /Font dictionary maps resource names to font objects,
// and a font's /ToUnicode names its CMap. When that chain cannot be followed (a missing object), a
// name that means one font across the whole file is taken as that font.
import type { ByteSink } from '../decode/byte-sink.js';
import type { TextSink } from '../decode/text-decoders.js';
import { decodeCodes, parseToUnicode, TextUnits, type ToUnicode } from './pdf-cmap.js';
import { ContentTextParser } from './pdf-content.js';
import { NEW_LINE, type ShownText, WORD_GAP } from './pdf-shown-text.js';

const MAX_HELD_CHARS = 8 * 1024 * 1024;

const REF = /^\s*(\d+)\s+\d+\s+R/;

/** The value of `/key` in a dictionary's text: a nested `<<…>>` (balanced) or the text of a referenced object. */
function entry(dict: string, key: string, objects: Map<number, string>): string | undefined {
  const m = new RegExp(`/${key}(?![A-Za-z0-9])\\s*`).exec(dict);
  if (!m) return undefined;
  const at = m.index + m[0].length;
  if (dict.startsWith('<<', at)) {
    let depth = 0;
    for (let i = at; i < dict.length - 1; i++) {
      if (dict[i] === '<' && dict[i + 1] === '<') {
        depth++;
        i++;
      } else if (dict[i] === '>' && dict[i + 1] === '>') {
        depth--;
        i++;
        if (depth === 0) return dict.slice(at, i + 1);
      }
    }
    return dict.slice(at);
  }
  const ref = REF.exec(dict.slice(at, at + 32));
  return ref ? objects.get(Number(ref[1])) : undefined;
}

function fontMap(fontDict: string): Map<string, number> {
  const map = new Map<string, number>();
  for (const m of fontDict.matchAll(/\/([^\s/<>[\]()]+)\s+(\d+)\s+\d+\s+R/g)) map.set(m[1] as string, Number(m[2]));
  return map;
}

export class PdfFonts {
  private pageOf: Map<number, number> | undefined;
  private global: Map<string, number> | undefined;
  private readonly units = new TextUnits();

  constructor(
    private readonly objects: Map<number, string>,
    private readonly cmaps: Map<number, ToUnicode>,
  ) {}

  /** The text a content stream shows. */
  text(shown: ShownText, streamObject: number): string {
    const fonts = this.fontsOf(streamObject);
    const resolved: Array<{ cmap: ToUnicode | undefined; twoByte: boolean }> = [];
    const { codes, runs } = shown;
    const out = this.units;
    let from = 0;
    for (let k = 0; k < shown.used; k += 2) {
      const kind = runs[k] as number;
      const end = runs[k + 1] as number;
      if (kind === NEW_LINE) out.unit(0x0a);
      else if (kind === WORD_GAP) out.unit(0x20);
      else {
        let font = resolved[kind];
        if (font === undefined) {
          const name = shown.fonts[kind] as string;
          const object = fonts.get(name) ?? this.globalFonts().get(name);
          const dict = object === undefined ? '' : (this.objects.get(object) ?? '');
          const ref = /\/ToUnicode\s+(\d+)\s+\d+\s+R/.exec(dict);
          font = resolved[kind] = { cmap: ref ? this.cmaps.get(Number(ref[1])) : undefined, twoByte: /\/Subtype\s*\/Type0/.test(dict) };
        }
        decodeCodes(codes.bytes, from, end, font.cmap, font.twoByte, out);
      }
      from = end;
    }
    return out.take();
  }

  private fontsOf(streamObject: number): Map<string, number> {
    const own = this.objects.get(streamObject);
    let holder = own !== undefined && /\/Resources/.test(own) ? own : undefined;
    if (holder === undefined) {
      const page = this.pages().get(streamObject);
      holder = page === undefined ? undefined : this.objects.get(page);
    }
    for (let hops = 0; holder !== undefined && hops < 16; hops++) {
      const resources = entry(holder, 'Resources', this.objects);
      if (resources !== undefined) {
        const fonts = entry(resources, 'Font', this.objects);
        return fonts === undefined ? new Map() : fontMap(fonts);
      }
      const parent = entry(holder, 'Parent', this.objects);
      holder = parent;
    }
    return new Map();
  }

  /** Content stream object → the page object that lists it in /Contents. */
  private pages(): Map<number, number> {
    if (this.pageOf !== undefined) return this.pageOf;
    const pageOf = new Map<number, number>();
    for (const [object, dict] of this.objects) {
      const m = /\/Contents\s*(\[[^\]]*\]|\d+\s+\d+\s+R)/.exec(dict);
      if (!m) continue;
      for (const ref of (m[1] as string).matchAll(/(\d+)\s+\d+\s+R/g)) pageOf.set(Number(ref[1]), object);
    }
    this.pageOf = pageOf;
    return pageOf;
  }

  /** Resource names that mean one font wherever they are used. */
  private globalFonts(): Map<string, number> {
    if (this.global !== undefined) return this.global;
    const seen = new Map<string, number | null>();
    for (const dict of this.objects.values()) {
      const fonts = entry(dict, 'Font', this.objects);
      if (fonts === undefined || !fonts.startsWith('<<')) continue;
      for (const [name, object] of fontMap(fonts)) {
        const before = seen.get(name);
        seen.set(name, before === undefined || before === object ? object : null);
      }
    }
    this.global = new Map([...seen].filter((e): e is [string, number] => e[1] !== null));
    return this.global;
  }
}

/**
 * The text of a file's content streams: their operators are held until the end of the file, when
 * every font's ToUnicode map is known (a writer may put the maps last), or until they pass
 * MAX_HELD_CHARS; then written out through PdfFonts, to the text `out` gives (none for a file
 * that turned out encrypted).
 */
export class ContentText {
  private held: Array<{ object: number; shown: ShownText }> = [];
  private heldChars = 0;
  private readonly cmaps = new Map<number, ToUnicode>();

  constructor(
    private readonly objects: Map<number, string>,
    private readonly out: () => TextSink | undefined,
  ) {}

  /** Where a content stream's decoded bytes go: its text operators, or the map of a ToUnicode CMap. */
  sink(object: number): ByteSink {
    const parser = new ContentTextParser();
    let cmap: string[] | undefined;
    let decided = false;
    return {
      write: async (chunk) => {
        if (!decided) {
          decided = true;
          const head = chunk.subarray(0, 4096);
          if (head.includes('begincmap') || head.includes('begincodespacerange') || head.includes('/CIDInit')) cmap = [];
        }
        if (cmap !== undefined) {
          if (cmap.length < 1024) cmap.push(chunk.toString('latin1'));
        } else parser.write(chunk);
      },
      end: async () => {
        if (cmap !== undefined) {
          this.cmaps.set(object, parseToUnicode(cmap.join('')));
          return;
        }
        parser.end();
        const { shown } = parser;
        if (shown.used === 0) return;
        this.held.push({ object, shown });
        this.heldChars += shown.chars;
        if (this.heldChars > MAX_HELD_CHARS) await this.release();
      },
    };
  }

  /** Writes the held operators as text. */
  async release(): Promise<void> {
    const held = this.held;
    this.held = [];
    this.heldChars = 0;
    const text = held.length > 0 ? this.out() : undefined;
    if (text === undefined) return;
    const fonts = new PdfFonts(this.objects, this.cmaps);
    for (const { object, shown } of held) await text.write(`${fonts.text(shown, object)}\n`);
  }
}
