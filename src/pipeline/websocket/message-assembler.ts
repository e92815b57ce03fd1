// Messages from frames (RFC 6455 §5.4): a text or binary frame opens a message, continuation frames
// carry it on, FIN closes it; control frames may come between the fragments. It follows frames and
// streamed pieces alike and holds no payload: the relay decides what to keep.
//
//   idle ──text/binary──► open ──continuation…──► (FIN) idle
//    │ continuation: 1002            │ text/binary: 1002
//    └──── control frames pass in either state ────┘
import type { WebSocketFrame } from './frame-decoder.js';
import { isControl, Opcode } from './frame-header.js';
import { CloseCode, WebSocketProtocolError } from './protocol-error.js';

export interface MessageHead {
  kind: 'text' | 'binary';
  /** RSV1 on the first frame: RFC 7692 §6 "Per-Message Compressed" */
  compressed: boolean;
  /** 0 for the first message of this direction */
  index: number;
}

export type AssemblerStep =
  | { type: 'control'; frame: WebSocketFrame }
  | {
      type: 'data';
      frame: WebSocketFrame;
      message: MessageHead;
      /** the first piece of the message */
      first: boolean;
      /** the piece that completes the message */
      last: boolean;
      /** payload bytes of the message so far, this piece included, as on the wire */
      sizeBytes: number;
    }
  | { type: 'error'; error: WebSocketProtocolError };

export class MessageAssembler {
  private open: MessageHead | undefined;
  private size = 0;
  private count = 0;

  /** The message being assembled, if one is open. */
  get current(): MessageHead | undefined {
    return this.open;
  }

  push(frame: WebSocketFrame): AssemblerStep {
    if (isControl(frame.opcode)) return { type: 'control', frame };
    let first = false;
    if (frame.first && frame.opcode === Opcode.continuation && !this.open) return this.fail('continuation frame without a message to continue');
    if (frame.first && frame.opcode !== Opcode.continuation) {
      if (this.open) return this.fail('new data frame while a fragmented message is open');
      this.open = { kind: frame.opcode === Opcode.text ? 'text' : 'binary', compressed: frame.rsv1, index: this.count++ };
      this.size = 0;
      first = true;
    }
    const message = this.open!;
    this.size += frame.payload.length;
    const last = frame.fin && frame.last;
    if (last) this.open = undefined;
    return { type: 'data', frame, message, first, last, sizeBytes: this.size };
  }

  private fail(message: string): AssemblerStep {
    return { type: 'error', error: new WebSocketProtocolError(CloseCode.protocolError, message) };
  }
}
