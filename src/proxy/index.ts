// The client side: the listener (http-mitm-proxy, confined to this folder), CONNECT handled as
// an untouched tunnel or intercepted with a leaf from ca/, access control and proxy
// authentication. Hands each exchange to the pipeline with the request paused.
export { ProxyFront } from './proxy-front.js';
export type { OriginTarget, Page, ProxyFrontHandlers, ProxyFrontOptions } from './proxy-front.js';
export { ClientAllowList, ProxyAuthenticator, hashPassword, normaliseIp } from './access.js';
export type { ProxyUser } from './access.js';
