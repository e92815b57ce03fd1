// dlp-proxy intercepting HTTPS (CONNECT, TLS with a leaf from its CA, TLS again to the origin),
// unscanned, keep-alive inside the tunnel, 1 KiB responses.
import type { Scenario } from '../lib/types.js';

export default {
  name: 'intercept-https-1k',
  title: 'dlp-proxy intercepted, HTTPS, 1 KiB',
  target: { kind: 'dlp-proxy' },
  load: { protocol: 'https', path: '/bytes/1024', connections: 50 },
  baseline: { direct: 'direct-https-1k', squid: 'squid-bump-https-1k' },
} satisfies Scenario;
