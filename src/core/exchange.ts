// One exchange = one request and its response, as the pipeline sees it. Created by the proxy
// front, filled by the stages, read by the log and metrics subscribers.
import type { Decision, Verdict } from './types.js';
import type { ProxyError } from './errors.js';

export interface ClientInfo {
  ip: string;
  port: number;
  /** proxy-authenticated user name */
  user?: string | undefined;
}

export interface Exchange {
  /** unique id, also the incident id when the exchange is blocked */
  id: string;
  startTime: Date;
  /** performance.now() at start */
  startedAt: number;
  client: ClientInfo;
  method: string;
  scheme: 'http' | 'https';
  host: string;
  port: number;
  /** path without the query: what logs may show */
  path: string;
  /** HTTPS through our CA (false for plain HTTP) */
  intercepted: boolean;
  requestBytes: number;
  responseBytes: number;
  status?: number;
  decisions: Decision[];
  verdicts: Verdict[];
  /** how a scanned download reached the client (policy[].delivery): held whole, trickled, or by a patience page */
  delivery?: 'hold' | 'trickle' | 'patience';
  error?: ProxyError;
}
