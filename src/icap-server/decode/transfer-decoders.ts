// MIME Content-Transfer-Encodings (RFC 2045 §6): base64 (§6.8, line breaks and other characters
// outside the alphabet ignored) and quoted-printable (§6.7, soft line breaks "=" CRLF, and "="
// LF as Unix mail writes it). Both decode as the bytes stream, with a short carry between chunks;
// so does hex, which the base64 spotter finds in text.
import type { ByteSink, DecodeBudget } from './byte-sink.js';

/** A character that neither base64 (either alphabet) nor the line breaks of MIME base64 hold. */
const NOT_BASE64_TEXT = /[^A-Za-z0-9+/=\-_\r\n]/;

/**
 * Base64 as MIME writes it, decoded in four-character groups; the URL-safe alphabet (RFC 4648 §5)
 * too. A chunk holding other characters (RFC 2045 §6.8 says to ignore them) also goes to
 * `leftover` as it stands: text appended to a cut base64 part would otherwise be decoded as
 * base64 into noise.
 */
export function base64Decoder(downstream: ByteSink, budget: DecodeBudget, leftover?: ByteSink): ByteSink {
  let carry = '';
  const decode = async (text: string, final: boolean) => {
    if (leftover !== undefined && NOT_BASE64_TEXT.test(text)) await leftover.write(Buffer.from(text, 'latin1'));
    const clean = carry + text.replace(/[^A-Za-z0-9+/\-_]/g, '');
    const usable = final ? clean.length : clean.length - (clean.length % 4);
    carry = clean.slice(usable);
    if (usable === 0) return;
    const bytes = Buffer.from(clean.slice(0, usable), 'base64');
    if (budget.take(bytes.length)) await downstream.write(bytes);
  };
  return {
    write: (chunk) => decode(chunk.toString('latin1'), false),
    async end() {
      await decode('', true);
      await downstream.end();
      await leftover?.end();
    },
  };
}

/**
 * Hex digits as the base64 spotter finds them in text (a text hex-encoded to pass a filter),
 * decoded in pairs; characters that are no hex digit end nothing, they are skipped.
 */
export function hexDecoder(downstream: ByteSink, budget: DecodeBudget): ByteSink {
  let carry = '';
  const decode = async (text: string, final: boolean) => {
    const clean = carry + text.replace(/[^0-9A-Fa-f]/g, '');
    const usable = clean.length - (clean.length % 2);
    carry = final ? '' : clean.slice(usable);
    if (usable === 0) return;
    const bytes = Buffer.from(clean.slice(0, usable), 'hex');
    if (budget.take(bytes.length)) await downstream.write(bytes);
  };
  return {
    write: (chunk) => decode(chunk.toString('latin1'), false),
    async end() {
      await decode('', true);
      await downstream.end();
    },
  };
}

const hexValue = (c: number) => (c >= 48 && c <= 57 ? c - 48 : c >= 65 && c <= 70 ? c - 55 : c >= 97 && c <= 102 ? c - 87 : -1);

export function quotedPrintableDecoder(downstream: ByteSink, budget: DecodeBudget): ByteSink {
  /** An "=", "=X" or "=\r" cut off at the end of the previous chunk. */
  let carry = Buffer.alloc(0);
  const decode = (input: Buffer, final: boolean): Buffer => {
    const out = Buffer.allocUnsafe(input.length);
    let n = 0;
    let i = 0;
    for (; i < input.length; i++) {
      const c = input[i] as number;
      if (c !== 0x3d) {
        out[n++] = c;
        continue;
      }
      if (i + 2 >= input.length && !final) break;
      const a = input[i + 1];
      const b = input[i + 2];
      if (a === 0x0a) {
        i += 1;
      } else if (a === 0x0d && b === 0x0a) {
        i += 2;
      } else if (a !== undefined && b !== undefined && hexValue(a) >= 0 && hexValue(b) >= 0) {
        out[n++] = hexValue(a) * 16 + hexValue(b);
        i += 2;
      } else {
        // RFC 2045 §6.7 (1): an "=" not followed by two hex digits is kept as it is.
        out[n++] = c;
      }
    }
    carry = Buffer.from(input.subarray(i));
    return out.subarray(0, n);
  };
  const flush = async (bytes: Buffer) => {
    if (bytes.length > 0 && budget.take(bytes.length)) await downstream.write(bytes);
  };
  return {
    write: (chunk) => flush(decode(carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk, false)),
    async end() {
      await flush(decode(carry, true));
      await downstream.end();
    },
  };
}
