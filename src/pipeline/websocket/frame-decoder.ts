// Incremental RFC 6455 frame decoder, sans-IO: bytes cut at any boundary in, frames out. It holds
// at most one header (14 bytes) and the payload of the one frame it is in, and refuses a frame
// whose declared length is over its limit before reading a byte of it (1009), unless told to
// stream such frames: then they come out in pieces as their bytes arrive and nothing is held.
//
//   header ──(complete, valid)──► payload ──(declared length read)──► header ...
//      └──(invalid)──► failed: every later push returns the same error
import { MAX_CONTROL_PAYLOAD_BYTES, MAX_HEADER_BYTES, headerLengthOf, isControl, Opcode, parseFrameHeader, unmask, type FrameHeader } from './frame-header.js';
import { CloseCode, WebSocketProtocolError } from './protocol-error.js';

/**
 * A frame, or a piece of one when it is streamed. A whole frame has offset 0, last true and
 * payload.length === payloadLength; the raw bytes of a frame's pieces, concatenated, are the
 * frame exactly as received (the first piece carries the header).
 */
export interface WebSocketFrame extends Pick<FrameHeader, 'fin' | 'rsv1' | 'rsv2' | 'rsv3' | 'opcode' | 'masked' | 'payloadLength'> {
  /** unmasked copy (for an unmasked frame it may share memory with raw) */
  payload: Buffer;
  /** the exact bytes as received */
  raw: Buffer;
  /** this piece carries the header: the frame starts here */
  first: boolean;
  /** position of this piece's payload in the frame's payload */
  offset: number;
  /** this piece ends the frame */
  last: boolean;
}

export interface FrameDecoderOptions {
  /** whose frames: a client's MUST be masked, a server's MUST NOT (RFC 6455 §5.1) */
  from: 'client' | 'server';
  /** RSV1 is the "Per-Message Compressed" bit once permessage-deflate is negotiated (RFC 7692 §6) */
  rsv1Allowed: boolean;
  /** data frames declaring more payload are refused with 1009, or streamed (control frames are ≤ 125 bytes) */
  maxFramePayloadBytes: number;
  oversizeFrames?: 'error' | 'stream';
}

export interface DecodeStep {
  frames: WebSocketFrame[];
  /** set once the input broke the protocol; the frames before it are still returned */
  error?: WebSocketProtocolError;
}

interface FrameInProgress {
  head: FrameHeader;
  headerRaw: Buffer;
  /** over maxFramePayloadBytes with oversizeFrames 'stream': handed out piece by piece */
  streamed: boolean;
}

export class FrameDecoder {
  private readonly header = Buffer.alloc(MAX_HEADER_BYTES);
  private headerFill = 0;
  private current: FrameInProgress | undefined;
  private parts: Buffer[] = [];
  private received = 0;
  private failure: WebSocketProtocolError | undefined;

  constructor(private readonly options: FrameDecoderOptions) {}

  /** Bytes held between pushes: a partial header, or the payload read so far of a whole frame. */
  get bufferedBytes(): number {
    return this.headerFill + (this.current && !this.current.streamed ? this.received : 0);
  }

  /** True between frames (nothing of a frame read yet). */
  get atFrameBoundary(): boolean {
    return this.headerFill === 0 && this.current === undefined;
  }

  push(chunk: Buffer): DecodeStep {
    const frames: WebSocketFrame[] = [];
    if (this.failure) return { frames, error: this.failure };
    let i = 0;
    while (i < chunk.length) {
      if (!this.current) {
        const started = this.readHeader(chunk, i);
        i = started.next;
        if (this.failure) return { frames, error: this.failure };
        if (started.frame && (started.frame.head.payloadLength === 0 || started.frame.streamed)) frames.push(this.firstPiece());
        continue;
      }
      const { head, streamed } = this.current;
      const n = Math.min(head.payloadLength - this.received, chunk.length - i);
      const slice = chunk.subarray(i, i + n);
      i += n;
      if (streamed) {
        const raw = Buffer.from(slice);
        frames.push(this.piece(raw, head.masked ? unmask(raw, head.maskKey, this.received) : raw, false, this.received, this.received + n === head.payloadLength));
      } else {
        this.parts.push(slice);
      }
      this.received += n;
      if (this.received === head.payloadLength) {
        if (!streamed) frames.push(this.wholeFrame());
        this.current = undefined;
      }
    }
    return { frames };
  }

  /** Read header bytes from `start`; returns where it stopped and the frame once its header is complete. */
  private readHeader(chunk: Buffer, start: number): { next: number; frame?: FrameInProgress } {
    let i = start;
    const want = this.headerFill < 2 ? 2 : headerLengthOf(this.header[1]!);
    const n = Math.min(want - this.headerFill, chunk.length - i);
    chunk.copy(this.header, this.headerFill, i, i + n);
    this.headerFill += n;
    i += n;
    if (this.headerFill < 2 || this.headerFill < headerLengthOf(this.header[1]!)) return { next: i };
    const head = parseFrameHeader(this.header.subarray(0, this.headerFill));
    const headerRaw = Buffer.from(this.header.subarray(0, this.headerFill));
    this.headerFill = 0;
    const problem = this.validate(head);
    if (problem) {
      this.failure = problem;
      return { next: i };
    }
    const streamed = !isControl(head.opcode) && head.payloadLength > this.options.maxFramePayloadBytes;
    this.current = { head, headerRaw, streamed };
    this.parts = [];
    this.received = 0;
    return { next: i, frame: this.current };
  }

  private validate(head: FrameHeader): WebSocketProtocolError | undefined {
    const violation = (message: string) => new WebSocketProtocolError(CloseCode.protocolError, message);
    // RFC 6455 §5.2: opcodes 0x3-0x7 and 0xB-0xF are reserved
    if ((head.opcode > Opcode.binary && head.opcode < Opcode.close) || head.opcode > Opcode.pong) return violation(`reserved opcode 0x${head.opcode.toString(16)}`);
    // RFC 6455 §5.2: RSV bits MUST be 0 unless an extension defines them; RFC 7692 §6: only RSV1,
    // and only on the first frame of a data message (§6.1: not on control or continuation frames)
    if (head.rsv2 || head.rsv3) return violation('RSV2/RSV3 set without a negotiated extension');
    if (head.rsv1 && !this.options.rsv1Allowed) return violation('RSV1 set without permessage-deflate');
    if (head.rsv1 && (isControl(head.opcode) || head.opcode === Opcode.continuation)) return violation('RSV1 set on a control or continuation frame');
    // RFC 6455 §5.5: control frames are never fragmented and carry at most 125 bytes
    if (isControl(head.opcode) && !head.fin) return violation('fragmented control frame');
    if (isControl(head.opcode) && head.payloadLength > MAX_CONTROL_PAYLOAD_BYTES) return violation(`control frame of ${head.payloadLength} bytes`);
    if (head.lengthTopBit) return violation('64-bit payload length with the most significant bit set');
    // RFC 6455 §5.1: a server closes on an unmasked client frame, a client on a masked server frame
    if (this.options.from === 'client' && !head.masked) return violation('unmasked frame from the client');
    if (this.options.from === 'server' && head.masked) return violation('masked frame from the server');
    if (!isControl(head.opcode) && head.payloadLength > this.options.maxFramePayloadBytes && this.options.oversizeFrames !== 'stream') {
      return new WebSocketProtocolError(CloseCode.messageTooBig, `frame of ${head.payloadLength} bytes over the limit of ${this.options.maxFramePayloadBytes}`);
    }
    return undefined;
  }

  /** The piece emitted at once for an empty frame, or the header of a streamed frame. */
  private firstPiece(): WebSocketFrame {
    const { head, headerRaw } = this.current!;
    const empty = head.payloadLength === 0;
    const piece = this.piece(headerRaw, Buffer.alloc(0), true, 0, empty);
    if (empty) this.current = undefined;
    return piece;
  }

  private wholeFrame(): WebSocketFrame {
    const { head, headerRaw } = this.current!;
    const raw = Buffer.concat([headerRaw, ...this.parts]);
    this.parts = [];
    const data = raw.subarray(head.headerLength);
    return this.piece(raw, head.masked ? unmask(data, head.maskKey, 0) : data, true, 0, true);
  }

  private piece(raw: Buffer, payload: Buffer, first: boolean, offset: number, last: boolean): WebSocketFrame {
    const { head } = this.current!;
    return {
      fin: head.fin,
      rsv1: head.rsv1,
      rsv2: head.rsv2,
      rsv3: head.rsv3,
      opcode: head.opcode,
      masked: head.masked,
      payload,
      raw,
      payloadLength: head.payloadLength,
      first,
      offset,
      last,
    };
  }
}
