// Operator rules from config: keyword lists (literal, case-insensitive unless asked) and regular
// expressions, each reported under its own name (`keyword:project-falcon`, `regex:order-id`), with
// the knobs of the built-in detectors: a match is medium, high when one of the rule's supporting
// words is within the evidence window, and the rule blocks at its minimum confidence and count.
import { keywordNear, keywordPattern } from './evidence.js';
import type { Confidence, DetectorRule, PatternDetector } from './text-detector.js';

/** Regex matches longer than this may be missed when they straddle two scanning windows. */
export const MAX_CUSTOM_MATCH_CHARS = 1024;

interface CustomRule {
  name: string;
  caseSensitive: boolean;
  minCount: number;
  minConfidence: Confidence;
  supportingWords: readonly string[];
}

export interface KeywordRule extends CustomRule {
  words: readonly string[];
}

export interface RegexRule extends CustomRule {
  pattern: string;
}

// Only syntax characters may be escaped under the `u` flag.
const escape = (word: string) => word.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

function confidenceOf(rule: CustomRule): (m: RegExpExecArray) => Confidence {
  if (rule.supportingWords.length === 0) return () => 'medium';
  const supporting = keywordPattern(rule.supportingWords);
  return (m) => (keywordNear(m, supporting) ? 'high' : 'medium');
}

const ruleOf = (rule: CustomRule): DetectorRule => ({ minConfidence: rule.minConfidence, minCount: rule.minCount });

/** Longer words are looked for by their first characters; the pattern reads them whole. */
const MAX_TRIGGER_CHARS = 32;

/**
 * A keyword list's trigger literals (text-detector.ts): the words themselves, cut to
 * MAX_TRIGGER_CHARS, when every word is printable ASCII of at least three characters (Teddy reads
 * three); otherwise none, and the rule's pattern runs on every window.
 */
function keywordTriggers(words: readonly string[]): string[] | undefined {
  if (!words.every((w) => /^[\x20-\x7e]{3,}$/.test(w))) return undefined;
  return [...new Set(words.map((w) => w.slice(0, MAX_TRIGGER_CHARS)))];
}

export function keywordDetector(rule: KeywordRule): PatternDetector {
  // Longest first, so "TOP-SECRET" wins over "TOP" at the same place.
  const words = [...rule.words].sort((a, b) => b.length - a.length).map(escape);
  return {
    type: 'pattern',
    name: `keyword:${rule.name}`,
    triggers: keywordTriggers(rule.words),
    pattern: new RegExp(words.join('|'), rule.caseSensitive ? 'gu' : 'giu'),
    maxMatchChars: Math.max(...rule.words.map((w) => w.length)),
    rule: ruleOf(rule),
    check: confidenceOf(rule),
  };
}

export function regexDetector(rule: RegexRule): PatternDetector {
  return {
    type: 'pattern',
    name: `regex:${rule.name}`,
    pattern: new RegExp(rule.pattern, rule.caseSensitive ? 'gu' : 'giu'),
    maxMatchChars: MAX_CUSTOM_MATCH_CHARS,
    rule: ruleOf(rule),
    check: confidenceOf(rule),
  };
}
