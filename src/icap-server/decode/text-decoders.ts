// Text views handed to the detectors: UTF-8 as it is, application/x-www-form-urlencoded with its
// names and values percent-decoded (WHATWG URL §5.1), and JSON with its string values unescaped
// (RFC 8259 §7), so "4111\u00201111…" or "card=4111%201111…" read as the text a person typed.
// Names and values are separated by newlines, so a match never joins two fields. Text in another
// declared charset is read through TextDecoder (WHATWG Encoding); UTF-16 and UTF-32 are turned
// into UTF-8 bytes, so the file is sniffed again as the text it is (HTML, JSON, mail in UTF-16).
import { StringDecoder } from 'node:string_decoder';
import type { ByteSink } from './byte-sink.js';

/** Where decoded text goes: the detectors' TextScanner, possibly behind the base64 spotter. */
export interface TextSink {
  write(text: string): void | Promise<void>;
  end(): void | Promise<void>;
  /**
   * Only the ASCII characters must be right: no text detector reads this text, only the base64
   * spotter, whose runs are ASCII (the AV service). Bytes are then read as Latin-1, one character
   * each, at the cost of a copy: every byte of a multi-byte UTF-8 sequence is 0x80 or more, so it
   * ends a run where the character it encodes would, and class files, which are not UTF-8, no
   * longer cost V8's invalid-UTF-8 path (about 15 ns a byte).
   */
  readonly asciiOnly?: boolean;
}

/** The decoder of UTF-8 bytes for `out`: Latin-1 when only its ASCII characters matter. */
function utf8Decoder(out: TextSink): { write(chunk: Buffer): string; end(): string } {
  return out.asciiOnly === true ? { write: (chunk) => chunk.toString('latin1'), end: () => '' } : new StringDecoder('utf8');
}

export function utf8Text(out: TextSink): ByteSink {
  const decoder = utf8Decoder(out);
  return {
    async write(chunk) {
      await out.write(decoder.write(chunk));
    },
    async end() {
      await out.write(decoder.end());
      await out.end();
    },
  };
}

const UTF8_LABELS = new Set(['utf-8', 'utf8', 'us-ascii', 'ascii', 'unicode-1-1-utf-8']);

/** Text in `charset` (windows-1252, iso-8859-x, shift_jis…); UTF-8 when the label is unknown. */
export function charsetText(out: TextSink, charset: string | undefined): ByteSink {
  let decoder: InstanceType<typeof TextDecoder> | undefined;
  try {
    if (charset !== undefined && !UTF8_LABELS.has(charset)) decoder = new TextDecoder(charset);
  } catch {
    decoder = undefined;
  }
  if (decoder === undefined) return utf8Text(out);
  const text = decoder;
  return {
    async write(chunk) {
      await out.write(text.decode(chunk, { stream: true }));
    },
    async end() {
      await out.write(text.decode());
      await out.end();
    },
  };
}

export type WideEncoding = 'utf-16le' | 'utf-16be' | 'utf-32le' | 'utf-32be';

/** UTF-16/32 (with or without a byte-order mark) re-encoded as UTF-8 bytes. */
export function wideToUtf8(encoding: WideEncoding, downstream: ByteSink): ByteSink {
  if (encoding === 'utf-16le' || encoding === 'utf-16be') {
    const decoder = new TextDecoder(encoding);
    return {
      write: (chunk) => downstream.write(Buffer.from(decoder.decode(chunk, { stream: true }), 'utf8')),
      async end() {
        const rest = decoder.decode();
        if (rest !== '') await downstream.write(Buffer.from(rest, 'utf8'));
        await downstream.end();
      },
    };
  }
  // WHATWG TextDecoder has no UTF-32: four bytes per code point, U+FFFD for what is not one.
  const littleEndian = encoding === 'utf-32le';
  let carry = Buffer.alloc(0);
  let first = true;
  const decode = (bytes: Buffer): string => {
    const usable = bytes.length & ~3;
    const points: number[] = [];
    for (let i = 0; i < usable; i += 4) {
      const cp = littleEndian ? bytes.readUInt32LE(i) : bytes.readUInt32BE(i);
      if (first && cp === 0xfeff) {
        first = false;
        continue;
      }
      first = false;
      points.push(cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff) ? cp : 0xfffd);
    }
    carry = Buffer.from(bytes.subarray(usable));
    let text = '';
    for (let i = 0; i < points.length; i += 4096) text += String.fromCodePoint(...points.slice(i, i + 4096));
    return text;
  };
  return {
    write: (chunk) => downstream.write(Buffer.from(decode(carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk), 'utf8')),
    async end() {
      if (carry.length > 0) await downstream.write(Buffer.from('\uFFFD', 'utf8'));
      await downstream.end();
    },
  };
}

const hex = (c: number) => (c >= 48 && c <= 57 ? c - 48 : c >= 65 && c <= 70 ? c - 55 : c >= 97 && c <= 102 ? c - 87 : -1);

export function formUrlencodedText(out: TextSink): ByteSink {
  const decoder = utf8Decoder(out);
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
      await out.write(decoder.write(decode(carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk)));
    },
    async end() {
      await out.write(decoder.write(carry) + decoder.end());
      await out.end();
    },
  };
}

const JSON_ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
const STRUCTURAL = /[{}[\],:]/g;
const structural = (c: string) => (c === ':' ? ': ' : '\n');
/** Text between strings this short is rewritten a character at a time (most is `","` or `":"`). */
const SHORT_GAP = 8;

/** `{ } [ ] ,` become newlines and `:` a colon and a space, in text[from, to) (outside strings). */
function betweenStrings(text: string, from: number, to: number): string {
  if (to - from > SHORT_GAP) return text.slice(from, to).replace(STRUCTURAL, structural);
  let out = '';
  for (let k = from; k < to; k++) {
    const c = text[k] as string;
    out += c === ':' ? ': ' : c === ',' || c === '{' || c === '}' || c === '[' || c === ']' ? '\n' : c;
  }
  return out;
}

/**
 * A streaming JSON lexer that keeps string contents (unescaped) and the text between strings
 * (numbers, literals); a member reads `name: value` on one line (a keyword beside its value is
 * supporting evidence), and the other structural characters become newlines, so two values never
 * join into one number. It does not validate: a body that is not JSON still reaches the
 * detectors, almost as it is. String ends and escapes are found with indexOf (the next backslash
 * is remembered, so a chunk without one is searched once): a regular expression exec per string
 * and a replace with a callback per gap were a tenth of a JSON scan.
 */
export function jsonText(out: TextSink): ByteSink {
  const decoder = utf8Decoder(out);
  let inString = false;
  /** An escape sequence cut off at the end of the previous chunk ("\\", "\\u00"). */
  let carry = '';
  const lex = (text: string): string => {
    let result = '';
    let i = 0;
    let backslash = -1;
    while (i < text.length) {
      if (!inString) {
        const quote = text.indexOf('"', i);
        const stop = quote < 0 ? text.length : quote;
        result += betweenStrings(text, i, stop);
        if (quote < 0) return result;
        inString = true;
        i = quote + 1;
        continue;
      }
      if (backslash < i) {
        backslash = text.indexOf('\\', i);
        if (backslash < 0) backslash = Number.POSITIVE_INFINITY;
      }
      const quote = text.indexOf('"', i);
      const at = quote >= 0 && quote < backslash ? quote : backslash === Number.POSITIVE_INFINITY ? -1 : backslash;
      if (at < 0) return result + text.slice(i);
      result += text.slice(i, at);
      if (at === quote) {
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
      await out.write(lex(text));
    },
    async end() {
      const text = carry + decoder.end();
      carry = '';
      const result = lex(text);
      await out.write(result + carry);
      await out.end();
    },
  };
}
