// dlp-proxy passing plain HTTP unscanned (policy: pass), keep-alive on both sides, 1 KiB responses.
import type { Scenario } from '../lib/types.js';

export default {
  name: 'passthrough-http-1k',
  title: 'dlp-proxy passthrough, HTTP, 1 KiB',
  target: { kind: 'dlp-proxy' },
  load: { protocol: 'http', path: '/bytes/1024', connections: 50 },
  baseline: { direct: 'direct-http-1k', squid: 'squid-http-1k' },
} satisfies Scenario;
