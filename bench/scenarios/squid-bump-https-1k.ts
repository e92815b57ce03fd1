// The competitor intercepting HTTPS: squid ssl-bump (peek, stare, bump), same load, 1 KiB.
import type { Scenario } from '../lib/types.js';

export default {
  name: 'squid-bump-https-1k',
  title: 'squid ssl-bump, HTTPS, 1 KiB',
  target: { kind: 'squid', bump: true },
  load: { protocol: 'https', path: '/bytes/1024', connections: 50 },
  baseline: { direct: 'direct-https-1k' },
} satisfies Scenario;
