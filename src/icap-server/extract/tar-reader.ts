// tar archives (POSIX ustar and pax, GNU long names, old v7) with tar-stream: each regular file is
// a file of its own. tar-stream applies backpressure: an entry is read to its end (awaiting the
// detectors) before the next header is parsed. An archive that stops parsing (a corrupt header)
// has the rest of its bytes read as they are, from the last header that parsed (up to
// MAX_REPLAY_BYTES back), so damage cannot hide what follows it.
import tar from 'tar-stream';
import type { ByteSink } from '../decode/byte-sink.js';
import type { Extraction } from '../decode/extraction.js';
import { charsetText } from '../decode/text-decoders.js';

const MAX_REPLAY_BYTES = 1024 * 1024;

export function tarReader(ctx: Extraction, depth: number): ByteSink {
  const extract = tar.extract({ allowUnknownFormat: true });
  let failed = false;
  let rest: ByteSink | undefined;
  let entryDone: Promise<void> = Promise.resolve();
  /** Chunks written since the last header that parsed: read again as they are if parsing fails. */
  let replay: Buffer[] = [];
  let replayBytes = 0;
  const closed = new Promise<void>((resolve) => {
    extract.once('close', () => resolve());
    extract.once('error', () => {
      failed = true;
      resolve();
    });
  });
  // A late error after 'close' must not crash the worker.
  extract.on('error', () => undefined);
  extract.on('entry', (header, stream, next) => {
    // The chunk being parsed holds this header; what follows it may still be needed.
    replay = replay.slice(-1);
    replayBytes = replay[0]?.length ?? 0;
    entryDone = (async () => {
      const regular = header.type === 'file' || header.type === 'contiguous-file';
      const file = regular && ctx.budget.entry() ? ctx.file({ name: header.name }, depth + 1) : undefined;
      try {
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          if (file && ctx.budget.take(chunk.length)) await file.write(chunk);
        }
      } catch {
        failed = true;
      }
      if (file) await file.end();
      next();
    })();
  });

  const fallBack = async (chunk?: Buffer): Promise<void> => {
    if (rest === undefined) {
      rest = charsetText(ctx.text(depth), undefined);
      const held = replay;
      replay = [];
      for (const c of held) await rest.write(c);
    }
    if (chunk !== undefined) await rest.write(chunk);
  };

  return {
    async write(chunk) {
      if (failed) return fallBack(chunk);
      if (replayBytes < MAX_REPLAY_BYTES) {
        replay.push(chunk);
        replayBytes += chunk.length;
      }
      if (!extract.write(chunk)) await Promise.race([new Promise((resolve) => extract.once('drain', resolve)), closed]);
      if (failed) await fallBack();
    },
    async end() {
      if (!failed) {
        extract.end();
        await closed;
        await entryDone;
      }
      if (failed) await fallBack();
      if (rest) await rest.end();
    },
  };
}
