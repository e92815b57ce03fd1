// The competitor scanning downloads: squid 5.7 with c-icap virus_scan on RESPMOD (preview 1024),
// unique 1 KiB bodies. squid caches no verdicts, so its cold and warm loads are the same thing:
// this one row is the baseline of both.
import { probeScanning } from '../lib/probe.js';
import type { Scenario } from '../lib/types.js';

export default {
  name: 'squid-cicap-download-1k',
  title: 'squid + c-icap virus_scan RESPMOD, 1 KiB (no verdict cache: cold = warm)',
  target: { kind: 'squid', icap: { respmod: 'av' } },
  load: { protocol: 'http', path: '/unique/1024', connections: 50 },
  baseline: { direct: 'direct-http-1k' },
  probe: (ctx) => probeScanning(ctx.proxyPort, ctx.originHttpPort, 'download'),
} satisfies Scenario;
