// Uploads of 16 KiB text scanned by REQMOD against c-icap's srv_cfg_filter (`dlp`: a keyword and a
// card-number rule), the same body every time: after the warm-up the verdict cache answers.
import { probeScanning } from '../lib/probe.js';
import { scanWithCicap } from '../lib/scan-config.js';
import type { Scenario } from '../lib/types.js';

export default {
  name: 'scanned-upload-cicap-warm',
  title: 'dlp-proxy REQMOD c-icap srv_cfg_filter, warm cache, 16 KiB',
  target: { kind: 'dlp-proxy', config: scanWithCicap('upload') },
  load: { protocol: 'http', path: '/upload', connections: 50, upload: { sizeBytes: 16 * 1024, unique: false } },
  baseline: { direct: 'direct-upload-16k', squid: 'squid-cicap-upload-16k' },
  probe: (ctx) => probeScanning(ctx.proxyPort, ctx.originHttpPort, 'upload'),
} satisfies Scenario;
