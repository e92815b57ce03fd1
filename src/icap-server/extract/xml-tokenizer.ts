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

/** The local name of the tag name at `from` in `text`, read up to `limit` at most. */
function localName(text: string, from: number, limit: number): string {
  let end = from;
  // The prefix ends at the last colon of the name (a lastIndexOf call cost more than the loop).
  let start = from;
  while (end < limit) {
    const c = text.charCodeAt(end);
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x2f || c === 0x3e) break;
    end++;
    if (c === 0x3a) start = end;
  }
  return text.slice(start, end);
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

/**
 * True when the `>` at `gt` ends the tag that starts at `from`: no quote in between, or quotes of
 * one kind only and an even number of them (every attribute value closed before it). Worksheet
 * cells all have quoted attributes; only a tag that mixes quotes takes the regular expression.
 */
function closesTag(s: string, from: number, gt: number): boolean {
  let doubles = 0;
  let singles = 0;
  for (let i = from; i < gt; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) doubles++;
    else if (c === 0x27) singles++;
  }
  return singles === 0 ? doubles % 2 === 0 : doubles === 0 && singles % 2 === 0;
}

export class XmlTokenizer {
  private carry = '';

  constructor(private readonly handler: XmlHandler) {}

  write(chunk: string): void {
    const s = this.carry.length > 0 ? this.carry + chunk : chunk;
    this.carry = '';
    this.consume(s, false);
  }

  end(): void {
    const s = this.carry;
    this.carry = '';
    this.consume(s, true);
    if (this.carry.length > 0) this.handler.text(decodeXmlEntities(this.carry));
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
        if (cut > i) h.text(decodeXmlEntities(s.slice(i, cut)));
        this.carry = s.slice(cut);
        return;
      }
      if (lt > i) h.text(decodeXmlEntities(s.slice(i, lt)));
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
        if (cdata) h.text(s.slice(lt + 9, at));
        i = at + close.length;
        continue;
      }
      const gt = s.indexOf('>', lt + 1);
      if (gt >= 0 && closesTag(s, lt + 1, gt)) end = gt + 1;
      else {
        TAG_END.lastIndex = lt + 1;
        end = TAG_END.test(s) ? TAG_END.lastIndex : -1;
      }
      if (end < 0) {
        if (!final && s.length - lt < MAX_TAG_CHARS) return this.keep(s, lt);
        h.text('<');
        i = lt + 1;
        continue;
      }
      // A closing tag's name is read where it stands: half the tags, and no string for their body.
      if (s.charCodeAt(lt + 1) === 0x2f) h.close(localName(s, lt + 2, end - 1));
      else {
        const tag = s.slice(lt + 1, end - 1);
        const selfClosing = tag.charCodeAt(tag.length - 1) === 0x2f;
        const name = localName(tag, 0, tag.length);
        h.open(name, tag, selfClosing);
        if (selfClosing) h.close(name);
      }
      i = end;
    }
  }

  private keep(s: string, from: number): void {
    this.carry = s.slice(from);
  }
}
