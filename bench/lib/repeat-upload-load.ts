// The same files uploaded again through a proxy of several worker processes: `bodies` distinct
// text bodies, each POSTed on a connection of its own (no keep-alive), so node:cluster deals the
// requests to every worker in turn. prime() sends each body once (each is scanned: the cache is
// cold); repeat() sends each again `times` times in a row. A verdict cache per worker answers a
// repeat only when it lands on the worker that scanned the body (about half the time with two
// workers); one cache per host answers every repeat, whichever worker takes it.
import crypto from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { LatencyHistogram } from './histogram.js';
import type { LoadResult } from './types.js';
import { textBody } from './upload-body.js';
import { postThrough } from './upload-load.js';

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
          // agent false: a connection of its own, for node:cluster to deal to the next worker
          const status = await postThrough(this.options.proxyPort, `http://127.0.0.1:${this.options.originPort}/upload`, body, false);
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
