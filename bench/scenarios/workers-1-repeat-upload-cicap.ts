// The control of workers-2-repeat-upload-cicap: the same uploads through `workers: 1`, where every
// repeat meets the one cache that scanned it. A hit rate under 100 % here is the scenario's fault
// (or the cache's), not the workers'.
import { withWorkers } from '../lib/dlp-proxy-cli.js';
import { probeScanning } from '../lib/probe.js';
import { scanWithCicap } from '../lib/scan-config.js';
import type { Scenario } from '../lib/types.js';

export default {
  name: 'workers-1-repeat-upload-cicap',
  title: 'dlp-proxy `npm start`, workers: 1, REQMOD c-icap, each 16 KiB upload again on new connections',
  target: { kind: 'dlp-proxy', launch: 'cli', config: withWorkers(1, scanWithCicap('upload')) },
  load: { protocol: 'http', path: '/upload', connections: 8, repeatUploads: { bodies: 240, sizeBytes: 16 * 1024, times: 2 } },
  probe: (ctx) => probeScanning(ctx.proxyPort, ctx.originHttpPort, 'upload'),
  fullOnly: true,
} satisfies Scenario;
