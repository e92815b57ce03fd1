// Upload bodies for the REQMOD scenarios: plain text (what a DLP service reads), deterministic, and
// clean for every detector of the built-in service and of c-icap's srv_cfg_filter rules: words
// only, no digit runs (card numbers, SSNs, IBANs), no keywords. A unique body puts autocannon's
// per-request id (`[<id>]`, replaced on every request) at its start.
const WORDS = ['report', 'quarterly', 'meeting', 'notes', 'draft', 'project', 'summary', 'review', 'budget', 'plan', 'team', 'update', 'customer', 'feedback', 'release', 'schedule'];

/** `sizeBytes` of text: lines of words, the same bytes for the same size. */
export function textBody(sizeBytes: number): Buffer {
  const out = Buffer.alloc(sizeBytes, 0x20);
  let at = 0;
  let i = 0;
  let column = 0;
  while (at < sizeBytes) {
    const word = WORDS[(i * 7 + (i >> 3)) % WORDS.length]!;
    i += 1;
    const piece = column + word.length > 70 ? `\n${word}` : ` ${word}`;
    column = piece.startsWith('\n') ? word.length : column + piece.length;
    at += out.write(piece, at, 'latin1');
  }
  return out;
}

/** autocannon's placeholder, replaced by a fresh id on every request when idReplacement is on. */
export const ID_PLACEHOLDER = '[<id>]';

/**
 * The body autocannon sends: `sizeBytes` once the placeholder is replaced. autocannon replaces it
 * with a 27-character id and sizes content-length for that (autocannon 9 httpRequestBuilder).
 */
export function uploadBody(sizeBytes: number, unique: boolean): string {
  const text = textBody(sizeBytes).toString('latin1');
  return unique ? `${ID_PLACEHOLDER}${text.slice(27 + ID_PLACEHOLDER.length)}` : text;
}
