// The ICAP codec, sans-IO (RFC 3507): bytes in, events out; heads and chunks out as bytes. Used by
// the client in icap/ and by the built-in server in icap-server/. Decoders take input cut at any
// byte and throw IcapParseError for bad input (anything else they throw is a bug of ours, passed
// through as it is); encoders throw TypeError on values that cannot be encoded.
export { IcapParseError, isIcapParseError, type IcapParseErrorReason } from './parse-error.js';
export { parseHeaderLines, serializeHeaders, splitLines, toIcapHeaders } from './header-block.js';
export { parseHttpHead, serializeHttpHead } from './http-head.js';
export { formatEncapsulated, parseEncapsulated, type BodyName, type Encapsulated, type EncapsulatedName } from './encapsulated.js';
export { ChunkedDecoder, encodeChunk, encodeLastChunk, type ChunkedLimits, type ChunkedStep } from './chunked.js';
export { DEFAULT_LIMITS, type DecoderLimits, type IcapHeadBase } from './message-decoder.js';
export { IcapResponseDecoder, type IcapResponseEvent, type IcapResponseHead } from './response-decoder.js';
export { IcapRequestDecoder, type IcapRequestEvent, type IcapRequestHead } from './request-decoder.js';
export { encodeIcapRequest, type IcapRequestSpec } from './request-encoder.js';
export {
  ICAP_REASONS,
  encodeContinue,
  encodeErrorResponse,
  encodeIcapResponse,
  encodeOptionsResponse,
  quoteIstag,
  type IcapResponseSpec,
  type OptionsResponseSpec,
} from './response-encoder.js';
