// Follows the frames of a direction that is relayed raw (not inspected) without holding or
// checking them: the relay needs to know whether the bytes it forwarded so far end on a frame
// boundary before it writes a Close frame of its own into that stream, and which Close frame an
// endpoint sent, to report it. Holds at most one header and one Close body (≤ 125 bytes).
import { MAX_HEADER_BYTES, headerLengthOf, Opcode, parseClosePayload, parseFrameHeader, unmask, type FrameHeader } from './frame-header.js';
import { CloseCode } from './protocol-error.js';

export class FrameBoundaryTracker {
  private readonly header = Buffer.alloc(MAX_HEADER_BYTES);
  private headerFill = 0;
  private current: FrameHeader | undefined;
  private remaining = 0;
  private closeBody: Buffer[] = [];

  /** The bytes pushed so far end exactly at the end of a frame. */
  get atFrameBoundary(): boolean {
    return this.headerFill === 0 && this.current === undefined;
  }

  /** Feed forwarded bytes; returns the status code of each Close frame they complete (1005 for none, 1002 for a 1-byte body). */
  push(chunk: Buffer): number[] {
    const closes: number[] = [];
    let i = 0;
    while (i < chunk.length) {
      if (!this.current) {
        const want = this.headerFill < 2 ? 2 : headerLengthOf(this.header[1]!);
        const n = Math.min(want - this.headerFill, chunk.length - i);
        chunk.copy(this.header, this.headerFill, i, i + n);
        this.headerFill += n;
        i += n;
        if (this.headerFill < 2 || this.headerFill < headerLengthOf(this.header[1]!)) continue;
        this.current = parseFrameHeader(this.header.subarray(0, this.headerFill));
        this.headerFill = 0;
        this.remaining = this.current.payloadLength;
        this.closeBody = [];
      } else {
        const n = Math.min(this.remaining, chunk.length - i);
        if (this.current.opcode === Opcode.close) this.closeBody.push(chunk.subarray(i, i + n));
        this.remaining -= n;
        i += n;
      }
      if (this.current && this.remaining === 0) {
        if (this.current.opcode === Opcode.close) {
          const body = unmask(Buffer.concat(this.closeBody), this.current.maskKey, 0);
          closes.push(parseClosePayload(body)?.code ?? CloseCode.protocolError);
        }
        this.current = undefined;
      }
    }
    return closes;
  }
}
