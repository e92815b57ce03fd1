// Origin connections: undici keep-alive pools, TLS verified against the system roots plus configured
// CAs, connect/head/idle timeouts, and failures named by hop and moment (UPSTREAM_*). Every origin
// socket (requests, upgrades, CONNECT tunnels) passes the destination guard: never this proxy's
// own listeners, never link-local, loopback only when the proxy itself listens on loopback.
export { OriginClient } from './origin-client.js';
export { upstreamErrorCode } from './origin-exchange.js';
export { incomingResponse, reasonPhrase, type OriginResponse } from './origin-response.js';
export type { OpenedRequest, OriginRequest, OriginTarget, ProxyPlacement, UpstreamOptions } from './origin-client.js';
export type { ListenerRole } from './destination-guard.js';
export { trustedRoots } from './trust.js';
