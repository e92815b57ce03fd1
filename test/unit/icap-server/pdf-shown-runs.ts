// What a content stream parser shows, written out for the tests to compare: runs of codes (latin1)
// after their font's name, separators as a line break or a space.
import type { ShownText } from '../../../src/icap-server/extract/pdf-shown-text.js';
import { NEW_LINE, WORD_GAP } from '../../../src/icap-server/extract/pdf-shown-text.js';

export function shownRuns({ codes, runs, fonts, used }: ShownText): string {
  let out = '';
  for (let k = 0; k < used; k += 2) {
    const kind = runs[k] as number;
    if (kind === NEW_LINE || kind === WORD_GAP) out += kind === NEW_LINE ? '\n' : ' ';
    else out += `${fonts[kind]}[${Buffer.from(codes.bytes.subarray(k === 0 ? 0 : runs[k - 1], runs[k + 1])).toString('latin1')}]`;
  }
  return out;
}
