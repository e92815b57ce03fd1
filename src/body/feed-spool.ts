// Feeding a body into its spool with a cap. Unlike pipe(), it stops *at* the cap without losing a
// byte: the chunk that would cross it is handed back and the source stays paused with the rest
// unread, so the caller can either refuse the body or send prefix + chunk + rest on unscanned
// (`oversizeAction: pass`). Backpressure is kept: a slow spool (disk) pauses the source.
import { Readable } from 'node:stream';
import { ProxyError, type ErrorCode } from '../core/errors.js';
import type { Spool } from './spool.js';

export interface Overflow {
  /** the first chunk that did not fit */
  chunk: Buffer;
  /** the source, paused, holding everything after `chunk` */
  rest: Readable;
}

/**
 * Pipe `source` into `spool` until it ends (the spool is ended: resolves undefined) or until the
 * next chunk would take it past `maxBytes` (resolves the overflow; the spool is left open for the
 * caller to end or destroy). A source that fails or goes away mid-body destroys the spool with
 * `lostCode`, which its `done` then rejects with.
 */
export function feedSpool(source: Readable, spool: Spool, maxBytes: number, lostCode: ErrorCode, lostWhat: string): Promise<Overflow | undefined> {
  return new Promise((resolve) => {
    let size = 0;
    const resume = () => source.resume();
    const cleanup = () => {
      source.off('data', onData);
      source.off('end', onEnd);
      source.off('error', onLost);
      source.off('aborted', onLost);
      source.off('close', onClose);
      spool.off('drain', resume);
      spool.off('close', onSpoolClose);
    };
    const onData = (chunk: Buffer) => {
      if (size + chunk.length > maxBytes) {
        source.pause();
        cleanup();
        resolve({ chunk, rest: source });
        return;
      }
      size += chunk.length;
      if (!spool.write(chunk)) {
        source.pause();
        spool.once('drain', resume);
      }
    };
    const onEnd = () => {
      cleanup();
      spool.end();
      resolve(undefined);
    };
    const onLost = (err?: Error) => {
      cleanup();
      spool.destroy(new ProxyError(lostCode, `${lostWhat} went away mid-body${err?.message ? `: ${err.message}` : ''}`, { cause: err }));
      resolve(undefined);
    };
    const onClose = () => {
      if (!source.readableEnded) onLost();
    };
    // The spool failed by itself (a disk error): stop reading; its `done` carries the error.
    const onSpoolClose = () => {
      cleanup();
      source.pause();
      resolve(undefined);
    };
    source.on('data', onData);
    source.once('end', onEnd);
    source.once('error', onLost);
    source.once('aborted', onLost);
    source.once('close', onClose);
    spool.once('close', onSpoolClose);
    source.resume();
  });
}

/**
 * After an overflow, the whole body unscanned: what the spool holds, the chunk that did not fit,
 * then the rest of the source, with backpressure. Ends the spool; its memory and temp file are
 * released once the stream has been read or destroyed.
 */
export function overflowStream(spool: Spool, overflow: Overflow): Readable {
  spool.end();
  const parts = async function* () {
    const prefix = await spool.done;
    try {
      yield* prefix.replay();
      yield overflow.chunk;
      yield* overflow.rest;
    } finally {
      await prefix.dispose();
    }
  };
  return Readable.from(parts(), { objectMode: false });
}
