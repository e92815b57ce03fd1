// dlp-proxy as `npm start` runs it with `workers: 1` (one process, started the same way as the
// workers: 2 row), passing 1 KiB GETs unscanned: the pair says what a second worker buys.
import { withWorkers } from '../lib/dlp-proxy-cli.js';
import type { Scenario } from '../lib/types.js';

export default {
  name: 'workers-1-passthrough-http-1k',
  title: 'dlp-proxy `npm start`, workers: 1, passthrough, HTTP, 1 KiB',
  target: { kind: 'dlp-proxy', launch: 'cli', config: withWorkers(1) },
  load: { protocol: 'http', path: '/bytes/1024', connections: 50 },
  baseline: { direct: 'direct-http-1k', squid: 'squid-http-1k' },
  fullOnly: true,
} satisfies Scenario;
