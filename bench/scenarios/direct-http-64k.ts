// The ceiling: autocannon straight to the origin, 64 KiB responses, keep-alive.
import type { Scenario } from '../lib/types.js';

export default {
  name: 'direct-http-64k',
  title: 'direct to origin, HTTP, 64 KiB',
  target: { kind: 'direct' },
  load: { protocol: 'http', path: '/bytes/65536', connections: 50, generator: 'node' },
} satisfies Scenario;
