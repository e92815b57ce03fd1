// A streaming XML tokenizer for text extraction, written for speed on office documents (which are
// mostly markup): it finds tags with indexOf and a sticky regular expression, decodes the five
// predefined entities and character references (XML 1.0 §4.6, §4.1), passes CDATA through as
// text, and skips comments, processing instructions and DOCTYPE. It does not validate: a broken
// document still yields its text. A tag longer than MAX_TAG_CHARS is taken as text.

export interface XmlHandler {
  /** `name` is the local name (`w:p` → `p`); `tag` is everything between `<` and `>`, for attributes. */
  open(name: string, tag: string, selfClosing: boolean): void;
  close(name: string): void;
  text(text: string): void;
}

/**
 * The same events with positions in place of strings, for readers that want few of the tags and
 * little of the text (a worksheet is mostly markup): nothing is sliced or decoded that they do not
 * ask for. `s[name, nameEnd)` is the local name; `s[tag, tagEnd)` what stands between `<` and `>`.
 */
export interface XmlScanHandler {
  /** Whether the text that comes next is read: text no one reads is neither sliced nor decoded. */
  readonly wantsText: boolean;
  openAt(s: string, tag: number, name: number, nameEnd: number, tagEnd: number): void;
  closeAt(s: string, name: number, nameEnd: number): void;
  text(text: string): void;
}

const MAX_TAG_CHARS = 64 * 1024;
/** A tag body up to its `>`, quoted attribute values may hold `>`. */
const TAG_END = /(?:[^"'>]|"[^"]*"|'[^']*')*>/y;
const ENTITY = /&(?:#(\d{1,7})|#x([0-9A-Fa-f]{1,6})|(lt|gt|amp|quot|apos));/g;
const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

export function decodeXmlEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(ENTITY, (whole, dec: string | undefined, hex: string | undefined, name: string | undefined) => {
    if (name !== undefined) return NAMED[name] ?? whole;
    const code = dec !== undefined ? Number.parseInt(dec, 10) : Number.parseInt(hex as string, 16);
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : '\uFFFD';
  });
}

/**
 * Reads the tag whose name starts at `from` in one pass: where its local name starts and ends
 * (the prefix ends at the name's last colon), and where the first `>` after it is, when that `>`
 * ends the tag: no quote before it, or quotes of one kind only and an even number of them (every
 * attribute value closed). -1 when there is no `>`, -2 when the quotes leave the `>` inside a
 * value (a tag that mixes quotes takes the regular expression). Worksheet cells all have quoted
 * attributes; one loop over a tag cost less than a search for `>` and two loops.
 */
let localStart = 0;
let localEnd = 0;
function readTag(s: string, from: number): number {
  let doubles = 0;
  let singles = 0;
  let start = from;
  let i = from;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x2f || c === 0x3e) break;
    if (c === 0x3a) start = i + 1;
    else if (c === 0x22) doubles++;
    else if (c === 0x27) singles++;
  }
  localStart = start;
  localEnd = i;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x3e) return (singles === 0 ? doubles % 2 === 0 : doubles === 0 && singles % 2 === 0) ? i : -2;
    if (c === 0x22) doubles++;
    else if (c === 0x27) singles++;
  }
  return -1;
}

/** The value of attribute `name` (qualified as written, `t` or `office:value`) in a tag body. */
export function attribute(tag: string, name: string): string | undefined {
  const at = tag.indexOf(` ${name}=`);
  if (at < 0) return undefined;
  const quote = tag[at + name.length + 2];
  if (quote !== '"' && quote !== "'") return undefined;
  const start = at + name.length + 3;
  const end = tag.indexOf(quote, start);
  return end < 0 ? undefined : decodeXmlEntities(tag.slice(start, end));
}

/** An XmlHandler's events from positions: each name and tag sliced. */
class Slicing implements XmlScanHandler {
  readonly wantsText = true;

  constructor(private readonly handler: XmlHandler) {}

  openAt(s: string, tag: number, name: number, nameEnd: number, tagEnd: number): void {
    const body = s.slice(tag, tagEnd);
    const local = s.slice(name, nameEnd);
    const selfClosing = body.charCodeAt(body.length - 1) === 0x2f;
    this.handler.open(local, body, selfClosing);
    if (selfClosing) this.handler.close(local);
  }

  closeAt(s: string, name: number, nameEnd: number): void {
    this.handler.close(s.slice(name, nameEnd));
  }

  text(text: string): void {
    this.handler.text(text);
  }
}

/**
 * XML text in chunks (cut anywhere) as events. A self-closing tag is an open and a close: the
 * scan handler sees only openAt and ends the element itself when `s[tagEnd - 1]` is `/`.
 */
export class XmlTokenizer {
  private carry = '';
  private readonly handler: XmlScanHandler;

  constructor(handler: XmlHandler | XmlScanHandler) {
    this.handler = 'openAt' in handler ? handler : new Slicing(handler);
  }

  write(chunk: string): void {
    const s = this.carry.length > 0 ? this.carry + chunk : chunk;
    this.carry = '';
    this.consume(s, false);
  }

  end(): void {
    const s = this.carry;
    this.carry = '';
    this.consume(s, true);
    if (this.carry.length > 0 && this.handler.wantsText) this.handler.text(decodeXmlEntities(this.carry));
    this.carry = '';
  }

  private consume(s: string, final: boolean): void {
    const h = this.handler;
    let i = 0;
    while (i < s.length) {
      const lt = s.indexOf('<', i);
      if (lt < 0) {
        // Keep an entity reference that may continue in the next chunk.
        const amp = final ? -1 : s.lastIndexOf('&');
        const cut = amp >= i && s.length - amp < 12 && s.indexOf(';', amp) < 0 ? amp : s.length;
        if (cut > i && h.wantsText) h.text(decodeXmlEntities(s.slice(i, cut)));
        this.carry = s.slice(cut);
        return;
      }
      if (lt > i && h.wantsText) h.text(decodeXmlEntities(s.slice(i, lt)));
      const next = s.charCodeAt(lt + 1);
      let end: number;
      if (next === 0x21 /* ! */ || next === 0x3f /* ? */) {
        const cdata = s.startsWith('<![CDATA[', lt);
        const close = cdata ? ']]>' : s.startsWith('<!--', lt) ? '-->' : next === 0x3f ? '?>' : '>';
        const at = s.indexOf(close, lt + 2);
        if (at < 0) {
          if (!final && s.length - lt < MAX_TAG_CHARS) return this.keep(s, lt);
          // An unterminated comment or section: what follows is not text worth reading.
          return;
        }
        if (cdata && h.wantsText) h.text(s.slice(lt + 9, at));
        i = at + close.length;
        continue;
      }
      const closing = next === 0x2f;
      const gt = readTag(s, closing ? lt + 2 : lt + 1);
      if (gt >= 0) end = gt + 1;
      else if (gt === -1) end = -1;
      else {
        TAG_END.lastIndex = lt + 1;
        end = TAG_END.test(s) ? TAG_END.lastIndex : -1;
      }
      if (end < 0) {
        if (!final && s.length - lt < MAX_TAG_CHARS) return this.keep(s, lt);
        if (h.wantsText) h.text('<');
        i = lt + 1;
        continue;
      }
      // Names and tags are handed over where they stand: a handler slices only what it keeps.
      if (closing) h.closeAt(s, localStart, localEnd);
      else h.openAt(s, lt + 1, localStart, localEnd, end - 1);
      i = end;
    }
  }

  private keep(s: string, from: number): void {
    this.carry = s.slice(from);
  }
}
