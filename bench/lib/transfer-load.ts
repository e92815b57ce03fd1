// One large transfer through a forward proxy, for the memory-bounded scanning scenarios: a download
// of the origin's /stream/N (64 KiB chunks with backpressure) or an upload of N bytes of text
// written in 64 KiB chunks, waiting for 'drain', with a content-length. Read and written as fast as
// the proxy allows; bounded by a deadline and the run's abort signal.
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { textBody } from './upload-body.js';
import type { LoadResult } from './types.js';

export interface TransferOptions {
  proxyPort: number;
  originPort: number;
  direction: 'upload' | 'download';
  sizeBytes: number;
  deadlineMs: number;
  signal?: AbortSignal;
}

const CHUNK_BYTES = 64 * 1024;

function transfer(options: TransferOptions): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const authority = `127.0.0.1:${options.originPort}`;
    const upload = options.direction === 'upload';
    const target = upload ? `http://${authority}/upload` : `http://${authority}/stream/${options.sizeBytes}`;
    const headers: http.OutgoingHttpHeaders = { host: authority };
    if (upload) Object.assign(headers, { 'content-type': 'text/plain', 'content-length': options.sizeBytes });
    const req = http.request({ host: '127.0.0.1', port: options.proxyPort, method: upload ? 'POST' : 'GET', path: target, headers, agent: false }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      });
      res.once('end', () => resolve({ status: res.statusCode ?? 0, bytes: upload ? sent : bytes }));
      res.once('error', reject);
    });
    const timer = setTimeout(() => req.destroy(new Error(`not finished within ${Math.round(options.deadlineMs / 1000)} s`)), options.deadlineMs);
    const abort = () => req.destroy(new Error('interrupted'));
    options.signal?.addEventListener('abort', abort, { once: true });
    req.once('close', () => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', abort);
    });
    req.once('error', reject);

    let sent = 0;
    if (!upload) return void req.end();
    const chunk = textBody(CHUNK_BYTES);
    // a blocked upload is answered before the body is read: stop writing then
    let answered = false;
    req.once('response', () => {
      answered = true;
    });
    const pump = (): void => {
      while (sent < options.sizeBytes && !answered) {
        const n = Math.min(CHUNK_BYTES, options.sizeBytes - sent);
        sent += n;
        if (!req.write(n === CHUNK_BYTES ? chunk : chunk.subarray(0, n))) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

/** The transfer as a one-request load result: its time, throughput and status. */
export async function runTransfer(options: TransferOptions): Promise<LoadResult> {
  const t0 = performance.now();
  let status = 0;
  let bytes = 0;
  let errors = 0;
  try {
    ({ status, bytes } = await transfer(options));
  } catch {
    errors = 1;
  }
  const durationS = (performance.now() - t0) / 1000;
  const ok = errors === 0 && status === 200 && bytes === options.sizeBytes;
  return {
    requests: errors === 0 ? 1 : 0,
    errors,
    non2xx: errors === 0 && !ok ? 1 : 0,
    durationS,
    reqPerSec: errors === 0 ? 1 / durationS : 0,
    bytesPerSec: bytes / durationS,
    p50Ms: durationS * 1000,
    p99Ms: durationS * 1000,
    maxMs: durationS * 1000,
  };
}
