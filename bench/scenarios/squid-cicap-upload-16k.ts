// The competitor scanning uploads: squid 5.7 with c-icap srv_cfg_filter on REQMOD (preview 1024),
// unique 16 KiB bodies. squid caches no verdicts, so its cold and warm loads are the same thing:
// this one row is the baseline of both.
import { probeScanning } from '../lib/probe.js';
import type { Scenario } from '../lib/types.js';

export default {
  name: 'squid-cicap-upload-16k',
  title: 'squid + c-icap srv_cfg_filter REQMOD, 16 KiB (no verdict cache: cold = warm)',
  target: { kind: 'squid', icap: { reqmod: 'dlp' } },
  load: { protocol: 'http', path: '/upload', connections: 50, upload: { sizeBytes: 16 * 1024, unique: true } },
  baseline: { direct: 'direct-upload-16k' },
  probe: (ctx) => probeScanning(ctx.proxyPort, ctx.originHttpPort, 'upload'),
} satisfies Scenario;
