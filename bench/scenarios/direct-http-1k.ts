// The ceiling: autocannon straight to the origin, 1 KiB responses, keep-alive.
import type { Scenario } from '../lib/types.js';

export default {
  name: 'direct-http-1k',
  title: 'direct to origin, HTTP, 1 KiB',
  target: { kind: 'direct' },
  load: { protocol: 'http', path: '/bytes/1024', connections: 50 },
} satisfies Scenario;
