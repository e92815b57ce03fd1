// The client side: the listener (http-mitm-proxy, confined to this folder), CONNECT handled as
// an untouched tunnel or intercepted with a leaf from ca/, access control and proxy
// authentication, and the client-side limits (header count, first byte, TLS handshake, tunnel
// idleness, connections per client). Hands each exchange to the pipeline with the request paused;
// the pipeline decides each CONNECT.
export { ProxyFront } from './proxy-front.js';
export type { ConnectDecision, OriginTarget, Page, ProxyFrontHandlers, ProxyFrontOptions } from './proxy-front.js';
export { ClientAllowList, ProxyAuthenticator, hashPassword, normaliseIp } from './access.js';
export type { ProxyUser } from './access.js';
