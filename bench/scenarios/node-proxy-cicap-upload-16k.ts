// Reference: the bare node:http proxy holding each upload and sending it by REQMOD to c-icap before
// forwarding it (bench/lib/node-proxy-child.mjs), same load as scanned-upload-cicap-cold: the floor
// of a scanning proxy in Node on this machine, without any of our code.
import { probeScanning } from '../lib/probe.js';
import type { Scenario } from '../lib/types.js';

export default {
  name: 'node-proxy-cicap-upload-16k',
  title: 'bare node:http proxy + REQMOD to c-icap srv_cfg_filter (reference), 16 KiB',
  target: { kind: 'node-proxy', reqmod: 'dlp' },
  load: { protocol: 'http', path: '/upload', connections: 50, upload: { sizeBytes: 16 * 1024, unique: true } },
  baseline: { direct: 'direct-upload-16k', squid: 'squid-cicap-upload-16k' },
  probe: (ctx) => probeScanning(ctx.proxyPort, ctx.originHttpPort, 'upload'),
  fullOnly: true,
} satisfies Scenario;
