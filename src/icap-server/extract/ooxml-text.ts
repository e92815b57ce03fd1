// The text of the main OOXML parts (WordprocessingML documents, headers, footers, notes and
// comments; PresentationML slides and notes) at the speed of a regular expression search: a
// document is mostly markup, and all that matters in it is the text of its runs (`w:t`, `a:t`,
// deleted text and field codes too) and where paragraphs, tabs, breaks, cells and rows are. The
// general tokenizer (xml-tokenizer.ts) reads every other part; both give the same text.
import { StringDecoder } from 'node:string_decoder';
import type { ByteSink } from '../decode/byte-sink.js';
import type { TextSink } from '../decode/text-decoders.js';
import { decodeXmlEntities } from './xml-tokenizer.js';

/** Parts read this way (ECMA-376 Part 1 §11.3, §13.3). */
export const OOXML_TEXT_PART = /^(?:word\/(?:document\d*|header\d*|footer\d*|footnotes|endnotes|comments\w*)|ppt\/(?:slides\/slide\d+|notesSlides\/notesSlide\d+))\.xml$/i;

const RUNS = /<[wa]:(?:t|delText|instrText)(?:\s[^>]*)?>([^<]*)<\/[wa]:(?:t|delText|instrText)>|<\/[wa]:p>|<[wa]:(tab|br|cr)\b[^>]*>|<\/w:(tc|tr)>/g;
/** An unfinished run kept for the next chunk is at most this long; past it the part is read on. */
const MAX_CARRY_CHARS = 1024 * 1024;

export function ooxmlText(out: TextSink): ByteSink {
  const decoder = new StringDecoder('utf8');
  let carry = '';
  const read = (s: string, final: boolean): string => {
    const parts: string[] = [];
    const runs = new RegExp(RUNS);
    let end = 0;
    for (let m = runs.exec(s); m !== null; m = runs.exec(s)) {
      end = runs.lastIndex;
      if (m[1] !== undefined) parts.push(decodeXmlEntities(m[1]));
      else if (m[2] !== undefined) parts.push(m[2] === 'tab' ? '\t' : '\n');
      else if (m[3] !== undefined) parts.push(m[3] === 'tc' ? '\t' : '\n');
      else parts.push('\n');
    }
    // Nothing after the last match was read: from the last run that opened there (or the last
    // tag), it is read again with the next chunk.
    // Looked for in the unread tail only: lastIndexOf of a literal absent from the chunk
    // (`<w:delText`) walks the whole chunk, and was a third of a docx scan.
    const tail = s.slice(end);
    const run = Math.max(tail.lastIndexOf('<w:t'), tail.lastIndexOf('<a:t'), tail.lastIndexOf('<w:delText'), tail.lastIndexOf('<w:instrText'));
    const open = run >= 0 ? run : tail.lastIndexOf('<');
    carry = !final && open >= 0 && tail.length - open < MAX_CARRY_CHARS ? tail.slice(open) : '';
    return parts.join('');
  };
  return {
    async write(chunk) {
      const text = read(carry + decoder.write(chunk), false);
      if (text.length > 0) await out.write(text);
    },
    async end() {
      const text = read(carry + decoder.end(), true);
      if (text.length > 0) await out.write(text);
      await out.end();
    },
  };
}
