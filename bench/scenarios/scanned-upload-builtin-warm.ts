// Uploads of 16 KiB text scanned by REQMOD against the built-in ICAP service (`dlp`: cards, IBANs,
// SSNs, keys, tokens), the same body every time: after the warm-up the verdict cache answers.
import { probeScanning } from '../lib/probe.js';
import { scanWithBuiltin } from '../lib/scan-config.js';
import type { Scenario } from '../lib/types.js';

export default {
  name: 'scanned-upload-builtin-warm',
  title: 'dlp-proxy REQMOD built-in dlp, warm cache, 16 KiB',
  target: { kind: 'dlp-proxy', config: scanWithBuiltin('upload') },
  load: { protocol: 'http', path: '/upload', connections: 50, upload: { sizeBytes: 16 * 1024, unique: false } },
  baseline: { direct: 'direct-upload-16k', squid: 'squid-cicap-upload-16k' },
  probe: (ctx) => probeScanning(ctx.proxyPort, ctx.originHttpPort, 'upload'),
} satisfies Scenario;
