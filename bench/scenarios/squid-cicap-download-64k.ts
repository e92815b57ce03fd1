// squid 5.7 with c-icap virus_scan on RESPMOD, 64 KiB bodies: c-icap reads the whole body before it
// answers, and squid 5.7 stalls on that from 64 KiB on (PEERS.md). The row stays in the table as
// squid's failure. Requests time out after 3 s (squid would answer 500 after icap_io_timeout);
// a stalled load takes its full time plus that, so only the full suite runs it.
import { probeScanning } from '../lib/probe.js';
import type { Scenario } from '../lib/types.js';

export default {
  name: 'squid-cicap-download-64k',
  title: 'squid + c-icap virus_scan RESPMOD, 64 KiB',
  target: { kind: 'squid', icap: { respmod: 'av' } },
  load: { protocol: 'http', path: '/unique/65536', connections: 50, generator: 'node', requestTimeoutMs: 3000 },
  baseline: { direct: 'direct-http-64k' },
  fullOnly: true,
  knownDefect: 'squid 5.7 stalls on RESPMOD of 64 KiB and more when the ICAP service reads the whole body before answering (squid bug 5352, fixed upstream, not in Debian 12)',
  probe: (ctx) => probeScanning(ctx.proxyPort, ctx.originHttpPort, 'download'),
} satisfies Scenario;
