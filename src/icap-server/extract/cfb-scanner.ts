// Compound File Binary (MS-CFB: legacy .doc/.xls/.msg, and the wrapper of every password-protected
// OOXML document). An encrypted docx/xlsx/pptx is a CFB file holding an `EncryptedPackage` stream
// (MS-OFFCRYPTO §2.3.4.4): a directory entry by that name (UTF-16LE, at the start of a 128-byte
// entry) makes the file `encrypted-content`. The bytes still go to the text view as they are.
import type { ByteSink } from '../decode/byte-sink.js';
import type { Extraction } from '../decode/extraction.js';

const ENTRY_NAME = Buffer.from('EncryptedPackage\u0000', 'utf16le');
const DIRECTORY_ENTRY_BYTES = 128;

export function cfbScanner(ctx: Extraction, text: ByteSink): ByteSink {
  let carry = Buffer.alloc(0);
  /** Absolute offset of carry[0]. */
  let base = 0;
  let found = false;
  const search = (chunk: Buffer) => {
    const data = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
    for (let at = data.indexOf(ENTRY_NAME); at >= 0 && !found; at = data.indexOf(ENTRY_NAME, at + 1)) {
      if ((base + at) % DIRECTORY_ENTRY_BYTES === 0) found = true;
    }
    const keep = Math.min(data.length, ENTRY_NAME.length - 1);
    base += data.length - keep;
    carry = Buffer.from(data.subarray(data.length - keep));
  };
  return {
    async write(chunk) {
      if (!found) search(chunk);
      await text.write(chunk);
    },
    async end() {
      if (found) ctx.encrypted();
      await text.end();
    },
  };
}
