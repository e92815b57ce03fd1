// What the relay hands to its caller: each inspected message for a verdict, an event per message
// outcome, and counts per direction when the connection is over.

export type RelayDirection = 'client-to-server' | 'server-to-client';

export interface WebSocketMessage {
  direction: RelayDirection;
  kind: 'text' | 'binary';
  /** the whole message, decompressed when it was sent compressed */
  payload: Buffer;
  /** it was sent with permessage-deflate (RFC 7692) */
  compressed: boolean;
  /** 0 for the first message of its direction */
  index: number;
}

export type MessageVerdict = { action: 'pass' } | { action: 'block'; reason: string };

/**
 * - passed: scanned, then forwarded unchanged
 * - blocked: scanned, verdict block: never delivered, connection closed with 1008
 * - too-large: over maxMessageBytes with oversizeAction 'block': never delivered, closed with 1009
 * - unscanned: over maxMessageBytes with oversizeAction 'pass': forwarded without a scan
 * - scan-failed: scan() rejected: never delivered, closed with 1011
 */
export type MessageOutcome = 'passed' | 'blocked' | 'too-large' | 'unscanned' | 'scan-failed';

export interface MessageEvent {
  message: Omit<WebSocketMessage, 'payload'> & {
    /** decompressed size; for a message cut short at the limit, the bytes counted so far */
    sizeBytes: number;
  };
  outcome: MessageOutcome;
  /** the verdict's reason, when blocked */
  reason?: string;
}

export interface DirectionCounts {
  /** messages that reached an outcome (inspected directions only) */
  messages: number;
  scanned: number;
  blocked: number;
  unscanned: number;
  bytesReceived: number;
  /** bytes of the sender forwarded to the receiver (the proxy's own Close frames not included) */
  bytesForwarded: number;
}

export function emptyCounts(): DirectionCounts {
  return { messages: 0, scanned: 0, blocked: 0, unscanned: 0, bytesReceived: 0, bytesForwarded: 0 };
}
