// HTML as the text a person reads (htmlparser2: streaming, forgiving, every HTML5 named character
// reference decoded): tags stripped, block elements and <br> end a line, table cells end with a
// tab, inline elements (b, span, a…) join, so "4111 <b>1111</b> 1111 1111" reads as one number.
// Form values, alt and title texts and data: URLs (for the base64 spotter) are read too; the
// contents of <style> are not text, and those of <script> are (inline scripts carry keys).
import { StringDecoder } from 'node:string_decoder';
import { Parser } from 'htmlparser2';
import type { ByteSink } from '../decode/byte-sink.js';
import type { TextSink } from '../decode/text-decoders.js';

const INLINE = new Set([
  'a', 'abbr', 'b', 'bdi', 'bdo', 'cite', 'code', 'data', 'del', 'dfn', 'em', 'font', 'i', 'ins', 'kbd', 'mark', 'q', 's', 'samp',
  'small', 'span', 'strong', 'sub', 'sup', 'time', 'u', 'var', 'wbr', 'nobr',
]);
const CELLS = new Set(['td', 'th']);
const TEXT_ATTRIBUTES = new Set(['value', 'alt', 'title', 'placeholder', 'content', 'label', 'aria-label']);

export function htmlText(out: TextSink): ByteSink {
  const decoder = new StringDecoder('utf8');
  let text = '';
  let inStyle = 0;
  const parser = new Parser(
    {
      onopentag(name, attributes) {
        if (name === 'style') inStyle++;
        if (!INLINE.has(name)) text += '\n';
        for (const [attribute, value] of Object.entries(attributes)) {
          if (TEXT_ATTRIBUTES.has(attribute) || ((attribute === 'src' || attribute === 'href') && value.startsWith('data:'))) text += `${value}\n`;
        }
      },
      onclosetag(name) {
        if (name === 'style' && inStyle > 0) inStyle--;
        if (CELLS.has(name)) text += '\t';
        else if (!INLINE.has(name)) text += '\n';
      },
      ontext(data) {
        if (inStyle === 0) text += data;
      },
      // A comment is not shown, but it travels with the page (a form's HTML, a saved page).
      oncomment(data) {
        text += `\n${data}\n`;
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
  );
  const flush = async () => {
    const chunk = text;
    text = '';
    if (chunk.length > 0) await out.write(chunk);
  };
  return {
    async write(chunk) {
      parser.write(decoder.write(chunk));
      await flush();
    },
    async end() {
      parser.write(decoder.end());
      parser.end();
      await flush();
      await out.end();
    },
  };
}
