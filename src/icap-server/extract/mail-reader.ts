// Internet mail (RFC 5322, MIME RFC 2045-2049): the header block is unfolded, its encoded words
// decoded (RFC 2047) and scanned as text (subjects and names leak too); the body goes through the
// same transfer decoding as an HTTP body (multipart, base64, quoted-printable), so attachments are
// files of their own, opened by type, and message/rfc822 parts are read as mail again. Mail saved
// on Unix ends its lines with LF alone: the body is then read with CRLF restored, as MIME expects.
import type { ByteSink } from '../decode/byte-sink.js';
import type { Extraction } from '../decode/extraction.js';

/** A header block larger than this is not a mail header: the whole message is read as text. */
const MAX_HEADER_BYTES = 256 * 1024;

function decodeWord(charset: string, encoding: string, payload: string): string {
  const bytes =
    encoding.toUpperCase() === 'B'
      ? Buffer.from(payload, 'base64')
      : Buffer.from(payload.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16))), 'latin1');
  try {
    return new TextDecoder(charset.split('*')[0] ?? 'utf-8').decode(bytes);
  } catch {
    return bytes.toString('utf8');
  }
}

/** RFC 2047 §6.2: encoded words decoded, the white space between two adjacent ones dropped. */
export function decodeEncodedWords(value: string): string {
  return value
    .replace(/(\?=)\s+(?==\?)/g, '$1')
    .replace(/=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g, (_, charset: string, encoding: string, payload: string) => decodeWord(charset, encoding, payload));
}

export interface MailHeaders {
  fields: Map<string, string>;
  /** The header block as text: unfolded, encoded words decoded, lines that are no field kept as they are. */
  text: string;
}

export function parseMailHeaders(block: string): MailHeaders {
  const fields = new Map<string, string>();
  const lines: string[] = [];
  // RFC 5322 §2.2.3: a line that starts with white space continues the field before it.
  for (const line of block.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && lines.length > 0) lines[lines.length - 1] += ` ${line.trim()}`;
    else lines.push(line);
  }
  const text: string[] = [];
  for (const line of lines) {
    const colon = line.indexOf(':');
    // A line that is no field is damage (or a body with no blank line before it): still its text.
    if (colon <= 0) {
      if (line.trim() !== '') text.push(line);
      continue;
    }
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = decodeEncodedWords(line.slice(colon + 1).trim());
    if (!fields.has(name)) fields.set(name, value);
    text.push(`${line.slice(0, colon)}: ${value}`);
  }
  return { fields, text: `${text.join('\n')}\n` };
}

/** Bare LF line ends turned into CRLF (a CR already there is kept). */
function crlfRestored(downstream: ByteSink): ByteSink {
  let lastWasCr = false;
  return {
    async write(chunk) {
      const parts: Buffer[] = [];
      let from = 0;
      for (let at = chunk.indexOf(0x0a); at >= 0; at = chunk.indexOf(0x0a, at + 1)) {
        const before = at > 0 ? chunk[at - 1] : lastWasCr ? 0x0d : undefined;
        if (before === 0x0d) continue;
        parts.push(chunk.subarray(from, at), CRLF);
        from = at + 1;
      }
      parts.push(chunk.subarray(from));
      lastWasCr = chunk[chunk.length - 1] === 0x0d;
      await downstream.write(parts.length === 1 ? chunk : Buffer.concat(parts));
    },
    end: () => downstream.end(),
  };
}
const CRLF = Buffer.from('\r\n');

export function mailReader(ctx: Extraction, depth: number): ByteSink {
  let head: Buffer = Buffer.alloc(0);
  let body: ByteSink | undefined;

  const start = async (end: number, separator: number): Promise<void> => {
    const block = head.toString('latin1', 0, end);
    const rest = head.subarray(end + separator);
    head = Buffer.alloc(0);
    const headers = parseMailHeaders(Buffer.from(block, 'latin1').toString('utf8'));
    const text = ctx.text(depth + 1);
    await text.write(headers.text);
    await text.end();
    const content = ctx.transfer(
      {
        contentType: headers.fields.get('content-type') ?? 'text/plain',
        transferEncoding: headers.fields.get('content-transfer-encoding'),
      },
      depth + 1,
    );
    const unixLines = !block.includes('\r\n');
    body = unixLines ? crlfRestored(content) : content;
    if (rest.length > 0) await body.write(rest);
  };

  const tryStart = async (final: boolean): Promise<void> => {
    const crlf = head.indexOf('\r\n\r\n');
    const lf = head.indexOf('\n\n');
    if (crlf >= 0 && (lf < 0 || crlf < lf)) return start(crlf, 4);
    if (lf >= 0) return start(lf, 2);
    if (final || head.length > MAX_HEADER_BYTES) {
      // No end of the header block: all of it is read as headers and text.
      await start(head.length, 0);
    }
  };

  return {
    async write(chunk) {
      if (body !== undefined) return body.write(chunk);
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      await tryStart(false);
    },
    async end() {
      if (body === undefined) await tryStart(true);
      await body?.end();
    },
  };
}
