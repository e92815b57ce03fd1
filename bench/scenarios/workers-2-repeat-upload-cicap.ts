// The same file uploaded again, whichever worker takes it: dlp-proxy as `npm start` runs it with
// `workers: 2`, 240 distinct 16 KiB bodies each uploaded once (unmeasured: each is scanned by one
// worker), then each twice more, every upload on a connection of its own so that node:cluster deals
// them to both workers. The measured hit rate is the verdict cache's across workers: one cache per
// host answers every repeat (target ≥ 99 %); a cache per worker only those that land on a worker
// that has seen the body before (about 60 % when the two are dealt at random).
import { withWorkers } from '../lib/dlp-proxy-cli.js';
import { probeScanning } from '../lib/probe.js';
import { scanWithCicap } from '../lib/scan-config.js';
import type { Scenario } from '../lib/types.js';

export default {
  name: 'workers-2-repeat-upload-cicap',
  title: 'dlp-proxy `npm start`, workers: 2, REQMOD c-icap, each 16 KiB upload again on new connections',
  target: { kind: 'dlp-proxy', launch: 'cli', config: withWorkers(2, scanWithCicap('upload')) },
  load: { protocol: 'http', path: '/upload', connections: 8, repeatUploads: { bodies: 240, sizeBytes: 16 * 1024, times: 2 } },
  probe: (ctx) => probeScanning(ctx.proxyPort, ctx.originHttpPort, 'upload'),
} satisfies Scenario;
