// A peer broke RFC 6455 (or RFC 7692): the relay fails the connection with the close code carried
// here (RFC 6455 §7.4.1). Like the ICAP codec's IcapParseError it knows nothing of hops: the codec
// does no I/O; the relay turns it into Close frames towards both endpoints.

/** RFC 6455 §7.4.1 status codes the relay sends. */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  protocolError: 1002,
  /** reserved for reporting: the connection ended without a Close frame */
  abnormal: 1006,
  invalidData: 1007,
  policyViolation: 1008,
  messageTooBig: 1009,
  internalError: 1011,
} as const;

export type ProtocolCloseCode = typeof CloseCode.protocolError | typeof CloseCode.invalidData | typeof CloseCode.messageTooBig;

export class WebSocketProtocolError extends Error {
  /** 1002 framing or sequence violation, 1007 undecodable compressed data, 1009 over a size limit */
  readonly closeCode: ProtocolCloseCode;

  constructor(closeCode: ProtocolCloseCode, message: string) {
    super(message);
    this.name = 'WebSocketProtocolError';
    this.closeCode = closeCode;
  }
}
