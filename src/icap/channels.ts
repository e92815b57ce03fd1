// Events of the ICAP client on node:diagnostics_channel; metrics/ and log/ subscribe. The client
// itself never logs or counts.
import diagnostics from 'node:diagnostics_channel';
import type { ErrorCode } from '../core/errors.js';

export const ICAP_TRANSACTION_CHANNEL = 'dlp-proxy:icap:transaction';
export const ICAP_ISTAG_CHANNEL = 'dlp-proxy:icap:istag';
export const ICAP_SERVER_STATE_CHANNEL = 'dlp-proxy:icap:server-state';

/** Published once per REQMOD/RESPMOD transaction, successful or not. */
export interface IcapTransactionMessage {
  service: string;
  server: string;
  method: 'REQMOD' | 'RESPMOD';
  /** ICAP status, 0 when no answer was read */
  status: number;
  durationMs: number;
  previewUsed: boolean;
  outcome: 'unmodified' | 'modified' | 'error';
  errorCode?: ErrorCode;
}

/**
 * Published when a service's ISTag changes (the verdict cache keys on it, RFC 3507 §4.7). With
 * several servers the service tag combines theirs (see IcapService.istag); `serverIstag` is the
 * tag of the server whose change caused this one.
 */
export interface IcapIstagMessage {
  service: string;
  server: string;
  istag: string;
  previous: string | undefined;
  serverIstag?: string;
}

/** Published when a server of a service is suspended or revived (server-health.ts has the rules). */
export interface IcapServerStateMessage {
  service: string;
  /** host:port */
  server: string;
  state: 'up' | 'suspended';
  reason: string;
  /** failures counted when the state changed */
  failures: number;
}

export const transactionChannel = diagnostics.channel(ICAP_TRANSACTION_CHANNEL);
export const istagChannel = diagnostics.channel(ICAP_ISTAG_CHANNEL);
export const serverStateChannel = diagnostics.channel(ICAP_SERVER_STATE_CHANNEL);
