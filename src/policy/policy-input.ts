// What policy.decide() sees of one side of an exchange: the message head and facts about its
// body, never the body itself. Not to be changed once decided on: a decision explains itself
// from it when its explanation is read.
import type { Direction } from '../core/types.js';

export interface PolicyInput {
  /** upload = the request body, download = the response body */
  direction: Direction;
  method: string;
  /** normalised by core/host: lower case, no trailing dot, IPv6 without brackets */
  host: string;
  /** the request path without the query string */
  path: string;
  /** the protocol the exchange speaks: a WebSocket upgrade decides for its messages (default http) */
  protocol?: 'http' | 'websocket';
  requestContentType?: string;
  responseContentType?: string;
  /** body length; undefined while it is unknown (chunked, no Content-Length) */
  bodyBytes?: number;
  hasBody: boolean;
  clientIp: string;
  user?: string;
}
