// Reference: the same smallest node:http forward proxy, reaching the origin through undici's
// dispatcher as dlp-proxy does (bench/lib/node-proxy-child.mjs --undici), same load as
// passthrough-http-1k: the floor of dlp-proxy's own stack, so its row splits our distance to squid
// into "node:http and undici" and "our code on top of them".
import type { Scenario } from '../lib/types.js';

export default {
  name: 'node-proxy-undici-http-1k',
  title: 'bare node:http proxy with undici to the origin (reference), HTTP, 1 KiB',
  target: { kind: 'node-proxy', client: 'undici' },
  load: { protocol: 'http', path: '/bytes/1024', connections: 50 },
  baseline: { direct: 'direct-http-1k', squid: 'squid-http-1k' },
  fullOnly: true,
} satisfies Scenario;
