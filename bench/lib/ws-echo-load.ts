// WebSocket load against an echo origin: text messages of a fixed size, each either unique (a
// fresh id at its start: every one is a verdict-cache miss) or the same bytes every time (after
// the first, the cache answers). Two measurements: round trips one at a time on one connection
// (latency), and N connections each keeping one message in flight until a deadline (throughput).
// Every echo is compared with what was sent; a connection that closes mid-run fails the row.
import { performance } from 'node:perf_hooks';
import type WebSocket from 'ws';
import { LatencyHistogram } from './histogram.js';
import { textBody } from './upload-body.js';

export const ID_LETTERS = 8;

/**
 * The id of message `seq` in letters (base 26, `ID_LETTERS` long): unique messages must stay clean
 * for every DLP detector, and digit runs are what card, SSN and IBAN detectors look at.
 */
export function letterId(seq: number): string {
  let out = '';
  let n = seq;
  for (let i = 0; i < ID_LETTERS; i++) {
    out = String.fromCharCode(97 + (n % 26)) + out;
    n = Math.floor(n / 26);
  }
  return out;
}

export interface MessageSource {
  /** the next message to send (text, `sizeBytes` long) */
  next(): Buffer;
}

/** Ids of unique messages, shared by every source of the process: no two rows send the same one. */
let uniqueSeq = 0;

/**
 * Clean text messages of `sizeBytes` (more than ID_LETTERS): the same one every time (its id is
 * letterId(0)), or each with an id never used before in this process.
 */
export function messageSource(sizeBytes: number, unique: boolean): MessageSource {
  const template = textBody(sizeBytes);
  template.write(`${letterId(0)} `, 0, 'latin1');
  return {
    next() {
      if (!unique) return template;
      const message = Buffer.from(template);
      message.write(letterId(++uniqueSeq), 0, 'latin1');
      return message;
    },
  };
}

/** Send one text message and wait for its echo; rejects on a different echo or a close. */
export function roundTrip(ws: WebSocket, message: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const onMessage = (data: WebSocket.RawData) => {
      cleanup();
      const echo = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      if (echo.equals(message)) resolve();
      else reject(new Error(`echo of ${echo.length} bytes differs from the ${message.length} sent`));
    };
    const onClose = (code: number, reason: Buffer) => {
      cleanup();
      reject(new Error(`connection closed ${code} ${reason.toString()}`.trim()));
    };
    const cleanup = () => {
      ws.off('message', onMessage);
      ws.off('close', onClose);
    };
    ws.on('message', onMessage);
    ws.once('close', onClose);
    ws.send(message, { binary: false });
  });
}

export interface LatencyResult {
  messages: number;
  p50Ms: number;
  p99Ms: number;
}

/** One message in flight on one connection until `durationMs` passed or `maxMessages` were sent. */
export async function measureLatency(ws: WebSocket, source: MessageSource, durationMs: number, maxMessages: number): Promise<LatencyResult> {
  const histogram = new LatencyHistogram();
  const deadline = performance.now() + durationMs;
  while (performance.now() < deadline && histogram.count < maxMessages) {
    const message = source.next();
    const t0 = performance.now();
    await roundTrip(ws, message);
    histogram.record(performance.now() - t0);
  }
  return { messages: histogram.count, p50Ms: histogram.percentile(0.5), p99Ms: histogram.percentile(0.99) };
}

export interface ThroughputResult {
  messages: number;
  seconds: number;
  perSec: number;
  /** under load, N in flight */
  p50Ms: number;
  p99Ms: number;
}

/** Every connection keeps one message in flight until `durationMs` passed; the first failure ends the run. */
export async function measureThroughput(clients: readonly WebSocket[], source: MessageSource, durationMs: number): Promise<ThroughputResult> {
  const histogram = new LatencyHistogram();
  const t0 = performance.now();
  const deadline = t0 + durationMs;
  await Promise.all(
    clients.map(async (ws) => {
      while (performance.now() < deadline) {
        const message = source.next();
        const sent = performance.now();
        await roundTrip(ws, message);
        histogram.record(performance.now() - sent);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  return { messages: histogram.count, seconds, perSec: histogram.count / seconds, p50Ms: histogram.percentile(0.5), p99Ms: histogram.percentile(0.99) };
}
