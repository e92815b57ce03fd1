// Downloads scanned by RESPMOD against c-icap virus_scan (ClamAV through clamd), a different 1 KiB
// body on every response: every one is scanned. Same scanner and load as squid-cicap-download-1k,
// so "× squid" compares the proxies alone.
import { probeScanning } from '../lib/probe.js';
import { scanWithCicap } from '../lib/scan-config.js';
import type { Scenario } from '../lib/types.js';

export default {
  name: 'scanned-download-cicap-cold',
  title: 'dlp-proxy RESPMOD c-icap virus_scan, cold cache, 1 KiB',
  target: { kind: 'dlp-proxy', config: scanWithCicap('download') },
  load: { protocol: 'http', path: '/unique/1024', connections: 50 },
  baseline: { direct: 'direct-http-1k', squid: 'squid-cicap-download-1k' },
  probe: (ctx) => probeScanning(ctx.proxyPort, ctx.originHttpPort, 'download'),
} satisfies Scenario;
