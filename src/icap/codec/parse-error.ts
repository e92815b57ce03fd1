// Parse errors are their own type, apart from transaction errors (ProxyError): the codec does no
// I/O and knows nothing of hops; the connection layer wraps an IcapParseError into
// ICAP_PROTOCOL_ERROR (client) or a 400 answer (server).

export type IcapParseErrorReason =
  | 'start-line'
  | 'header'
  | 'head-too-large'
  | 'encapsulated'
  | 'http-head'
  | 'chunk-size'
  | 'chunk-line-too-long'
  | 'chunk-data'
  | 'trailer'
  | 'truncated'
  | 'state';

export class IcapParseError extends Error {
  readonly reason: IcapParseErrorReason;

  constructor(reason: IcapParseErrorReason, message: string) {
    super(message);
    this.name = 'IcapParseError';
    this.reason = reason;
  }
}

export function isIcapParseError(err: unknown): err is IcapParseError {
  return err instanceof IcapParseError;
}
