// The competitor: squid-openssl without ICAP, no cache, same origin and load, 1 KiB responses.
import type { Scenario } from '../lib/types.js';

export default {
  name: 'squid-http-1k',
  title: 'squid passthrough, HTTP, 1 KiB',
  target: { kind: 'squid' },
  load: { protocol: 'http', path: '/bytes/1024', connections: 50 },
  baseline: { direct: 'direct-http-1k' },
} satisfies Scenario;
