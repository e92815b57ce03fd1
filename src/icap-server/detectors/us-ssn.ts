// US Social Security numbers written as AAA-GG-SSSS (or with spaces). Unformatted nine-digit runs
// are not matched: they are indistinguishable from other identifiers. Numbers the SSA never issues
// are excluded (area 000, 666, 900-999; group 00; serial 0000), and so are well-known published
// numbers (the Woolworth wallet card 078-05-1120 and others).
import { followsWord, type TextDetector } from './text-detector.js';

const KNOWN_FAKES = new Set(['078051120', '219099999', '457555462', '123456789']);

export function isUsSsn(area: string, group: string, serial: string): boolean {
  if (area === '000' || area === '666' || area[0] === '9') return false;
  if (group === '00' || serial === '0000') return false;
  return !KNOWN_FAKES.has(area + group + serial);
}

const SSN_PATTERN = /(\d{3})([- ])(\d{2})\2(\d{4})(?![\w-]|[.,]\d)/g;

export function usSsnDetector(minCount: number): TextDetector {
  return {
    name: 'us-ssn',
    pattern: new RegExp(SSN_PATTERN.source, 'g'),
    maxMatchChars: 11,
    minCount,
    check: (m) => (!followsWord(m, true) && m.input[m.index - 1] !== '-' && isUsSsn(m[1] ?? '', m[3] ?? '', m[4] ?? '') ? 1 : 0),
  };
}
