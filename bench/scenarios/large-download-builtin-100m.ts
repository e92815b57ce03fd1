// One 100 MiB download scanned by RESPMOD against the built-in ICAP service (`av`, in a process of
// its own, so the proxy's RSS is its own): larger than scan.cacheFirstMaxBytes, so the body streams
// to ICAP as it arrives and is spooled to a temp file for replay. Reports throughput and the
// proxy's peak RSS (goal ≤ 200 MiB).
import { probeScanning } from '../lib/probe.js';
import { scanWithBuiltin } from '../lib/scan-config.js';
import type { Scenario } from '../lib/types.js';

export default {
  name: 'large-download-builtin-100m',
  title: 'dlp-proxy RESPMOD built-in av, one large download',
  target: { kind: 'dlp-proxy', config: scanWithBuiltin('download', 'separate') },
  load: { protocol: 'http', path: '/stream/{size}', connections: 1, transfer: { direction: 'download', sizeBytes: 100 * 1024 * 1024 } },
  probe: (ctx) => probeScanning(ctx.proxyPort, ctx.originHttpPort, 'download'),
} satisfies Scenario;
