// The shape of a detector that reads text, in the manner of Microsoft Purview's sensitive
// information types: a global regular expression finds candidates, a check (Luhn, mod-97, range
// tables, supporting evidence around the match) gives each candidate a confidence, and a rule
// counts the candidates at or above its minimum confidence: the detector is a violation once that
// count reaches the rule's minimum.
//   low    pattern and checksum only, or evidence that it is something else (a column named "id")
//   medium pattern and checksum, standing on its own in the form people write it
//   high   plus supporting evidence: a keyword within the evidence window, a valid expiry, a
//          column header or a label that names it
// Stream detectors (exact data match, document fingerprints) read the whole text instead.
import type { FindingSink } from './findings.js';
import type { PrefilterAnchor } from './prefilter/text-prefilter.js';

export const CONFIDENCES = ['low', 'medium', 'high'] as const;
export type Confidence = (typeof CONFIDENCES)[number];

export const confidenceRank = (c: Confidence): number => CONFIDENCES.indexOf(c);

/** When a detector is a violation: at least `minCount` findings of at least `minConfidence`. */
export interface DetectorRule {
  minConfidence: Confidence;
  minCount: number;
}

/** What a check may read besides the match itself (whose `input` is the current window). */
export interface MatchContext {
  /** The first line of this text when it reads as a table header (delimited, no long numbers). */
  header: string | undefined;
}

export interface PatternDetector {
  readonly type: 'pattern';
  /** Name written in X-Violations-Found and on the block page. */
  readonly name: string;
  /** The `g` flag, or `y` with an anchor; a check may read EVIDENCE_CHARS around a match. */
  readonly pattern: RegExp;
  /** Longest text a match can span: sizes the overlap between scanning windows. */
  readonly maxMatchChars: number;
  readonly rule: DetectorRule;
  /** Count distinct values (e-mail address bulk): the value a match stands for, counted once per body. */
  distinctValue?(match: RegExpExecArray): string;
  /**
   * Literals one of which every match contains (`AKIA`, `ASIA`; printable ASCII): TextScanner
   * looks for the triggers of all detectors in one pass and runs a detector only on windows
   * holding one of its own. A case-insensitive pattern's triggers are looked for in any case, and
   * with the `u` flag also spelt with the two letters that fold to ASCII ones (U+017F ſ for s,
   * U+212A K for k).
   */
  readonly triggers?: readonly string[];
  /** Look for the triggers in any ASCII case (a pattern that spells the cases out); the default is the pattern's `i` flag. */
  readonly triggersIgnoreCase?: boolean;
  /**
   * Where matches may start, shared by detectors with the same first characters: TextScanner finds
   * the anchor's positions once per window (a pattern's matches, or for a named anchor the text
   * prefilter's list, prefilter/text-prefilter.ts) and runs each sharing detector's sticky (`y`)
   * pattern at those positions only, instead of one full pass per detector.
   */
  readonly anchor?: RegExp | PrefilterAnchor;
  /** The candidate's confidence; undefined = not a finding at all. Every candidate is `medium` when absent. */
  check?(match: RegExpExecArray, context: MatchContext): Confidence | undefined;
}

/** A detector that reads every character of a text once, in order (EDM, fingerprints). */
export interface StreamDetector {
  readonly type: 'stream';
  readonly name: string;
  /** A fresh reader for one text; it records its findings when the text ends. */
  open(findings: FindingSink): TextReader;
}

export interface TextReader {
  write(text: string): void;
  end(): void;
}

export type TextDetector = PatternDetector | StreamDetector;


/** Characters around a match that a check may read for supporting evidence (Purview's proximity). */
export const EVIDENCE_CHARS = 300;

const WORD = /[A-Za-z0-9_]/;

/**
 * True when the match follows a word character (or a digit and a decimal mark, with `decimal`).
 * Checked here rather than by a leading lookbehind: a pattern that starts with a lookbehind
 * cannot skip ahead to its first literal, which made the card pattern eight times slower.
 */
export function followsWord(m: RegExpExecArray, decimal = false): boolean {
  const before = m.index > 0 ? (m.input[m.index - 1] as string) : '';
  if (WORD.test(before)) return true;
  if (!decimal || (before !== '.' && before !== ',') || m.index < 2 || !/\d/.test(m.input[m.index - 2] as string)) return false;
  return before === '.' || !commaDelimited(m, '');
}

/**
 * True when a decimal mark and a digit follow the match (`4111….5`), so the digits are part of a
 * number. A comma is a decimal mark only outside comma-separated rows: `4136 5209 9055 6611,05/28`
 * is a card and an expiry in two CSV cells.
 */
export function touchesDecimal(m: RegExpExecArray): boolean {
  const end = m.index + m[0].length;
  const after = m.input[end];
  if ((after !== '.' && after !== ',') || !/\d/.test(m.input[end + 1] ?? '')) return false;
  return after === '.' || !commaDelimited(m, m.input.slice(end + 1, end + 24));
}

/** The match's line holds two commas or more, or the cell after the comma is not a plain number (`05/28`). */
function commaDelimited(m: RegExpExecArray, nextCell: string): boolean {
  const { start, end } = lineBounds(m.input, m.index);
  if (m.input.slice(start, end).split(',').length > 2) return true;
  return /^\d+[^\s\d.,]/.test(nextCell);
}

/** The line around `index`, at most EVIDENCE_CHARS each way (a minified file is one long line). */
export function lineBounds(text: string, index: number): { start: number; end: number } {
  let start = index;
  const from = Math.max(0, index - EVIDENCE_CHARS);
  while (start > from && text.charCodeAt(start - 1) !== 10) start--;
  let end = index;
  const to = Math.min(text.length, index + EVIDENCE_CHARS);
  while (end < to && text.charCodeAt(end) !== 10) end++;
  return { start, end };
}
