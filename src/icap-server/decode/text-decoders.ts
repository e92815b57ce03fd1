// Text views handed to the detectors: UTF-8 as it is, application/x-www-form-urlencoded with its
// names and values percent-decoded (WHATWG URL §5.1), and JSON with its string values unescaped
// (RFC 8259 §7), so "4111\u00201111…" or "card=4111%201111…" read as the text a person typed.
// Names and values are separated by newlines, so a match never joins two fields.
import { StringDecoder } from 'node:string_decoder';
import type { ByteSink } from './byte-sink.js';

export interface TextSink {
  write(text: string): void;
  end(): void;
}

export function utf8Text(out: TextSink): ByteSink {
  const decoder = new StringDecoder('utf8');
  return {
    async write(chunk) {
      out.write(decoder.write(chunk));
    },
    async end() {
      out.write(decoder.end());
      out.end();
    },
  };
}

const hex = (c: number) => (c >= 48 && c <= 57 ? c - 48 : c >= 65 && c <= 70 ? c - 55 : c >= 97 && c <= 102 ? c - 87 : -1);

export function formUrlencodedText(out: TextSink): ByteSink {
  const decoder = new StringDecoder('utf8');
  /** A "%" or "%X" cut off at the end of the previous chunk. */
  let carry = Buffer.alloc(0);
  const decode = (input: Buffer): Buffer => {
    const output = Buffer.allocUnsafe(input.length);
    let n = 0;
    let i = 0;
    for (; i < input.length; i++) {
      const c = input[i] as number;
      if (c === 0x25) {
        if (i + 2 >= input.length) break;
        const hi = hex(input[i + 1] as number);
        const lo = hex(input[i + 2] as number);
        if (hi >= 0 && lo >= 0) {
          output[n++] = hi * 16 + lo;
          i += 2;
          continue;
        }
        output[n++] = c;
      } else if (c === 0x2b) output[n++] = 0x20;
      else if (c === 0x26 || c === 0x3d) output[n++] = 0x0a;
      else output[n++] = c;
    }
    carry = Buffer.from(input.subarray(i));
    return output.subarray(0, n);
  };
  return {
    async write(chunk) {
      out.write(decoder.write(decode(carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk)));
    },
    async end() {
      out.write(decoder.write(carry));
      out.write(decoder.end());
      out.end();
    },
  };
}

const STRING_SPECIAL = /["\\]/g;
const JSON_ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/**
 * A streaming JSON lexer that keeps string contents (unescaped) and the text between strings
 * (numbers, literals) with the structural characters turned into newlines. It does not validate:
 * a body that is not JSON still reaches the detectors, almost as it is.
 */
export function jsonText(out: TextSink): ByteSink {
  const decoder = new StringDecoder('utf8');
  let inString = false;
  /** An escape sequence cut off at the end of the previous chunk ("\\", "\\u00"). */
  let carry = '';
  const lex = (text: string): string => {
    let result = '';
    let i = 0;
    while (i < text.length) {
      if (!inString) {
        const quote = text.indexOf('"', i);
        const stop = quote < 0 ? text.length : quote;
        result += text.slice(i, stop).replace(/[{}[\],:]/g, '\n');
        if (quote < 0) return result;
        inString = true;
        i = quote + 1;
        continue;
      }
      STRING_SPECIAL.lastIndex = i;
      const at = STRING_SPECIAL.exec(text)?.index ?? -1;
      if (at < 0) return result + text.slice(i);
      result += text.slice(i, at);
      if (text[at] === '"') {
        result += '\n';
        inString = false;
        i = at + 1;
        continue;
      }
      const kind = text[at + 1];
      if (kind === undefined || (kind === 'u' && at + 6 > text.length)) {
        carry = text.slice(at);
        return result;
      }
      if (kind === 'u') {
        const code = Number.parseInt(text.slice(at + 2, at + 6), 16);
        result += Number.isNaN(code) ? text.slice(at, at + 6) : String.fromCharCode(code);
        i = at + 6;
      } else {
        result += JSON_ESCAPES[kind] ?? kind;
        i = at + 2;
      }
    }
    return result;
  };
  return {
    async write(chunk) {
      const text = carry + decoder.write(chunk);
      carry = '';
      out.write(lex(text));
    },
    async end() {
      const text = carry + decoder.end();
      carry = '';
      const result = lex(text);
      out.write(result + carry);
      out.end();
    },
  };
}
