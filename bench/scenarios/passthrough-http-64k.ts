// dlp-proxy passing plain HTTP unscanned (policy: pass), keep-alive on both sides, 64 KiB responses.
import type { Scenario } from '../lib/types.js';

export default {
  name: 'passthrough-http-64k',
  title: 'dlp-proxy passthrough, HTTP, 64 KiB',
  target: { kind: 'dlp-proxy' },
  load: { protocol: 'http', path: '/bytes/65536', connections: 50, generator: 'node' },
  baseline: { direct: 'direct-http-64k', squid: 'squid-http-64k' },
} satisfies Scenario;
