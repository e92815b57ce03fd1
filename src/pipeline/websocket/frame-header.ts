// RFC 6455 §5.2 base framing, the header only: shared by the frame decoder (which validates) and
// the boundary tracker of uninspected directions (which does not).
//
//   0               1               2               3
//   F R R R opcode  M payload len   extended payload length (16 or 64 bits, if len is 126/127)
//   I S S S (4)     A (7)           ...
//   N V V V         S               masking key (32 bits, if MASK)
//     1 2 3         K

export const Opcode = {
  continuation: 0x0,
  text: 0x1,
  binary: 0x2,
  close: 0x8,
  ping: 0x9,
  pong: 0xa,
} as const;

/** The longest header: 2 + 8 bytes of 64-bit length + 4 bytes of masking key. */
export const MAX_HEADER_BYTES = 14;
/** RFC 6455 §5.5: "All control frames MUST have a payload length of 125 bytes or less". */
export const MAX_CONTROL_PAYLOAD_BYTES = 125;

export interface FrameHeader {
  fin: boolean;
  rsv1: boolean;
  rsv2: boolean;
  rsv3: boolean;
  opcode: number;
  masked: boolean;
  maskKey: Buffer | undefined;
  /** declared payload length (above 2^53 it is approximate: no limit comes near it) */
  payloadLength: number;
  /** RFC 6455 §5.2: "the most significant bit MUST be 0" in a 64-bit length */
  lengthTopBit: boolean;
  headerLength: number;
}

export function isControl(opcode: number): boolean {
  return (opcode & 0x8) !== 0;
}

/** Header length told by its first two bytes. */
export function headerLengthOf(byte1: number): number {
  const len7 = byte1 & 0x7f;
  return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (byte1 & 0x80 ? 4 : 0);
}

/** Parse a complete header (`bytes` holds at least headerLengthOf(bytes[1]) bytes). */
export function parseFrameHeader(bytes: Buffer): FrameHeader {
  const b0 = bytes[0]!;
  const b1 = bytes[1]!;
  const masked = (b1 & 0x80) !== 0;
  const len7 = b1 & 0x7f;
  let payloadLength = len7;
  let lengthTopBit = false;
  let at = 2;
  if (len7 === 126) {
    payloadLength = bytes.readUInt16BE(2);
    at = 4;
  } else if (len7 === 127) {
    const hi = bytes.readUInt32BE(2);
    lengthTopBit = hi >= 0x8000_0000;
    payloadLength = hi * 2 ** 32 + bytes.readUInt32BE(6);
    at = 10;
  }
  return {
    fin: (b0 & 0x80) !== 0,
    rsv1: (b0 & 0x40) !== 0,
    rsv2: (b0 & 0x20) !== 0,
    rsv3: (b0 & 0x10) !== 0,
    opcode: b0 & 0x0f,
    masked,
    maskKey: masked ? Buffer.from(bytes.subarray(at, at + 4)) : undefined,
    payloadLength,
    lengthTopBit,
    headerLength: at + (masked ? 4 : 0),
  };
}

/** XOR with the masking key (RFC 6455 §5.3); `offset` is the position of `data` in the payload. */
export function unmask(data: Buffer, key: Buffer | undefined, offset: number): Buffer {
  const out = Buffer.from(data);
  if (!key) return out;
  for (let i = 0; i < out.length; i++) out[i]! ^= key[(offset + i) & 3]!;
  return out;
}

/**
 * The body of a Close frame (RFC 6455 §5.5.1): empty (no status, reported as 1005), or a 2-byte
 * status code and a UTF-8 reason. A 1-byte body is invalid: undefined.
 */
export function parseClosePayload(payload: Buffer): { code: number; reason: string } | undefined {
  if (payload.length === 0) return { code: 1005, reason: '' };
  if (payload.length === 1) return undefined;
  return { code: payload.readUInt16BE(0), reason: payload.subarray(2).toString('utf8') };
}
