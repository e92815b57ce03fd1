// The same files uploaded again through a proxy of several worker processes: `bodies` distinct
// text bodies, each POSTed on a connection of its own (no keep-alive), so node:cluster deals the
// requests to every worker in turn. prime() sends each body once (each is scanned: the cache is
// cold); repeat() sends each again `times` times in a row. A verdict cache per worker answers a
// repeat only when it lands on the worker that scanned the body (about half the time with two
// workers); one cache per host answers every repeat, whichever worker takes it.
import crypto from 'node:crypto';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { LatencyHistogram } from './histogram.js';
import type { LoadResult } from './types.js';
import { textBody } from './upload-body.js';

export interface RepeatUploadOptions {
  proxyPort: number;
  originPort: number;
  bodies: number;
  sizeBytes: number;
  times: number;
  /** Clients in parallel, each working through its share of the bodies. */
  connections: number;
  signal?: AbortSignal;
}

/** `n` in letters (a, b, … z, ba, …): a DLP service flags digit runs, not words. */
export function letters(n: number): string {
  let out = '';
  do {
    out = String.fromCharCode(97 + (n % 26)) + out;
    n = Math.floor(n / 26);
  } while (n > 0);
  return out;
}

/** Body `index` of the run `runId`: a first line that names it, then clean text, `sizeBytes` in all. */
export function repeatBody(runId: string, index: number, sizeBytes: number): Buffer {
  const head = Buffer.from(`upload ${runId} ${letters(index)}\n`, 'latin1');
  return Buffer.concat([head, textBody(Math.max(0, sizeBytes - head.length))]);
}

function post(options: RepeatUploadOptions, body: Buffer): Promise<number> {
  const authority = `127.0.0.1:${options.originPort}`;
  return new Promise((resolve) => {
    const req = http.request(
      { host: '127.0.0.1', port: options.proxyPort, method: 'POST', path: `http://${authority}/upload`, agent: false, timeout: 10_000, headers: { host: authority, 'content-type': 'text/plain', 'content-length': body.length } },
      (res) => {
        res.resume();
        res.once('end', () => resolve(res.statusCode ?? 0));
        res.once('error', () => resolve(0));
      },
    );
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(0));
    req.end(body);
  });
}

export class RepeatUploads {
  /** Letters only, new for every scenario run: no body of an earlier run is in any cache. */
  readonly runId = letters(crypto.randomInt(26 ** 5, 26 ** 6));

  constructor(private readonly options: RepeatUploadOptions) {}

  /** Each body once: the first scan of every one. */
  prime(): Promise<LoadResult> {
    return this.#send(1);
  }

  /** Each body again, `times` times in a row: what the measured phase counts. */
  repeat(): Promise<LoadResult> {
    return this.#send(this.options.times);
  }

  async #send(times: number): Promise<LoadResult> {
    const { bodies, sizeBytes, connections, signal } = this.options;
    const histogram = new LatencyHistogram();
    let next = 0;
    let ok = 0;
    let errors = 0;
    let non2xx = 0;
    const started = performance.now();
    const client = async (): Promise<void> => {
      while (next < bodies && !signal?.aborted) {
        const body = repeatBody(this.runId, next++, sizeBytes);
        for (let i = 0; i < times && !signal?.aborted; i++) {
          const t = performance.now();
          const status = await post(this.options, body);
          histogram.record(performance.now() - t);
          if (status === 0) errors += 1;
          else if (status < 200 || status > 299) non2xx += 1;
          else ok += 1;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(connections, bodies) }, client));
    const durationS = (performance.now() - started) / 1000;
    return { requests: ok + non2xx, errors, non2xx, durationS, reqPerSec: (ok + non2xx) / durationS, bytesPerSec: ((ok + non2xx) * sizeBytes) / durationS, p50Ms: histogram.percentile(0.5), p99Ms: histogram.percentile(0.99), maxMs: histogram.max };
  }
}
