// Frames the proxy writes itself (RFC 6455 §5.2): its own Close frames, and control frames it
// re-encodes. Towards the server every frame is masked with a fresh random key (§5.3: "the
// masking key MUST be ... unpredictable"); towards the client never. Values that cannot be
// encoded throw TypeError (our defect, not the peer's).
import crypto from 'node:crypto';
import { isControl, MAX_CONTROL_PAYLOAD_BYTES, Opcode, unmask } from './frame-header.js';

export interface FrameSpec {
  opcode: number;
  payload?: Buffer;
  fin?: boolean;
  rsv1?: boolean;
  /** true: a random key; a Buffer: that 4-byte key (tests) */
  mask?: boolean | Buffer;
}

/** RFC 6455 §5.5.1: a Close body is a 2-byte code and at most 123 bytes of reason. */
const MAX_CLOSE_REASON_BYTES = MAX_CONTROL_PAYLOAD_BYTES - 2;

export function encodeFrame(spec: FrameSpec): Buffer {
  const payload = spec.payload ?? Buffer.alloc(0);
  const fin = spec.fin ?? true;
  if (spec.opcode < 0 || spec.opcode > 0xf) throw new TypeError(`opcode ${spec.opcode} out of range`);
  if (isControl(spec.opcode) && (!fin || payload.length > MAX_CONTROL_PAYLOAD_BYTES)) throw new TypeError('control frames are final and carry at most 125 bytes');
  const key = spec.mask === true ? crypto.randomBytes(4) : spec.mask || undefined;
  if (key && key.length !== 4) throw new TypeError('a masking key is 4 bytes');
  const len = payload.length;
  const extended = len < 126 ? 0 : len < 0x10000 ? 2 : 8;
  const head = Buffer.alloc(2 + extended + (key ? 4 : 0));
  head[0] = (fin ? 0x80 : 0) | (spec.rsv1 ? 0x40 : 0) | spec.opcode;
  head[1] = (key ? 0x80 : 0) | (extended === 0 ? len : extended === 2 ? 126 : 127);
  if (extended === 2) head.writeUInt16BE(len, 2);
  if (extended === 8) head.writeBigUInt64BE(BigInt(len), 2);
  if (key) key.copy(head, 2 + extended);
  // unmask() is its own inverse: XOR with the key masks as well
  return Buffer.concat([head, key ? unmask(payload, key, 0) : payload]);
}

/** A Close frame with a status code and a reason cut to fit (at a UTF-8 character boundary). */
export function encodeCloseFrame(code: number, reason: string, mask: boolean): Buffer {
  if (!Number.isInteger(code) || code < 1000 || code > 4999) throw new TypeError(`close code ${code} out of range`);
  let text = Buffer.from(reason, 'utf8');
  if (text.length > MAX_CLOSE_REASON_BYTES) {
    let end = MAX_CLOSE_REASON_BYTES;
    while (end > 0 && (text[end]! & 0xc0) === 0x80) end--;
    text = text.subarray(0, end);
  }
  const body = Buffer.alloc(2 + text.length);
  body.writeUInt16BE(code, 0);
  text.copy(body, 2);
  return encodeFrame({ opcode: Opcode.close, payload: body, mask });
}
