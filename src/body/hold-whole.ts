// An adapted body (an ICAP 200's) held whole in a spool of its own, for the verdict and the
// forward: from its stream, or from chunks already in RAM.
import type { Readable } from 'node:stream';
import { Spool, type SpooledBody, type SpoolOptions } from './spool.js';

/**
 * The whole body in a spool of its own. pipe, not stream.pipeline(): Node 20's pipeline aborts an
 * AbortController of its own when it ends, which builds a DOMException with its stack for every
 * held body (2 % of a scanned request in the profile). Either side failing still ends both.
 */
export function holdWhole(body: Readable, options: SpoolOptions): Promise<SpooledBody> {
  const spool = new Spool(options);
  body.once('error', (err) => spool.destroy(err));
  spool.done.catch((err: unknown) => body.destroy(err as Error));
  if (body.readableEnded) spool.end();
  else body.pipe(spool);
  return spool.done;
}

/** Chunks already in RAM (not copied) as a body of its own. */
export function holdChunks(chunks: readonly Buffer[], options: SpoolOptions): Promise<SpooledBody> {
  const spool = new Spool(options);
  for (const chunk of chunks) spool.write(chunk);
  spool.end();
  return spool.done;
}
