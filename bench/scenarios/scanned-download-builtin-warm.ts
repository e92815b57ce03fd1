// Downloads scanned by RESPMOD against the built-in ICAP service, the same 1 KiB body every time
// (warm verdict cache). Runs once the proxy scans: the probe expects the EICAR test file blocked
// and a clean body passed (a fail-closed proxy with no scanner would block both); until then the
// row reads "not available".
import { fetchThroughProxy } from '../lib/probe.js';
import type { Scenario } from '../lib/types.js';

export default {
  name: 'scanned-download-builtin-warm',
  title: 'dlp-proxy RESPMOD built-in av, warm cache, 1 KiB',
  target: {
    kind: 'dlp-proxy',
    config: async (ctx) => {
      const icapPort = await ctx.freePort();
      return {
        icapServer: { enabled: true, port: icapPort },
        services: { av: { urls: [`icap://127.0.0.1:${icapPort}/av`] } },
        policy: [{ name: 'downloads', match: { direction: 'download' }, scan: 'av' }],
      };
    },
  },
  load: { protocol: 'http', path: '/bytes/1024', connections: 50 },
  baseline: { direct: 'direct-http-1k', squid: 'squid-http-1k' },
  async probe(ctx) {
    if (ctx.proxyPort === undefined) return 'needs a proxy';
    const eicar = await fetchThroughProxy(ctx.proxyPort, ctx.originHttpPort, '/eicar');
    if (eicar.status !== 403) return `the EICAR test file passed the proxy unscanned (HTTP ${eicar.status}): scanning is not wired into startApp yet`;
    const clean = await fetchThroughProxy(ctx.proxyPort, ctx.originHttpPort, '/bytes/1024');
    return clean.status === 200 ? undefined : `a clean download was refused (HTTP ${clean.status}): the scanner is not answering`;
  },
} satisfies Scenario;
