// Reference: the smallest node:http keep-alive forward proxy (bench/lib/node-proxy-child.mjs), same
// load as passthrough-http-1k: what Node's own http stack costs here, without any of our code.
import type { Scenario } from '../lib/types.js';

export default {
  name: 'node-proxy-http-1k',
  title: 'bare node:http proxy (reference), HTTP, 1 KiB',
  target: { kind: 'node-proxy' },
  load: { protocol: 'http', path: '/bytes/1024', connections: 50 },
  baseline: { direct: 'direct-http-1k', squid: 'squid-http-1k' },
  fullOnly: true,
} satisfies Scenario;
