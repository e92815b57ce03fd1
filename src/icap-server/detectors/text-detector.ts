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
