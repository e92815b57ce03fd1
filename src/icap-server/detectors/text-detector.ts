// The shape of a detector that reads text: a global regular expression finds candidates, and an
// optional check (Luhn, mod-97, range tables) decides how many real findings a candidate holds.

export interface TextDetector {
  /** Name written in X-Violations-Found and on the block page. */
  readonly name: string;
  /** Must carry the `g` flag; lookbehind/lookahead may read at most 64 characters around a match. */
  readonly pattern: RegExp;
  /** Longest text a match can span: sizes the overlap between scanning windows. */
  readonly maxMatchChars: number;
  /** Findings needed before this detector is a violation. */
  readonly minCount: number;
  /** How many findings the candidate holds (0 = a false positive); every candidate counts once when absent. */
  check?(match: RegExpExecArray): number;
}

const WORD = /[A-Za-z0-9_]/;

/**
 * True when the match follows a word character (or a digit and a decimal mark, with `decimal`).
 * Checked here rather than by a leading lookbehind: a pattern that starts with a lookbehind
 * cannot skip ahead to its first literal, which made the card pattern eight times slower.
 */
export function followsWord(m: RegExpExecArray, decimal = false): boolean {
  const before = m.index > 0 ? (m.input[m.index - 1] as string) : '';
  if (WORD.test(before)) return true;
  return decimal && (before === '.' || before === ',') && m.index > 1 && /\d/.test(m.input[m.index - 2] as string);
}
