// dlp-proxy as `npm start` runs it with `workers: 2` (a node:cluster primary and two worker
// processes sharing the port), passing 1 KiB GETs unscanned: the pair says what a second worker buys.
import { withWorkers } from '../lib/dlp-proxy-cli.js';
import type { Scenario } from '../lib/types.js';

export default {
  name: 'workers-2-passthrough-http-1k',
  title: 'dlp-proxy `npm start`, workers: 2, passthrough, HTTP, 1 KiB',
  target: { kind: 'dlp-proxy', launch: 'cli', config: withWorkers(2) },
  load: { protocol: 'http', path: '/bytes/1024', connections: 50 },
  baseline: { direct: 'direct-http-1k', squid: 'squid-http-1k' },
  fullOnly: true,
} satisfies Scenario;
