// The suite, in the order it runs, in groups: each ceiling first, then dlp-proxy, then squid (the
// bare node:http reference proxy after the 1 KiB group, and scanning through c-icap after the
// uploads); scanned downloads and uploads with cold and warm verdict caches against the built-in service and c-icap, then squid with the same c-icap;
// `npm start` with workers: 1 and 2 (throughput, and the verdict cache across workers); the large
// scanned transfers; last the slow-origin downloads under each delivery mode. A scenario is one
// small file (name, target with its config, load); add one here to run it.
import type { Scenario } from '../lib/types.js';
import directHttp1k from './direct-http-1k.js';
import directHttp64k from './direct-http-64k.js';
import directHttps1k from './direct-https-1k.js';
import directUpload16k from './direct-upload-16k.js';
import interceptHttps1k from './intercept-https-1k.js';
import largeDownloadBuiltin100m from './large-download-builtin-100m.js';
import largeDownloadBuiltin200m from './large-download-builtin-200m.js';
import largeDownloadBuiltinInproc100m from './large-download-builtin-inproc-100m.js';
import largeUploadBuiltin100m from './large-upload-builtin-100m.js';
import largeUploadBuiltin200m from './large-upload-builtin-200m.js';
import nodeProxyCicapUpload16k from './node-proxy-cicap-upload-16k.js';
import nodeProxyHttp1k from './node-proxy-http-1k.js';
import nodeProxyUndiciHttp1k from './node-proxy-undici-http-1k.js';
import passthroughHttp1k from './passthrough-http-1k.js';
import passthroughHttp64k from './passthrough-http-64k.js';
import passthroughUpload16k from './passthrough-upload-16k.js';
import scannedDownloadBuiltinCold from './scanned-download-builtin-cold.js';
import scannedDownloadBuiltinWarm from './scanned-download-builtin-warm.js';
import scannedDownloadCicap64k from './scanned-download-cicap-64k.js';
import scannedDownloadCicapCold from './scanned-download-cicap-cold.js';
import scannedDownloadCicapWarm from './scanned-download-cicap-warm.js';
import scannedUploadBuiltinCold from './scanned-upload-builtin-cold.js';
import scannedUploadBuiltinWarm from './scanned-upload-builtin-warm.js';
import scannedUploadCicapCold from './scanned-upload-cicap-cold.js';
import scannedUploadCicapWarm from './scanned-upload-cicap-warm.js';
import slowDownloadHold40m from './slow-download-hold-40m.js';
import slowDownloadPatience40m from './slow-download-patience-40m.js';
import slowDownloadTrickle40m from './slow-download-trickle-40m.js';
import squidBumpHttps1k from './squid-bump-https-1k.js';
import squidCicapDownload1k from './squid-cicap-download-1k.js';
import squidCicapDownload64k from './squid-cicap-download-64k.js';
import squidCicapUpload16k from './squid-cicap-upload-16k.js';
import squidHttp1k from './squid-http-1k.js';
import squidHttp64k from './squid-http-64k.js';
import workers1PassthroughHttp1k from './workers-1-passthrough-http-1k.js';
import workers1RepeatUploadCicap from './workers-1-repeat-upload-cicap.js';
import workers1ScannedUploadCicapWarm from './workers-1-scanned-upload-cicap-warm.js';
import workers2PassthroughHttp1k from './workers-2-passthrough-http-1k.js';
import workers2RepeatUploadCicap from './workers-2-repeat-upload-cicap.js';
import workers2ScannedUploadCicapWarm from './workers-2-scanned-upload-cicap-warm.js';

export const scenarios: readonly Scenario[] = [
  directHttp1k,
  passthroughHttp1k,
  squidHttp1k,
  nodeProxyHttp1k,
  nodeProxyUndiciHttp1k,
  directHttp64k,
  passthroughHttp64k,
  squidHttp64k,
  directHttps1k,
  interceptHttps1k,
  squidBumpHttps1k,
  scannedDownloadBuiltinCold,
  scannedDownloadBuiltinWarm,
  scannedDownloadCicapCold,
  scannedDownloadCicapWarm,
  squidCicapDownload1k,
  scannedDownloadCicap64k,
  squidCicapDownload64k,
  directUpload16k,
  passthroughUpload16k,
  scannedUploadBuiltinCold,
  scannedUploadBuiltinWarm,
  scannedUploadCicapCold,
  scannedUploadCicapWarm,
  squidCicapUpload16k,
  nodeProxyCicapUpload16k,
  workers1PassthroughHttp1k,
  workers2PassthroughHttp1k,
  workers1ScannedUploadCicapWarm,
  workers2ScannedUploadCicapWarm,
  workers1RepeatUploadCicap,
  workers2RepeatUploadCicap,
  largeUploadBuiltin100m,
  largeDownloadBuiltin100m,
  largeUploadBuiltin200m,
  largeDownloadBuiltin200m,
  largeDownloadBuiltinInproc100m,
  slowDownloadHold40m,
  slowDownloadTrickle40m,
  slowDownloadPatience40m,
];
