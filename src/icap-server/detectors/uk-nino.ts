// UK National Insurance numbers (HMRC NIM39110): two prefix letters, six digits, a suffix A-D,
// written `QQ123456C` or `QQ 12 34 56 C`. The first letter is never D, F, I, Q, U or V, the second
// never D, F, I, O, Q, U or V, and BG, GB, KN, NK, NT, TN and ZZ are never allocated.
// Confidence: high beside a keyword, label or column header; medium for the spaced form alone;
// low for the compact form alone (product codes look like it) or under another label.
import { keywordNear, keywordPattern, nameOf } from './evidence.js';
import { followsWord, type DetectorRule, type PatternDetector } from './text-detector.js';

const NINO_PATTERN = /([A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z])( ?)(\d{2})\2(\d{2})\2(\d{2})\2([A-D])(?![A-Za-z0-9])/g;
const NEVER_ALLOCATED = new Set(['BG', 'GB', 'KN', 'NK', 'NT', 'TN', 'ZZ']);

export const NINO_KEYWORDS = keywordPattern(['national insurance', 'national insurance number', 'nino', 'ni number', 'ni no', 'nino#', 'insurance number', 'nat ins']);

export function isUkNino(compact: string): boolean {
  return /^[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]\d{6}[A-D]$/.test(compact) && !NEVER_ALLOCATED.has(compact.slice(0, 2));
}

export function ukNinoDetector(rule: DetectorRule): PatternDetector {
  return {
    type: 'pattern',
    name: 'uk-nino',
    pattern: new RegExp(NINO_PATTERN.source, 'y'),
    // two capitals at a word start (a match after a word character is no finding)
    anchor: 'capitals',
    maxMatchChars: 13,
    rule,
    check(m, context) {
      if (followsWord(m) || NEVER_ALLOCATED.has(m[1] ?? '')) return undefined;
      const name = nameOf(m, context);
      if (name !== undefined) return NINO_KEYWORDS.test(name) ? 'high' : 'low';
      if (keywordNear(m, NINO_KEYWORDS)) return 'high';
      return m[2] === ' ' ? 'medium' : 'low';
    },
  };
}
