// Origin connections: keep-alive agents, TLS verified against the system roots plus configured
// CAs, connect/head/idle timeouts, and failures named by hop and moment (UPSTREAM_*).
export { OriginClient, upstreamErrorCode } from './origin-client.js';
export type { OriginRequest, OriginTarget, UpstreamOptions } from './origin-client.js';
export { trustedRoots } from './trust.js';
