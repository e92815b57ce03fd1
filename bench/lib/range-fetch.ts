// One GET through the proxy (absolute-form, a fresh connection), optionally with Range: the time
// to the first and to the last byte of the body, and the answer kept whole so the bench can check
// every byte of it (bench/lib/byte-ranges.ts). Bounded by a deadline.
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import type { RangeAnswer } from './byte-ranges.js';

export interface TimedAnswer extends RangeAnswer {
  ttfbMs: number;
  ttlbMs: number;
}

export function getThroughProxy(proxyPort: number, url: string, range: string | undefined, deadlineMs: number): Promise<TimedAnswer> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const t0 = performance.now();
    let ttfbMs = 0;
    const headers: http.OutgoingHttpHeaders = { host: target.host, ...(range === undefined ? {} : { range }) };
    const req = http.get({ host: '127.0.0.1', port: proxyPort, path: url, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => {
        if (chunks.length === 0) ttfbMs = performance.now() - t0;
        chunks.push(chunk);
      });
      res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), ttfbMs, ttlbMs: performance.now() - t0 }));
      res.once('error', reject);
    });
    const timer = setTimeout(() => req.destroy(new Error(`no complete answer within ${Math.round(deadlineMs / 1000)} s`)), deadlineMs);
    req.once('close', () => clearTimeout(timer));
    req.once('error', reject);
  });
}
