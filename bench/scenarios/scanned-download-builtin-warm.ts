// Downloads scanned by RESPMOD against the built-in ICAP service, the same 1 KiB body every time:
// after the warm-up the verdict cache answers every request (expect ~0 ICAP transactions each).
import { probeScanning } from '../lib/probe.js';
import { scanWithBuiltin } from '../lib/scan-config.js';
import type { Scenario } from '../lib/types.js';

export default {
  name: 'scanned-download-builtin-warm',
  title: 'dlp-proxy RESPMOD built-in av, warm cache, 1 KiB',
  target: { kind: 'dlp-proxy', config: scanWithBuiltin('download') },
  load: { protocol: 'http', path: '/bytes/1024', connections: 50 },
  baseline: { direct: 'direct-http-1k', squid: 'squid-cicap-download-1k' },
  probe: (ctx) => probeScanning(ctx.proxyPort, ctx.originHttpPort, 'download'),
} satisfies Scenario;
