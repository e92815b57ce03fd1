// Supporting evidence around a candidate, read from the scanning window (the scanner keeps
// EVIDENCE_CHARS of text on each side of a match): keywords in proximity, the label or column
// header that names the value, and whether the value sits among other numbers (a data table,
// a log line) rather than in prose. Detectors combine these into a confidence.
import { EVIDENCE_CHARS, lineBounds, type MatchContext } from './text-detector.js';

/**
 * A case-insensitive keyword list as one regular expression, each keyword a whole word. With
 * `notAfterDot`, not what follows a word and a dot either: in `hb-subset.cc` the card keyword "cc"
 * is a C++ file's extension (a member such as `payment.cc = …` is still read as the value's label).
 */
export function keywordPattern(words: readonly string[], options: { notAfterDot?: boolean } = {}): RegExp {
  const escaped = [...words].sort((a, b) => b.length - a.length).map((w) => w.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&').replace(/ /g, '[\\s_-]?'));
  const before = options.notAfterDot === true ? '[\\p{L}\\p{N}]|[\\p{L}\\p{N}]\\.' : '[\\p{L}\\p{N}]';
  return new RegExp(`(?<!${before})(?:${escaped.join('|')})(?![\\p{L}\\p{N}])`, 'iu');
}

/** True when `keywords` occurs within `windowChars` before or after the match. */
export function keywordNear(m: RegExpExecArray, keywords: RegExp, windowChars = EVIDENCE_CHARS): boolean {
  const from = Math.max(0, m.index - windowChars);
  const to = Math.min(m.input.length, m.index + m[0].length + windowChars);
  return keywords.test(m.input.slice(from, m.index)) || keywords.test(m.input.slice(m.index + m[0].length, to));
}

/** `cardNumber`, `card_number`, `Card-No.` → "card number", "card no": the words of a label. */
export function labelWords(label: string): string {
  return label
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replace(/[_\-.#"'[\]()]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .toLowerCase();
}

const SAME_LINE_LABEL = /([\p{L}][\p{L}\p{N} _.#/-]{0,40}?)\s*["']?\s*[:=]\s*["']?\s*$/u;

/** `before` ends in `:` or `=`, then blanks, at most one quote, blanks (SAME_LINE_LABEL's end). */
function endsWithAssignment(before: string): boolean {
  let i = before.length - 1;
  while (i >= 0 && /\s/.test(before[i]!)) i--;
  if (before[i] === '"' || before[i] === "'") i--;
  while (i >= 0 && /\s/.test(before[i]!)) i--;
  return before[i] === ':' || before[i] === '=';
}

/**
 * The label that names the value: `Order ID: 4539…`, `trace_id=4539…`, or a short line right
 * above it when nothing else precedes the value on its own line (a form field or a JSON key as
 * the text decoders lay them out, `card\n4111…`). Undefined when the value sits in prose.
 */
export function labelOf(m: RegExpExecArray): string | undefined {
  const { start } = lineBounds(m.input, m.index);
  const before = m.input.slice(start, m.index);
  if (before.trim() !== '' && !/^["'\s]*$/.test(before)) {
    // A label is a few words (`Order ID:`); a longer run before a colon is a sentence. Most
    // candidates have no colon or equals sign right before them: that is read backwards first,
    // since the pattern (unanchored at its start) tries every position of the line.
    if (!endsWithAssignment(before)) return undefined;
    const same = SAME_LINE_LABEL.exec(before);
    const words = same ? labelWords(same[1] as string) : '';
    return words !== '' && words.split(' ').length <= 3 ? words : undefined;
  }
  // The nearest non-empty line above, past at most two blank ones.
  const lines = m.input.slice(Math.max(0, start - 160), start).split('\n');
  lines.pop();
  let above = '';
  for (let blank = 0; lines.length > 0 && above === '' && blank < 3; blank++) above = (lines.pop() as string).trim();
  if (above === '' || above.length > 48) return undefined;
  if (/[:=]$/.test(above)) return labelWords(above.slice(0, -1));
  return above.split(/\s+/).length <= 3 && /^\p{L}/u.test(above) && !/[.!?,;]$/.test(above) ? labelWords(above) : undefined;
}

const DELIMITERS = ['\t', ',', ';', '|'] as const;

/**
 * The header cell above the match's column in a delimited table (CSV, TSV, extracted sheets),
 * when the match fills its cell: a number inside a notes cell is read as prose.
 */
export function columnHeaderOf(m: RegExpExecArray, context: MatchContext): string | undefined {
  const header = context.header;
  if (header === undefined || header.includes(m[0])) return undefined;
  let delimiter: string | undefined;
  let most = 0;
  for (const d of DELIMITERS) {
    const n = header.split(d).length - 1;
    if (n > most) [delimiter, most] = [d, n];
  }
  if (delimiter === undefined) return undefined;
  const { start, end } = lineBounds(m.input, m.index);
  const before = m.input.slice(start, m.index);
  const cellStart = before.lastIndexOf(delimiter) + 1;
  const afterEnd = m.input.indexOf(delimiter, m.index + m[0].length);
  const cell = m.input.slice(start + cellStart, afterEnd < 0 || afterEnd > end ? end : afterEnd);
  if (cell.trim().replace(/^["']|["']$/g, '').trim() !== m[0]) return undefined;
  const name = header.split(delimiter)[before.split(delimiter).length - 1];
  return name === undefined ? undefined : labelWords(name);
}

/** Numbers of three or more digits that stand alone as cells or words (not inside a hex id or a word). */
const NUMBER_TOKEN = /(?<![\p{L}\p{N}_.,-])\d[\d.,]{1,}\d(?![\p{L}\p{N}_-])/gu;

/**
 * True when the match sits among other numbers: at least three more within 160 characters, as
 * in a table of measurements, a CSV of ids or a log line. Prose with a card number in it rarely
 * holds that many.
 */
export function inNumericContext(m: RegExpExecArray): boolean {
  const from = Math.max(0, m.index - 160);
  const to = Math.min(m.input.length, m.index + m[0].length + 160);
  const around = m.input.slice(from, m.index) + ' ' + m.input.slice(m.index + m[0].length, to);
  let count = 0;
  NUMBER_TOKEN.lastIndex = 0;
  while (NUMBER_TOKEN.exec(around) !== null) if (++count >= 3) return true;
  return false;
}

/**
 * The label or column header naming the value, whichever is present. A name of fewer than three
 * letters (`n`, `x`, `v1`) says nothing about the value, so it counts as none.
 */
export function nameOf(m: RegExpExecArray, context: MatchContext): string | undefined {
  const name = labelOf(m) ?? columnHeaderOf(m, context);
  return name !== undefined && (name.match(/\p{L}/gu)?.length ?? 0) >= 3 ? name : undefined;
}
