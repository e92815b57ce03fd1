// WebSocket inspection (RFC 6455, RFC 7692): after a 101, relayWebSocket() sits between the client
// and origin sockets, decodes the frames of each direction the policy scans, hands each message
// (decompressed when sent with permessage-deflate) to scan() before a byte of it is forwarded, and
// closes the connection with the RFC 6455 §7.4.1 code that says why (1008 block, 1009 too big,
// 1002 malformed, 1011 scan failed). The codec underneath is sans-IO and usable alone.
export { relayWebSocket, type RelayClose, type RelayResult, type WebSocketRelayOptions } from './websocket-relay.js';
export type { DirectionCounts, MessageEvent, MessageOutcome, MessageVerdict, RelayDirection, WebSocketMessage } from './websocket-message.js';
export { parseNegotiatedExtensions, MessageInflater, type DeflateParams, type InflatedMessage, type MessageInflaterOptions, type NegotiatedExtensions } from './permessage-deflate.js';
export { FrameDecoder, type DecodeStep, type FrameDecoderOptions, type WebSocketFrame } from './frame-decoder.js';
export { encodeCloseFrame, encodeFrame, type FrameSpec } from './frame-encoder.js';
export { MessageAssembler, type AssemblerStep, type MessageHead } from './message-assembler.js';
export { Opcode, parseClosePayload } from './frame-header.js';
export { CloseCode, WebSocketProtocolError, type ProtocolCloseCode } from './protocol-error.js';
