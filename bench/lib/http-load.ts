// Plain-HTTP load with autocannon, driven from code: N keep-alive connections for a fixed time,
// either straight to the origin (origin-form) or to a forward proxy (absolute-form request target,
// RFC 9112 §3.2.2, with the origin in Host), GETs, or POSTs of a text body (uploads). Latencies go
// into our own histogram so that p50/p99 are computed like the HTTPS generator's.
import autocannon from 'autocannon';
import { LatencyHistogram } from './histogram.js';
import { uploadBody } from './upload-body.js';
import type { LoadResult } from './types.js';

export interface HttpLoadOptions {
  originPort: number;
  /** Send through this forward proxy instead of to the origin. */
  proxyPort?: number;
  path: string;
  connections: number;
  durationMs: number;
  /** POST a text body of this size with each request; `unique`: a different body every time. */
  upload?: { sizeBytes: number; unique: boolean };
  signal?: AbortSignal;
}

export function runHttpLoad(options: HttpLoadOptions): Promise<LoadResult> {
  const origin = `127.0.0.1:${options.originPort}`;
  const histogram = new LatencyHistogram();
  const upload = options.upload;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${options.proxyPort ?? options.originPort}`,
        connections: options.connections,
        duration: options.durationMs / 1000,
        // autocannon looks at its stop flag on each sample tick (1 s by default: a 0.25 s run lasted 1 s)
        sampleInt: 100,
        timeout: 10,
        headers: upload ? { host: origin, 'content-type': 'text/plain' } : { host: origin },
        idReplacement: upload?.unique ?? false,
        requests: [{ method: upload ? 'POST' : 'GET', path: options.proxyPort ? `http://${origin}${options.path}` : options.path, body: upload ? uploadBody(upload.sizeBytes, upload.unique) : undefined }],
      },
      (err, result) => {
        options.signal?.removeEventListener('abort', abort);
        if (err) return reject(err);
        const durationS = result.duration || options.durationMs / 1000;
        resolve({
          requests: result.requests.total,
          errors: result.errors,
          non2xx: result.non2xx,
          durationS,
          reqPerSec: result.requests.total / durationS,
          bytesPerSec: result.throughput.total / durationS,
          p50Ms: histogram.percentile(0.5),
          p99Ms: histogram.percentile(0.99),
          maxMs: histogram.max,
        });
      },
    );
    instance.on('response', (_client: unknown, _status: number, _bytes: number, responseTimeMs: number) => histogram.record(responseTimeMs));
    const abort = () => instance.stop();
    options.signal?.addEventListener('abort', abort, { once: true });
  });
}
