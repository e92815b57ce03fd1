// The competitor: squid-openssl without ICAP, no cache, same origin and load, 64 KiB responses.
import type { Scenario } from '../lib/types.js';

export default {
  name: 'squid-http-64k',
  title: 'squid passthrough, HTTP, 64 KiB',
  target: { kind: 'squid' },
  load: { protocol: 'http', path: '/bytes/65536', connections: 50, generator: 'node' },
  baseline: { direct: 'direct-http-64k' },
} satisfies Scenario;
