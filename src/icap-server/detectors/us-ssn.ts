// US Social Security numbers written as AAA-GG-SSSS (or with spaces). Unformatted nine-digit runs
// are not matched: they are indistinguishable from other identifiers. Numbers the SSA never issues
// are excluded (area 000, 666, 900-999; group 00; serial 0000), and so are well-known published
// numbers (the Woolworth wallet card 078-05-1120 and others). Confidence: high beside an SSN
// keyword, label or column header; medium for the dashed form alone in prose; low for the spaced
// form alone, among other numbers, or under a label that names something else.
import { inNumericContext, keywordNear, keywordPattern, nameOf } from './evidence.js';
import { followsWord, touchesDecimal, type DetectorRule, type PatternDetector } from './text-detector.js';

const KNOWN_FAKES = new Set(['078051120', '219099999', '457555462', '123456789']);

export function isUsSsn(area: string, group: string, serial: string): boolean {
  if (area === '000' || area === '666' || area[0] === '9') return false;
  if (group === '00' || serial === '0000') return false;
  return !KNOWN_FAKES.has(area + group + serial);
}

const SSN_PATTERN = /(\d{3})([- ])(\d{2})\2(\d{4})(?![\w-])/g;

export const SSN_KEYWORDS = keywordPattern([
  'ssn', 'ssns', 'ssn#', 'ss#', 'ss #', 'social security', 'social security number', 'soc sec', 'ssa', 'ssid', 'taxpayer', 'tin', 'itin', 'tax id',
]);

export function usSsnDetector(rule: DetectorRule): PatternDetector {
  return {
    type: 'pattern',
    name: 'us-ssn',
    pattern: new RegExp(SSN_PATTERN.source, 'y'),
    // the fixed part `ddd-dd-dddd` (or blanks), wherever it stands: the check reads the word around it
    anchor: 'ssn-core',
    maxMatchChars: 11,
    rule,
    check(m, context) {
      if (followsWord(m, true) || touchesDecimal(m) || m.input[m.index - 1] === '-' || !isUsSsn(m[1] ?? '', m[3] ?? '', m[4] ?? '')) return undefined;
      const name = nameOf(m, context);
      if (name !== undefined) return SSN_KEYWORDS.test(name) ? 'high' : 'low';
      const numeric = inNumericContext(m);
      if (keywordNear(m, SSN_KEYWORDS)) return numeric ? 'medium' : 'high';
      return !numeric && m[2] === '-' ? 'medium' : 'low';
    },
  };
}
