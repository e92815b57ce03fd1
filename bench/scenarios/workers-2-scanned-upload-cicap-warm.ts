// dlp-proxy as `npm start` runs it with `workers: 2`, 16 KiB uploads scanned by REQMOD against c-icap's
// srv_cfg_filter, the same body every time: after the warm-up the verdict cache answers.
import { withWorkers } from '../lib/dlp-proxy-cli.js';
import { probeScanning } from '../lib/probe.js';
import { scanWithCicap } from '../lib/scan-config.js';
import type { Scenario } from '../lib/types.js';

export default {
  name: 'workers-2-scanned-upload-cicap-warm',
  title: 'dlp-proxy `npm start`, workers: 2, REQMOD c-icap, warm cache, 16 KiB',
  target: { kind: 'dlp-proxy', launch: 'cli', config: withWorkers(2, scanWithCicap('upload')) },
  load: { protocol: 'http', path: '/upload', connections: 50, upload: { sizeBytes: 16 * 1024, unique: false } },
  baseline: { direct: 'direct-upload-16k', squid: 'squid-cicap-upload-16k' },
  probe: (ctx) => probeScanning(ctx.proxyPort, ctx.originHttpPort, 'upload'),
  fullOnly: true,
} satisfies Scenario;
