// Downloads scanned by RESPMOD against c-icap virus_scan, the same 1 KiB body every time: after the
// warm-up the verdict cache answers and c-icap is not asked again.
import { probeScanning } from '../lib/probe.js';
import { scanWithCicap } from '../lib/scan-config.js';
import type { Scenario } from '../lib/types.js';

export default {
  name: 'scanned-download-cicap-warm',
  title: 'dlp-proxy RESPMOD c-icap virus_scan, warm cache, 1 KiB',
  target: { kind: 'dlp-proxy', config: scanWithCicap('download') },
  load: { protocol: 'http', path: '/bytes/1024', connections: 50 },
  baseline: { direct: 'direct-http-1k', squid: 'squid-cicap-download-1k' },
  probe: (ctx) => probeScanning(ctx.proxyPort, ctx.originHttpPort, 'download'),
} satisfies Scenario;
