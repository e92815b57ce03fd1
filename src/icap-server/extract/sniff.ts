// Which extractor opens a file: magic bytes first (a label cannot hide a zip), then the declared
// media type and the name, then a look at the text itself (a byte-order mark, the NUL pattern of
// UTF-16/32 without one, an HTML or mail head). Only the first SNIFF_BYTES are read.
export const SNIFF_BYTES = 4096;

export type Format =
  | 'zip' | 'gzip' | 'bzip2' | 'xz' | 'tar' | 'pdf' | 'rtf' | 'cfb' | 'encrypted'
  | 'mail' | 'html' | 'xml' | 'json' | 'form' | 'text' | 'media'
  | 'utf-16le' | 'utf-16be' | 'utf-32le' | 'utf-32be';

export interface FileInfo {
  /** The declared media type (Content-Type of the body or MIME part), parameters included. */
  contentType?: string | undefined;
  /** The file name (archive path, MIME filename): a hint when the bytes do not say. */
  name?: string | undefined;
}

const startsWith = (head: Buffer, bytes: readonly number[], at = 0) => {
  for (let i = 0; i < bytes.length; i++) if (head[at + i] !== bytes[i]) return false;
  return true;
};
/** `text` (ASCII) at `at`, compared byte by byte: sniffing runs for every base64 run in text, so it allocates nothing. */
const asciiAt = (head: Buffer, at: number, text: string) => {
  if (head.length < at + text.length) return false;
  for (let i = 0; i < text.length; i++) if (head[at + i] !== text.charCodeAt(i)) return false;
  return true;
};
const ascii = (head: Buffer, from: number, to: number) => head.toString('latin1', from, Math.min(to, head.length));

export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

export function charsetOf(contentType: string | undefined): string | undefined {
  const m = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType ?? '');
  return m?.[1]?.toLowerCase();
}

/** POSIX ustar or GNU magic at 257, or an old-style header whose checksum (at 148) adds up. */
export function isTarHeader(head: Buffer): boolean {
  if (head.length < 512) return false;
  const magic = ascii(head, 257, 263);
  if (magic === 'ustar\u0000' || magic === 'ustar ') return checksumValid(head);
  return head[0] !== 0 && checksumValid(head);
}

function checksumValid(block: Buffer): boolean {
  const field = ascii(block, 148, 156).replace(/[\u0000 ]+$/, '').trim();
  if (!/^[0-7]{1,7}$/.test(field)) return false;
  let sum = 8 * 0x20;
  for (let i = 0; i < 512; i++) if (i < 148 || i >= 156) sum += block[i] as number;
  return sum === Number.parseInt(field, 8);
}

/** UTF-16/32 without a byte-order mark: ASCII-range text leaves NULs in fixed lanes. */
function wideTextLanes(head: Buffer): Format | undefined {
  const n = Math.min(head.length, SNIFF_BYTES) & ~3;
  if (n < 8) return undefined;
  const zeros = [0, 0, 0, 0];
  const lanes = n / 4;
  const mostly = (c: number) => c >= lanes * 0.9;
  // Every wide form needs lanes 1 and 3, or lanes 0 and 2, mostly NUL: once neither pair can get
  // there (binary files, a class file's constant pool), the rest of the head cannot change the answer.
  const reachable = (lane: number, read: number) => mostly(zeros[lane]! + lanes - read / 4);
  for (let i = 0; i < n; i++) {
    if (head[i] === 0) zeros[i & 3]!++;
    if ((i & 63) === 63 && !(reachable(1, i + 1) && reachable(3, i + 1)) && !(reachable(0, i + 1) && reachable(2, i + 1))) return undefined;
  }
  const rarely = (c: number) => c <= lanes * 0.1;
  const [z0, z1, z2, z3] = zeros as [number, number, number, number];
  if (rarely(z0) && mostly(z1) && mostly(z2) && mostly(z3)) return 'utf-32le';
  if (mostly(z0) && mostly(z1) && mostly(z2) && rarely(z3)) return 'utf-32be';
  if (rarely(z0) && rarely(z2) && mostly(z1) && mostly(z3)) return 'utf-16le';
  if (mostly(z0) && mostly(z2) && rarely(z1) && rarely(z3)) return 'utf-16be';
  return undefined;
}

/** An RFC 5322 header block: a field on the first line, and fields only a message has. */
function looksLikeMail(head: Buffer): boolean {
  const text = ascii(head, 0, SNIFF_BYTES);
  if (!/^[!-9;-~]+:[ \t]/.test(text)) return false;
  const block = text.split(/\r?\n\r?\n/, 1)[0] ?? '';
  const fields = new Set((block.match(/^[A-Za-z-]+(?=:)/gm) ?? []).map((f) => f.toLowerCase()));
  const mailOnly = ['received', 'return-path', 'message-id', 'mime-version', 'delivered-to', 'x-mailer', 'dkim-signature'];
  return mailOnly.some((f) => fields.has(f)) && (fields.has('from') || fields.has('to') || fields.has('subject') || fields.has('date'));
}

/** Pictures, audio, video and web fonts: compressed binary with no text to read. */
function isMedia(head: Buffer): boolean {
  return (
    startsWith(head, PNG) ||
    startsWith(head, JPEG) ||
    asciiAt(head, 0, 'GIF8') ||
    (asciiAt(head, 0, 'RIFF') && (asciiAt(head, 8, 'WEBP') || asciiAt(head, 8, 'WAVE') || asciiAt(head, 8, 'AVI '))) ||
    asciiAt(head, 4, 'ftyp') || // MP4, MOV, HEIC
    asciiAt(head, 0, 'ID3') ||
    asciiAt(head, 0, 'OggS') ||
    asciiAt(head, 0, 'wOFF') ||
    asciiAt(head, 0, 'wOF2')
  );
}

const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG = [0xff, 0xd8, 0xff];
const ZIP = [0x50, 0x4b, 0x03, 0x04];
const ZIP_EMPTY = [0x50, 0x4b, 0x05, 0x06];
const GZIP = [0x1f, 0x8b];
const BZIP2 = [0x42, 0x5a, 0x68];
const XZ = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
const CFB = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];
const UTF32LE_BOM = [0xff, 0xfe, 0x00, 0x00];
const UTF32BE_BOM = [0x00, 0x00, 0xfe, 0xff];
const UTF16LE_BOM = [0xff, 0xfe];
const UTF16BE_BOM = [0xfe, 0xff];

/** First bytes of the magic numbers that magicFormat looks for at offset 0. */
const MAGIC_FIRST_BYTES = new Uint8Array(256);
for (const magic of [PNG, JPEG, ZIP, ZIP_EMPTY, GZIP, BZIP2, XZ, CFB, UTF32LE_BOM, UTF32BE_BOM, UTF16LE_BOM, UTF16BE_BOM]) MAGIC_FIRST_BYTES[magic[0] as number] = 1;
for (const text of ['GIF8', 'RIFF', 'ID3', 'OggS', 'wOFF', 'wOF2', '{\\rtf', '-----BEGIN PGP MESSAGE-----', 'age-encryption.org/v1\n']) MAGIC_FIRST_BYTES[text.charCodeAt(0)] = 1;

/** True when `byte` begins one of the magic numbers magicFormat looks for at offset 0. */
export const startsMagic = (byte: number): boolean => MAGIC_FIRST_BYTES[byte] === 1;

/**
 * magicFormat for a head whose first byte starts none of its offset-0 magic numbers: the base64
 * spotter judges every long base64 run in text, most of them random bytes.
 */
function unanchoredMagicFormat(head: Buffer): Format | undefined {
  if (asciiAt(head, 4, 'ftyp')) return 'media';
  if (pdfHeader(head)) return 'pdf';
  return isTarHeader(head) ? 'tar' : undefined;
}

/** PDF 32000-1 §7.5.2: readers accept the header within the first 1024 bytes (a loop: Buffer#indexOf costs a native call). */
function pdfHeader(head: Buffer): boolean {
  const last = Math.min(head.length - 5, 1023);
  for (let i = 0; i <= last; i++) if (head[i] === 0x25 && asciiAt(head, i, '%PDF-')) return true;
  return false;
}

/**
 * The format the bytes alone say (magic numbers, byte-order marks), before any declared type or
 * name is read; undefined when they say nothing.
 */
function magicFormat(head: Buffer): Format | undefined {
  if (isMedia(head)) return 'media';
  if (startsWith(head, ZIP) || startsWith(head, ZIP_EMPTY)) return 'zip';
  if (startsWith(head, GZIP)) return 'gzip';
  if (startsWith(head, BZIP2) && head[3] !== undefined && head[3] >= 0x31 && head[3] <= 0x39) return 'bzip2';
  if (startsWith(head, XZ)) return 'xz';
  if (startsWith(head, CFB)) return 'cfb';
  if (pdfHeader(head)) return 'pdf';
  if (asciiAt(head, 0, '{\\rtf')) return 'rtf';
  if (isTarHeader(head)) return 'tar';
  if (asciiAt(head, 0, '-----BEGIN PGP MESSAGE-----') || asciiAt(head, 0, 'age-encryption.org/v1\n')) return 'encrypted';
  if (startsWith(head, UTF32LE_BOM)) return 'utf-32le';
  if (startsWith(head, UTF32BE_BOM)) return 'utf-32be';
  if (startsWith(head, UTF16LE_BOM)) return 'utf-16le';
  if (startsWith(head, UTF16BE_BOM)) return 'utf-16be';
  return undefined;
}

/** What the bytes say (magicFormat), else a declared UTF-16/32 charset, else UTF-16/32 by its NUL lanes. */
export function binaryFormat(head: Buffer, info: FileInfo): Format | undefined {
  const magic = head.length > 0 && MAGIC_FIRST_BYTES[head[0] as number] === 0 ? unanchoredMagicFormat(head) : magicFormat(head);
  if (magic !== undefined) return magic;
  const charset = info.contentType === undefined ? undefined : charsetOf(info.contentType);
  if (charset === 'utf-16le' || charset === 'utf-16be' || charset === 'utf-32le' || charset === 'utf-32be') return charset;
  return head.indexOf(0) < 0 ? undefined : wideTextLanes(head);
}

export function sniffFormat(head: Buffer, info: FileInfo): Format {
  const binary = binaryFormat(head, info);
  if (binary !== undefined) return binary;
  const declared = mediaType(info.contentType);
  const name = (info.name ?? '').toLowerCase();
  if (declared === 'message/rfc822' || declared === 'message/global' || name.endsWith('.eml') || looksLikeMail(head)) return 'mail';
  if (declared === 'application/x-www-form-urlencoded') return 'form';
  if (declared === 'application/json' || declared.endsWith('+json') || name.endsWith('.json')) return 'json';
  const start = ascii(head, 0, 512).replace(/^\uFEFF|^\u00EF\u00BB\u00BF/, '').trimStart().slice(0, 64).toLowerCase();
  if (declared === 'text/html' || declared === 'application/xhtml+xml' || /\.x?html?$/.test(name) || /^<(?:!doctype html|html|head|body)[\s>]/.test(start)) return 'html';
  if (declared.endsWith('/xml') || declared.endsWith('+xml') || /\.(?:xml|rels|vml|svg)$/.test(name) || start.startsWith('<?xml')) return 'xml';
  if (/^[{[]\s*["{[\]}]/.test(start)) return 'json';
  return 'text';
}
