// A zip inside a file that is not one: appended to an image (`cat photo.png plans.zip`), behind a
// self-extractor's code, or after a zip header that lies about its size. Unzip tools find such an
// archive from its end records and read it; so the bytes of every file read as raw text are also
// watched for a local file header signature, and from the first one on they go to a zip reader
// as well (one level deeper).
import type { ByteSink } from '../decode/byte-sink.js';
import type { Extraction } from '../decode/extraction.js';
import { zipReader } from './zip-reader.js';

const SIGNATURE = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
const NOTHING: ByteSink = { write: async () => undefined, end: async () => undefined };

export function embeddedZipWatcher(ctx: Extraction, depth: number, downstream: ByteSink): ByteSink {
  let tail = Buffer.alloc(0);
  let zip: ByteSink | undefined;
  let given = false;
  return {
    async write(chunk) {
      await downstream.write(chunk);
      if (zip !== undefined) return zip.write(chunk);
      if (given) return;
      // The chunk is joined to the end of the previous one only when a signature spans the seam:
      // copying every chunk of every raw file to look across it was a tenth of a text scan.
      const spans = tail.length > 0 && (chunk.length < SIGNATURE.length || Buffer.concat([tail, chunk.subarray(0, SIGNATURE.length - 1)]).indexOf(SIGNATURE) >= 0);
      const data = spans ? Buffer.concat([tail, chunk]) : chunk;
      const at = data.indexOf(SIGNATURE);
      if (at < 0) {
        tail = Buffer.from(data.subarray(Math.max(0, data.length - (SIGNATURE.length - 1))));
        return;
      }
      given = true;
      tail = Buffer.alloc(0);
      if (!ctx.mayOpen(depth)) return;
      // The downstream reads every byte as text already: what the zip reader cannot account
      // for (and its names) would count twice.
      zip = zipReader(ctx, depth, () => NOTHING);
      await zip.write(data.subarray(at));
    },
    async end() {
      await downstream.end();
      if (zip !== undefined) await zip.end();
    },
  };
}
