// Which font a content stream's `/F1` means (ISO 32000-1 §7.7.3.3, §7.8.3): the page whose /Contents
// names the stream (or the form XObject itself) has /Resources, inline or by reference, inherited
// from its /Parent pages when absent; their /Font dictionary maps resource names to font objects,
// and a font's /ToUnicode names its CMap. When that chain cannot be followed (a missing object), a
// name that means one font across the whole file is taken as that font.
import type { ByteSink } from '../decode/byte-sink.js';
import type { TextSink } from '../decode/text-decoders.js';
import { parseToUnicode, TextUnits, type ToUnicode } from './pdf-cmap.js';
import { type CodeFont, shownText } from './pdf-codes.js';
import { ContentTextParser } from './pdf-content.js';
import type { ShownText } from './pdf-shown-text.js';

const MAX_HELD_CHARS = 8 * 1024 * 1024;

/**
 * The words a CMap's head holds (begincmap, begincodespacerange, /CIDInit), searched for by parts
 * of fewer than seven bytes: node finds those with memchr, and sets up a table for each search of
 * a longer one, which made three searches of each content stream's head a fortieth of a PDF scan.
 */
const BEGIN = Buffer.from('begin');
const CMAP_WORDS = [Buffer.from('cmap'), Buffer.from('codespacerange')];
const ID_INIT = Buffer.from('IDInit');

/** Whether `word` stands in `b` at `at`. */
function wordAt(b: Buffer, at: number, word: Buffer): boolean {
  if (at < 0 || at + word.length > b.length) return false;
  for (let k = 0; k < word.length; k++) if (b[at + k] !== word[k]) return false;
  return true;
}

/** Whether a stream's head (its first 4 KiB) says it is a CMap, not a content stream. */
export function opensCmap(head: Buffer): boolean {
  for (let at = head.indexOf(BEGIN); at >= 0; at = head.indexOf(BEGIN, at + 1)) {
    if (CMAP_WORDS.some((word) => wordAt(head, at + BEGIN.length, word))) return true;
  }
  for (let at = head.indexOf(ID_INIT); at >= 0; at = head.indexOf(ID_INIT, at + 1)) if (head[at - 1] === 0x43 && head[at - 2] === 0x2f) return true;
  return false;
}

const REF = /^\s*(\d+)\s+\d+\s+R/;
const TO_UNICODE = /\/ToUnicode\s+(\d+)\s+\d+\s+R/;
const TYPE0 = /\/Subtype\s*\/Type0/;

/** The pattern of each key entry() is asked for (a few), made once. */
const KEYS = new Map<string, RegExp>();

/** The value of `/key` in a dictionary's text: a nested `<<…>>` (balanced) or the text of a referenced object. */
function entry(dict: string, key: string, objects: Map<number, string>): string | undefined {
  let pattern = KEYS.get(key);
  if (pattern === undefined) KEYS.set(key, (pattern = new RegExp(`/${key}(?![A-Za-z0-9])\\s*`)));
  const m = pattern.exec(dict);
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

/** A font as text() reads it: its map (when the file has it yet) and whether its codes are a Type0 font's CIDs. */
interface FontCodes extends CodeFont {
  /** The object /ToUnicode names, if any. */
  toUnicode: number | undefined;
}

/** Font dictionaries (their text) read once per PdfFonts: more are not kept (a hostile file may name thousands). */
const MAX_KNOWN_FONT_DICTS = 256;

/**
 * Which page lists each content stream in its /Contents, kept from one release of held streams to
 * the next: each release read every object's dictionary again (a PDF of thousands of pages is
 * released several times). Only the objects the file defined since the last read are read (one it
 * defines again too); the streams a page's earlier definition listed keep that page.
 */
const MAX_DEFINED = 65_536;

export class PageContents {
  private readonly pageOf = new Map<number, number>();
  /** Objects defined since the last read; past MAX_DEFINED, and at the first read, every object is read instead (`all`). */
  private defined: number[] = [];
  private all = true;

  /** The file stored (or stored again) `object`'s dictionary. */
  define(object: number): void {
    if (this.all) return;
    // Empty objects defined again and again cost the file a few bytes each: the list is bounded.
    if (this.defined.length < MAX_DEFINED) this.defined.push(object);
    else {
      this.all = true;
      this.defined = [];
    }
  }

  read(objects: Map<number, string>): Map<number, number> {
    const defined = this.all ? objects.keys() : this.defined;
    this.defined = [];
    this.all = false;
    for (const object of defined) {
      const m = /\/Contents\s*(\[[^\]]*\]|\d+\s+\d+\s+R)/.exec(objects.get(object) ?? '');
      if (!m) continue;
      for (const ref of (m[1] as string).matchAll(/(\d+)\s+\d+\s+R/g)) this.pageOf.set(Number(ref[1]), object);
    }
    return this.pageOf;
  }
}

export class PdfFonts {
  private pageOf: Map<number, number> | undefined;
  private global: Map<string, number> | undefined;
  private readonly units = new TextUnits();
  /**
   * What each /Font dictionary's text maps names to, and what each font object means: a PDF's
   * thousands of content streams name the same few fonts through the same few dictionaries, and
   * reading them again for each stream was a twentieth of a PDF scan.
   */
  private readonly fontDicts = new Map<string, Map<string, number>>();
  private readonly fontObjects = new Map<number, FontCodes>();

  constructor(
    private readonly objects: Map<number, string>,
    private readonly cmaps: Map<number, ToUnicode>,
    private readonly contentsOf = new PageContents(),
  ) {}

  /** The text a content stream shows, and a line break after it. */
  text(shown: ShownText, streamObject: number): string {
    const fonts = this.fontsOf(streamObject);
    // The fonts its runs name, resolved once each.
    const resolved: FontCodes[] = [];
    const runs = shown.runs;
    for (let k = 0; k < shown.used; k += 2) {
      const kind = runs[k] as number;
      if (kind < 0 || resolved[kind] !== undefined) continue;
      const name = shown.fonts[kind] as string;
      resolved[kind] = this.font(fonts.get(name) ?? this.globalFonts().get(name));
    }
    return shownText(shown, resolved, this.units);
  }

  /** The font `object` (none: a font that cannot be found, read as one without a map). */
  private font(object: number | undefined): FontCodes {
    if (object === undefined) return { cmap: undefined, twoByte: false, toUnicode: undefined };
    let font = this.fontObjects.get(object);
    if (font === undefined) {
      const dict = this.objects.get(object) ?? '';
      const ref = TO_UNICODE.exec(dict);
      const toUnicode = ref ? Number(ref[1]) : undefined;
      font = { cmap: toUnicode === undefined ? undefined : this.cmaps.get(toUnicode), twoByte: TYPE0.test(dict), toUnicode };
      // An object the file has not shown yet is asked again next time.
      if (this.objects.has(object) && this.fontObjects.size < MAX_KNOWN_FONT_DICTS) this.fontObjects.set(object, font);
    } else if (font.cmap === undefined && font.toUnicode !== undefined) font.cmap = this.cmaps.get(font.toUnicode);
    return font;
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
        if (fonts === undefined) return new Map();
        let map = this.fontDicts.get(fonts);
        if (map === undefined) {
          map = fontMap(fonts);
          if (this.fontDicts.size < MAX_KNOWN_FONT_DICTS) this.fontDicts.set(fonts, map);
        }
        return map;
      }
      const parent = entry(holder, 'Parent', this.objects);
      holder = parent;
    }
    return new Map();
  }

  /** Content stream object → the page object that lists it in /Contents. */
  private pages(): Map<number, number> {
    this.pageOf ??= this.contentsOf.read(this.objects);
    return this.pageOf;
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
  /** Which page lists each stream: told of each object the file stores (define()). */
  readonly pageContents = new PageContents();

  constructor(
    private readonly objects: Map<number, string>,
    private readonly out: () => TextSink | undefined,
  ) {}

  /** Where a content stream's decoded bytes go: its text operators, or the map of a ToUnicode CMap. */
  sink(object: number): ByteSink {
    return new ContentStreamSink(this, object);
  }

  /** The map of the CMap stream `object`. */
  cmap(object: number, text: string): void {
    this.cmaps.set(object, parseToUnicode(text));
  }

  /** The operators of the content stream `object`, held until they are released. */
  async hold(object: number, shown: ShownText): Promise<void> {
    if (shown.used === 0) return;
    this.held.push({ object, shown });
    this.heldChars += shown.chars;
    if (this.heldChars > MAX_HELD_CHARS) await this.release();
  }

  /** Writes the held operators as text. */
  async release(): Promise<void> {
    const held = this.held;
    this.held = [];
    this.heldChars = 0;
    const text = held.length > 0 ? this.out() : undefined;
    if (text === undefined) return;
    const fonts = new PdfFonts(this.objects, this.cmaps, this.pageContents);
    for (const { object, shown } of held) await text.write(fonts.text(shown, object));
  }
}

/**
 * A content stream's decoded bytes, for ContentText: its text operators, or the map of a ToUnicode
 * CMap (decided by its head). A class rather than an object of closures: one is made per stream.
 */
class ContentStreamSink implements ByteSink {
  private readonly parser = new ContentTextParser();
  private cmap: string[] | undefined;
  private decided = false;

  constructor(
    private readonly text: ContentText,
    private readonly object: number,
  ) {}

  async write(chunk: Buffer): Promise<void> {
    if (!this.decided) {
      this.decided = true;
      if (opensCmap(chunk.subarray(0, 4096))) this.cmap = [];
    }
    if (this.cmap !== undefined) {
      if (this.cmap.length < 1024) this.cmap.push(chunk.toString('latin1'));
    } else this.parser.write(chunk);
  }

  async end(): Promise<void> {
    if (this.cmap !== undefined) return this.text.cmap(this.object, this.cmap.join(''));
    this.parser.end();
    await this.text.hold(this.object, this.parser.shown);
  }
}
