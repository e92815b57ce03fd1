// Downloads of 64 KiB scanned by RESPMOD against c-icap virus_scan, a different body every time:
// the size at which squid 5.7 stalls (squid-cicap-download-64k); dlp-proxy sends the body whole
// with Allow: 204 and gets its 204 after clamd's scan.
import { probeScanning } from '../lib/probe.js';
import { scanWithCicap } from '../lib/scan-config.js';
import type { Scenario } from '../lib/types.js';

export default {
  name: 'scanned-download-cicap-64k',
  title: 'dlp-proxy RESPMOD c-icap virus_scan, cold cache, 64 KiB',
  target: { kind: 'dlp-proxy', config: scanWithCicap('download') },
  load: { protocol: 'http', path: '/unique/65536', connections: 50, generator: 'node' },
  baseline: { direct: 'direct-http-64k', squid: 'squid-cicap-download-64k' },
  fullOnly: true,
  probe: (ctx) => probeScanning(ctx.proxyPort, ctx.originHttpPort, 'download'),
} satisfies Scenario;
