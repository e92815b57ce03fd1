// The fixed records of a zip archive (PKWARE APPNOTE 6.3.10 §4.3), parsed from the head of a
// buffer with no I/O: each parser says how long its record is, 'wait' when the buffer does not hold
// all of it yet, or 'invalid' when its fields are impossible (then it is not a record but bytes the
// reader cannot account for). Every length a record declares is bounded (at most three 16-bit
// lengths), so waiting for a whole record buffers at most about 192 KiB.

export const LOCAL_HEADER = 0x04034b50;
export const CENTRAL_HEADER = 0x02014b50;
export const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const ZIP64_END = 0x06064b50;
const ZIP64_LOCATOR = 0x07064b50;
const DIGITAL_SIGNATURE = 0x05054b50;
const DATA_DESCRIPTOR = 0x08074b50;
export const LOCAL_SIGNATURE = Buffer.from([0x50, 0x4b, 0x03, 0x04]);

/** Methods of §4.4.5; a header naming another (or needing a version past 6.3) is not a header. */
const METHODS = new Set([0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 12, 14, 16, 18, 19, 93, 94, 95, 96, 97, 98, 99]);

/**
 * Extra fields (§4.5) whose contents are numbers, with the most bytes each may hold: zip64 sizes
 * (§4.5.3), NTFS times (§4.5.5), extended timestamp and Info-ZIP Unix ids (Info-ZIP extra.fld),
 * WinZip AES (AE-x spec), the JAR marker. A writer puts different numbers in a local header and in
 * its central record; any other field, or one longer than this, can carry whatever its writer
 * likes, and is the same text in both.
 */
const NUMERIC_FIELDS = new Map([
  [0x0001, 28],
  [0x000a, 36],
  [0x5455, 13],
  [0x7875, 20],
  [0x9901, 7],
  [0xcafe, 0],
]);

export interface LocalHeader {
  /** Bytes of the header with its name and extra field. */
  length: number;
  name: Buffer;
  /**
   * The header after its signature: numbers, name and extra field. Scanned whole, numbers too:
   * a header that a cut archive begins takes the text appended after the cut as its fields.
   */
  record: Buffer;
  /** The name and the extra fields that are not numbers (NUMERIC_FIELDS): what a central record repeats. */
  text: Buffer;
  flags: number;
  crc: number;
  method: number;
  /** Compressed bytes, undefined when a data descriptor (flag bit 3, §4.3.9) gives them after the data. */
  compressed: number | undefined;
  /** The uncompressed size the header declares (0 with a data descriptor). */
  size: number;
  /** Sizes came from a zip64 field: a data descriptor then has 8-byte sizes (§4.3.9.2). */
  zip64: boolean;
}

/** §4.3.7 local file header. */
export function localHeader(buf: Buffer): LocalHeader | 'wait' | 'invalid' {
  if (buf.length < 30) return 'wait';
  if ((buf[4] as number) > 63 || buf[5] !== 0 || !METHODS.has(buf.readUInt16LE(8))) return 'invalid';
  const nameLength = buf.readUInt16LE(26);
  const length = 30 + nameLength + buf.readUInt16LE(28);
  if (buf.length < length) return 'wait';
  const flags = buf.readUInt16LE(6);
  let compressed = buf.readUInt32LE(18);
  let size = buf.readUInt32LE(22);
  const name = buf.subarray(30, 30 + nameLength);
  const extra = buf.subarray(30 + nameLength, length);
  const zip64 = zip64Field(extra);
  // §4.5.3: in a local header the zip64 field holds the original size, then the compressed size.
  if (zip64 !== undefined && zip64.length >= 16) {
    if (size === 0xffffffff) size = Number(zip64.readBigUInt64LE(0));
    if (compressed === 0xffffffff) compressed = Number(zip64.readBigUInt64LE(8));
  }
  const known = (flags & 0x08) === 0 || compressed !== 0;
  return { length, name, record: buf.subarray(4, length), text: withExtraText(name, extra), flags, crc: buf.readUInt32LE(14), method: buf.readUInt16LE(8), compressed: known ? compressed : undefined, size, zip64: zip64 !== undefined && zip64.length >= 16 };
}

export interface CentralRecord {
  length: number;
  /** As in LocalHeader, the comment apart. */
  record: Buffer;
  text: Buffer;
  comment: Buffer;
}

/** §4.3.12 central directory file header. */
export function centralRecord(buf: Buffer): CentralRecord | 'wait' | 'invalid' {
  if (buf.length < 46) return 'wait';
  if ((buf[6] as number) > 63 || buf[7] !== 0 || !METHODS.has(buf.readUInt16LE(10))) return 'invalid';
  const nameEnd = 46 + buf.readUInt16LE(28);
  const extraEnd = nameEnd + buf.readUInt16LE(30);
  const length = extraEnd + buf.readUInt16LE(32);
  if (buf.length < length) return 'wait';
  const name = buf.subarray(46, nameEnd);
  return { length, record: buf.subarray(4, extraEnd), text: withExtraText(name, buf.subarray(nameEnd, extraEnd)), comment: buf.subarray(extraEnd, length) };
}

/**
 * The records between the central directory and its end record, all numbers: §4.3.14 zip64 end of
 * central directory (without the extensible data sector, which only PKWARE's strong encryption
 * writes), §4.3.15 its locator, §4.3.13 digital signature. The end of central directory record
 * (§4.3.16) is not among them: the reader scans it, its comment and what follows as text.
 */
export function directoryEndRecord(buf: Buffer): number | 'wait' | 'invalid' {
  const signature = buf.readUInt32LE(0);
  if (signature === ZIP64_LOCATOR) return buf.length < 20 ? 'wait' : 20;
  if (signature === DIGITAL_SIGNATURE) return buf.length < 6 ? 'wait' : 6 + buf.readUInt16LE(4);
  if (signature !== ZIP64_END) return 'invalid';
  if (buf.length < 12) return 'wait';
  return buf.readBigUInt64LE(4) === 44n ? 56 : 'invalid';
}

/**
 * §4.3.9 data descriptor: an optional signature, the CRC, then the sizes (8 bytes each after a
 * zip64 header). It must repeat the compressed size the reader counted: twelve bytes that do not
 * are not a descriptor (they could be anything an uploader put there).
 */
export function descriptorLength(buf: Buffer, zip64: boolean, compressed: number): number | 'wait' | 'invalid' {
  const sizes = zip64 ? 16 : 8;
  const signed = buf.length >= 4 && buf.readUInt32LE(0) === DATA_DESCRIPTOR;
  for (const start of signed ? [4, 0] : [0]) {
    if (buf.length < start + 4 + sizes) return 'wait';
    const declared = zip64 ? Number(buf.readBigUInt64LE(start + 4)) : buf.readUInt32LE(start + 4);
    if (declared === (zip64 ? compressed : compressed % 2 ** 32)) return start + 4 + sizes;
  }
  return 'invalid';
}

function zip64Field(extra: Buffer): Buffer | undefined {
  for (let at = 0; at + 4 <= extra.length; at += 4 + extra.readUInt16LE(at + 2)) {
    if (extra.readUInt16LE(at) === 0x0001) return extra.subarray(at + 4, Math.min(extra.length, at + 4 + extra.readUInt16LE(at + 2)));
  }
  return undefined;
}

const NEWLINE = Buffer.from('\n');

/** `name`, then (a line each) the bytes of `extra` that are not a numeric field of NUMERIC_FIELDS. */
function withExtraText(name: Buffer, extra: Buffer): Buffer {
  const parts = [name];
  let at = 0;
  while (at + 4 <= extra.length) {
    const size = extra.readUInt16LE(at + 2);
    const max = NUMERIC_FIELDS.get(extra.readUInt16LE(at));
    if (at + 4 + size > extra.length) break;
    if (max === undefined || size > max) parts.push(NEWLINE, extra.subarray(at + 4, at + 4 + size));
    at += 4 + size;
  }
  if (at < extra.length) parts.push(NEWLINE, extra.subarray(at));
  return parts.length === 1 ? name : Buffer.concat(parts);
}
