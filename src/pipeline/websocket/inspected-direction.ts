// A direction the policy inspects. Each data message is held (its raw frames, untouched) until
// scan() says pass, then its original bytes are forwarded, so the endpoints' compression contexts
// stay in sync; a compressed message is inflated into a copy for the scan only. The relay reads
// the next chunk of this side only once handle() resolved, so a message waiting for its verdict
// stops its sender (TCP backpressure) and nothing later overtakes it.
//
//   holding ──(message complete)──► scan ──pass──► forward held frames ──► holding
//      │                               └──block──► Close 1008 both ways
//      └──(over maxMessageBytes)──► block: Close 1009 | pass: forward held, then "passing"
//   passing ──(each piece forwarded as it comes)──(message complete)──► holding
import { ProxyError, toProxyError } from '../../core/errors.js';
import { encodeFrame } from './frame-encoder.js';
import { FrameDecoder, type WebSocketFrame } from './frame-decoder.js';
import { Opcode, parseClosePayload } from './frame-header.js';
import { MessageAssembler, type MessageHead } from './message-assembler.js';
import { MessageInflater } from './permessage-deflate.js';
import { CloseCode, WebSocketProtocolError } from './protocol-error.js';
import { emptyCounts, type MessageEvent, type MessageOutcome, type MessageVerdict, type RelayDirection, type WebSocketMessage } from './websocket-message.js';

/** What a direction needs of the relay around it. */
export interface RelayControl {
  readonly closing: boolean;
  closeWith(code: number, reason: string, error?: ProxyError): void;
  onEndpointClose(code: number, direction: RelayDirection): void;
  /** run a scan (the relay does not count its time as idleness) */
  scanning(run: () => Promise<MessageVerdict>): Promise<MessageVerdict>;
}

export interface InspectedDirectionOptions {
  direction: RelayDirection;
  /** permessage-deflate negotiated: whether the sender of this direction resets its context per message */
  deflate: { noContextTakeover: boolean } | undefined;
  maxMessageBytes: number;
  oversizeAction: 'block' | 'pass';
  forward(bytes: Buffer): Promise<void>;
  scan(message: WebSocketMessage): Promise<MessageVerdict>;
  onMessage?(event: MessageEvent): void;
}

/** Slack for a compressed payload over its decompressed size: 5 bytes a stored block (zlib emits ≤ 16 KiB ones), plus the final bits. */
function wireLimitOf(maxMessageBytes: number, compressed: boolean): number {
  return compressed ? maxMessageBytes + Math.ceil(maxMessageBytes / 16_384) * 5 + 16 : maxMessageBytes;
}

export class InspectedDirection {
  readonly counts = emptyCounts();
  private readonly decoder: FrameDecoder;
  private readonly assembler = new MessageAssembler();
  private readonly inflater: MessageInflater | undefined;
  private readonly wireLimit: number;
  /** raw bytes one held message may take: its payload twice over, for frame headers (fragments of ≥ 14 bytes on average) */
  private readonly rawBudget: number;
  private held: WebSocketFrame[] = [];
  private heldRawBytes = 0;
  private mode: 'holding' | 'passing' = 'holding';
  private outputAtBoundary = true;
  private closeSeen = false;

  constructor(
    private readonly options: InspectedDirectionOptions,
    private readonly relay: RelayControl,
  ) {
    const { deflate, maxMessageBytes, oversizeAction } = options;
    this.wireLimit = wireLimitOf(maxMessageBytes, deflate !== undefined);
    this.rawBudget = 2 * this.wireLimit + 65_536;
    this.decoder = new FrameDecoder({
      from: options.direction === 'client-to-server' ? 'client' : 'server',
      rsv1Allowed: deflate !== undefined,
      maxFramePayloadBytes: this.wireLimit,
      // a frame over the limit comes in pieces, never held: oversize() decides at its header
      // (refused unread with 'block', forwarded as it comes with 'pass'), and reports it
      oversizeFrames: 'stream',
    });
    this.inflater = deflate && new MessageInflater({ noContextTakeover: deflate.noContextTakeover, maxMessageBytes, overflow: oversizeAction === 'pass' ? 'discard' : 'stop' });
  }

  get canSendClose(): boolean {
    return this.outputAtBoundary && !this.closeSeen;
  }

  async handle(chunk: Buffer): Promise<void> {
    const step = this.decoder.push(chunk);
    try {
      for (const frame of step.frames) {
        if (this.relay.closing || this.closeSeen) return;
        await this.onFrame(frame);
      }
    } catch (err) {
      if (!(err instanceof WebSocketProtocolError)) throw err;
      this.relay.closeWith(err.closeCode, 'invalid compressed data', this.peerFault(err));
      return;
    }
    // RFC 6455 §7.1.7: a protocol violation fails the connection (1002; 1009 for a frame over the limit)
    if (step.error && !this.closeSeen) this.relay.closeWith(step.error.closeCode, step.error.closeCode === CloseCode.messageTooBig ? 'message too big' : 'protocol error', this.peerFault(step.error));
  }

  /** A sender's protocol error, named after its hop. */
  private peerFault(err: WebSocketProtocolError): ProxyError {
    const code = this.options.direction === 'client-to-server' ? 'CLIENT_BAD_REQUEST' : 'UPSTREAM_READ_FAILED';
    return new ProxyError(code, `WebSocket ${err.message} (close ${err.closeCode})`, { cause: err });
  }

  release(): void {
    this.inflater?.close();
    this.held = [];
  }

  private async onFrame(frame: WebSocketFrame): Promise<void> {
    const step = this.assembler.push(frame);
    if (step.type === 'error') return this.relay.closeWith(CloseCode.protocolError, 'protocol error', this.peerFault(step.error));
    if (step.type === 'control') return this.onControl(frame);
    const { message } = step;
    if (step.first) this.mode = 'holding';
    if (message.compressed) await this.inflater!.write(frame.payload);
    if (this.mode === 'passing') await this.send(frame.raw, frame.last);
    else {
      this.held.push(frame);
      this.heldRawBytes += frame.raw.length;
      const frameRest = frame.payloadLength - frame.offset - frame.payload.length;
      const wireBytes = step.sizeBytes + frameRest;
      if (wireBytes > (message.compressed ? this.wireLimit : this.options.maxMessageBytes) || this.inflater?.overflowed) {
        // compressed: what inflated so far, or at least the declared wire size when refused at a header
        await this.oversize(message, message.compressed ? Math.max(this.inflater!.sizeBytes, wireBytes) : wireBytes);
      } else if (this.heldRawBytes > this.rawBudget) {
        // not over the size limit, so not the oversize action: passing it would let a small message by unscanned
        return this.relay.closeWith(CloseCode.messageTooBig, 'message too fragmented', this.peerFault(new WebSocketProtocolError(CloseCode.messageTooBig, `message of ${step.sizeBytes} bytes in ${this.heldRawBytes} bytes of frames`)));
      }
    }
    if (step.last && !this.relay.closing) await this.finish(message, step.sizeBytes);
  }

  private async finish(message: MessageHead, wireBytes: number): Promise<void> {
    const inflated = message.compressed ? await this.inflater!.end() : undefined;
    if (this.relay.closing) return;
    const sizeBytes = inflated ? inflated.sizeBytes : wireBytes;
    if (this.mode === 'holding' && inflated && inflated.payload === undefined) await this.oversize(message, sizeBytes);
    if (this.relay.closing) return;
    if (this.mode === 'passing') {
      this.mode = 'holding';
      this.counts.unscanned++;
      return this.report(message, sizeBytes, 'unscanned');
    }
    const held = this.takeHeld();
    const payload = inflated?.payload ?? Buffer.concat(held.map((f) => f.payload));
    let verdict: MessageVerdict;
    try {
      verdict = await this.relay.scanning(() => this.options.scan({ direction: this.options.direction, kind: message.kind, payload, compressed: message.compressed, index: message.index }));
    } catch (err) {
      this.report(message, sizeBytes, 'scan-failed');
      return this.relay.closeWith(CloseCode.internalError, 'scan failed', toProxyError(err, 'INTERNAL'));
    }
    if (this.relay.closing) return;
    this.counts.scanned++;
    // anything but an explicit pass blocks (our own defects fail closed)
    if (verdict.action !== 'pass') {
      this.counts.blocked++;
      this.report(message, sizeBytes, 'blocked', verdict.action === 'block' ? verdict.reason : 'invalid verdict');
      return this.relay.closeWith(CloseCode.policyViolation, 'policy violation');
    }
    for (const frame of held) await this.send(frame.raw, frame.last);
    this.report(message, sizeBytes, 'passed');
  }

  private async oversize(message: MessageHead, sizeBytes: number): Promise<void> {
    if (this.options.oversizeAction === 'block') {
      this.report(message, sizeBytes, 'too-large');
      return this.relay.closeWith(CloseCode.messageTooBig, 'message too big');
    }
    this.mode = 'passing';
    for (const frame of this.takeHeld()) await this.send(frame.raw, frame.last);
  }

  private async onControl(frame: WebSocketFrame): Promise<void> {
    const toServer = this.options.direction === 'client-to-server';
    if (frame.opcode === Opcode.close) {
      const body = parseClosePayload(frame.payload);
      if (!body) return this.relay.closeWith(CloseCode.protocolError, 'protocol error', this.peerFault(new WebSocketProtocolError(CloseCode.protocolError, 'Close frame with a 1-byte body')));
      // a message still open never completes: what is held of it is dropped, never delivered
      this.takeHeld();
      this.closeSeen = true;
      this.relay.onEndpointClose(body.code, this.options.direction);
      // the reason text (≤ 123 bytes) is application data that no scan saw: only the code goes on
      const bytes = frame.payload.length > 2 ? encodeFrame({ opcode: Opcode.close, payload: frame.payload.subarray(0, 2), mask: toServer }) : frame.raw;
      return this.send(bytes, true);
    }
    // Ping and Pong bodies (≤ 125 bytes) reach the peer's application too: forwarded empty. A
    // Pong then echoes an empty body; RFC 6455 §5.5.2 leaves the body's meaning to the sender.
    await this.send(frame.payload.length === 0 ? frame.raw : encodeFrame({ opcode: frame.opcode, mask: toServer }), true);
  }

  private takeHeld(): WebSocketFrame[] {
    const held = this.held;
    this.held = [];
    this.heldRawBytes = 0;
    return held;
  }

  private async send(bytes: Buffer, endsFrame: boolean): Promise<void> {
    if (this.relay.closing) return;
    this.outputAtBoundary = endsFrame;
    this.counts.bytesForwarded += bytes.length;
    await this.options.forward(bytes);
  }

  private report(message: MessageHead, sizeBytes: number, outcome: MessageOutcome, reason?: string): void {
    this.counts.messages++;
    const { direction } = this.options;
    const event: MessageEvent = { message: { direction, kind: message.kind, compressed: message.compressed, index: message.index, sizeBytes }, outcome };
    if (reason !== undefined) event.reason = reason;
    this.options.onMessage?.(event);
  }
}
