// The HTTPS ceiling: the CONNECT-capable generator's TLS straight to the origin, 1 KiB, keep-alive.
import type { Scenario } from '../lib/types.js';

export default {
  name: 'direct-https-1k',
  title: 'direct to origin, HTTPS, 1 KiB',
  target: { kind: 'direct' },
  load: { protocol: 'https', path: '/bytes/1024', connections: 50 },
} satisfies Scenario;
