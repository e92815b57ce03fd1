// RFC 3507 ICAP client: a sans-IO codec (codec/), connections (plain or TLS) with a pool per
// server, OPTIONS as a value, REQMOD/RESPMOD transactions with preview, and IcapService, the facade
// the pipeline calls per configured service, balancing and failing over across its servers with
// health probes. Every failure is a ProxyError: the server's with an ICAP_* code, a defect of ours
// INTERNAL (peer-failure.ts); transactions, ISTag and server-state changes are published on
// node:diagnostics_channel (see channels.ts).
export { IcapService, type IcapRequest, type IcapSendResult, type IcapServiceOptions } from './icap-service.js';
export { IcapOptions, type TransferMode } from './icap-options.js';
export type { PoolStats } from './pool.js';
export type { ServerView } from './service-server.js';
export { DEFAULT_HEALTH, type HealthPolicy, type ServerState } from './server-health.js';
export { parseIcapUrl, type IcapTarget } from './icap-url.js';
export {
  ICAP_ISTAG_CHANNEL,
  ICAP_SERVER_STATE_CHANNEL,
  ICAP_TRANSACTION_CHANNEL,
  type IcapIstagMessage,
  type IcapServerStateMessage,
  type IcapTransactionMessage,
} from './channels.js';
