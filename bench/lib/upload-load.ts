// Closed-loop upload load for the standalone benches (icap-balancing, scale-out): N keep-alive
// clients post distinct bodies through the proxy until a deadline or a request cap, with an
// optional action halfway (a peer killed under load). Loopback only.
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { LatencyHistogram } from './histogram.js';

export interface UploadLoadResult {
  uploads: number;
  perSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

export interface UploadLoadOptions {
  proxyPort: number;
  /** absolute-form target, e.g. http://127.0.0.1:PORT/upload */
  url: string;
  connections: number;
  durationMs: number;
  maxRequests: number;
  /** a distinct body per call (each is a verdict-cache miss) */
  body(): string;
  midway?: (() => Promise<void>) | undefined;
}

/** One POST through the proxy; resolves with the status (0 on a transport error). */
export function postThrough(port: number, url: string, body: string | Buffer, agent: http.Agent | false): Promise<number> {
  return new Promise<number>((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: url, agent, timeout: 10_000, headers: { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

export async function uploadLoad(options: UploadLoadOptions): Promise<UploadLoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.connections });
  const histogram = new LatencyHistogram();
  let uploads = 0;
  let errors = 0;
  const started = performance.now();
  const deadline = started + options.durationMs;
  const client = async () => {
    while (performance.now() < deadline && uploads + errors < options.maxRequests) {
      const t = performance.now();
      const status = await postThrough(options.proxyPort, options.url, options.body(), agent);
      histogram.record(performance.now() - t);
      if (status === 200) uploads++;
      else errors++;
    }
  };
  const midway = options.midway;
  const halfway = midway ? new Promise((r) => setTimeout(r, options.durationMs / 2)).then(midway) : Promise.resolve();
  await Promise.all([...Array.from({ length: options.connections }, client), halfway]);
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  return { uploads, perSec: uploads / seconds, p50Ms: histogram.percentile(0.5), p99Ms: histogram.percentile(0.99), errors };
}
