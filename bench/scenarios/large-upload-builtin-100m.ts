// One 100 MiB upload scanned by REQMOD against the built-in ICAP service (`dlp`, in a process of
// its own, so the proxy's RSS is its own): larger than scan.cacheFirstMaxBytes, so the body streams
// to ICAP as it arrives and is spooled to a temp file for replay. Reports throughput and the
// proxy's peak RSS (goal ≤ 200 MiB).
import { probeScanning } from '../lib/probe.js';
import { scanWithBuiltin } from '../lib/scan-config.js';
import type { Scenario } from '../lib/types.js';

export default {
  name: 'large-upload-builtin-100m',
  title: 'dlp-proxy REQMOD built-in dlp, one large upload',
  target: { kind: 'dlp-proxy', config: scanWithBuiltin('upload', 'separate') },
  load: { protocol: 'http', path: '/upload', connections: 1, transfer: { direction: 'upload', sizeBytes: 100 * 1024 * 1024 } },
  probe: (ctx) => probeScanning(ctx.proxyPort, ctx.originHttpPort, 'upload'),
} satisfies Scenario;
