// Downloads scanned by RESPMOD against the built-in ICAP service, a different 1 KiB body on every
// response (/unique: the first 16 bytes count up): every body misses the verdict cache and is
// scanned (expect 1 ICAP transaction per request).
import { probeScanning } from '../lib/probe.js';
import { scanWithBuiltin } from '../lib/scan-config.js';
import type { Scenario } from '../lib/types.js';

export default {
  name: 'scanned-download-builtin-cold',
  title: 'dlp-proxy RESPMOD built-in av, cold cache, 1 KiB',
  target: { kind: 'dlp-proxy', config: scanWithBuiltin('download') },
  load: { protocol: 'http', path: '/unique/1024', connections: 50 },
  baseline: { direct: 'direct-http-1k', squid: 'squid-cicap-download-1k' },
  probe: (ctx) => probeScanning(ctx.proxyPort, ctx.originHttpPort, 'download'),
} satisfies Scenario;
