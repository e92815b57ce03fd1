// One 100 MiB download scanned by RESPMOD against the built-in ICAP service in the proxy's own
// worker thread, as `npm start` runs it: the same transfer as large-download-builtin-100m, with the
// service's memory counted in the proxy's RSS.
import { probeScanning } from '../lib/probe.js';
import { scanWithBuiltin } from '../lib/scan-config.js';
import type { Scenario } from '../lib/types.js';

export default {
  name: 'large-download-builtin-inproc-100m',
  title: 'dlp-proxy RESPMOD built-in av in its worker thread, one large download',
  target: { kind: 'dlp-proxy', config: scanWithBuiltin('download') },
  load: { protocol: 'http', path: '/stream/{size}', connections: 1, transfer: { direction: 'download', sizeBytes: 100 * 1024 * 1024 } },
  fullOnly: true,
  probe: (ctx) => probeScanning(ctx.proxyPort, ctx.originHttpPort, 'download'),
} satisfies Scenario;
