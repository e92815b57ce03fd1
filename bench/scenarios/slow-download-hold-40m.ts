// A 40 MiB download from a slow origin (4 MiB/s), scanned by RESPMOD against the built-in av
// service (in the proxy's worker thread, as `npm start` runs it), the download rule set to
// `delivery: { mode: hold }`:
// hold (as before issue 12): nothing reaches the client until the whole file is scanned, so the
// first byte comes after the origin's last (10 s at 4 MiB/s).
// Timed at a browser-like client: first byte, last byte, longest silence.
import { probeScanning } from '../lib/probe.js';
import { deliveryKeyMissing, scanDownloadsWithDelivery } from '../lib/scan-config.js';
import type { Scenario } from '../lib/types.js';

export default {
  name: 'slow-download-hold-40m',
  title: 'dlp-proxy RESPMOD built-in av, 40 MiB from a 4 MiB/s origin, delivery: hold',
  target: { kind: 'dlp-proxy', config: scanDownloadsWithDelivery('hold') },
  load: { protocol: 'http', path: '/stream/{size}?rate={rate}', connections: 1, slowDownload: { sizeBytes: 40 * 1024 * 1024, rateBytesPerSec: 4 * 1024 * 1024, mode: 'hold' } },
  requires: () => deliveryKeyMissing('hold'),
  probe: (ctx) => probeScanning(ctx.proxyPort, ctx.originHttpPort, 'download'),
  fullOnly: true,
} satisfies Scenario;
