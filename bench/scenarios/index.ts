// The suite, in the order it runs: each ceiling first, then dlp-proxy, then squid, per group (and
// the bare node:http reference proxy after the 1 KiB group).
// A scenario is one small file (name, target with its config, load); add one here to run it.
import type { Scenario } from '../lib/types.js';
import directHttp1k from './direct-http-1k.js';
import directHttp64k from './direct-http-64k.js';
import directHttps1k from './direct-https-1k.js';
import interceptHttps1k from './intercept-https-1k.js';
import nodeProxyHttp1k from './node-proxy-http-1k.js';
import passthroughHttp1k from './passthrough-http-1k.js';
import passthroughHttp64k from './passthrough-http-64k.js';
import scannedDownloadBuiltinWarm from './scanned-download-builtin-warm.js';
import squidBumpHttps1k from './squid-bump-https-1k.js';
import squidHttp1k from './squid-http-1k.js';
import squidHttp64k from './squid-http-64k.js';

export const scenarios: readonly Scenario[] = [
  directHttp1k,
  passthroughHttp1k,
  squidHttp1k,
  nodeProxyHttp1k,
  directHttp64k,
  passthroughHttp64k,
  squidHttp64k,
  directHttps1k,
  interceptHttps1k,
  squidBumpHttps1k,
  scannedDownloadBuiltinWarm,
];
