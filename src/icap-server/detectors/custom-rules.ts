// Operator rules from config: keyword lists (literal, case-insensitive unless asked) and regular
// expressions, each reported under its own name (`keyword:project-falcon`, `regex:order-id`).
import type { TextDetector } from './text-detector.js';

/** Regex matches longer than this may be missed when they straddle two scanning windows. */
export const MAX_CUSTOM_MATCH_CHARS = 1024;

export interface KeywordRule {
  name: string;
  words: readonly string[];
  caseSensitive: boolean;
  minCount: number;
}

export interface RegexRule {
  name: string;
  pattern: string;
  caseSensitive: boolean;
  minCount: number;
}

// Only syntax characters may be escaped under the `u` flag.
const escape = (word: string) => word.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

export function keywordDetector(rule: KeywordRule): TextDetector {
  // Longest first, so "TOP-SECRET" wins over "TOP" at the same place.
  const words = [...rule.words].sort((a, b) => b.length - a.length).map(escape);
  return {
    name: `keyword:${rule.name}`,
    pattern: new RegExp(words.join('|'), rule.caseSensitive ? 'gu' : 'giu'),
    maxMatchChars: Math.max(...rule.words.map((w) => w.length)),
    minCount: rule.minCount,
  };
}

export function regexDetector(rule: RegexRule): TextDetector {
  return {
    name: `regex:${rule.name}`,
    pattern: new RegExp(rule.pattern, rule.caseSensitive ? 'gu' : 'giu'),
    maxMatchChars: MAX_CUSTOM_MATCH_CHARS,
    minCount: rule.minCount,
  };
}
