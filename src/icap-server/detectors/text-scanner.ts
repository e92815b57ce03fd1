// Scans streaming text in windows with an overlap, so a match that straddles two chunks is found
// once, with the context its checks need, and memory stays bounded by the window size.
//
//   absolute text  ──────────────|=========== window ===========|
//                         base ─►|◄ overlap ►|          limit ─►|◄ guard ►|
//   A match is decided when it ends in (committed, limit]; one ending inside the guard waits for
//   the next window, which starts `overlap` characters back so it sees the whole match again.
// The guard and the overlap hold EVIDENCE_CHARS each side of a match: a check reads its keywords
// there. Stream detectors (EDM, fingerprints) get every character once, in order, besides.
import type { FindingSink } from './findings.js';
import { MAX_LITERAL_CHARS, MAX_LITERALS, TextPrefilter, type PrefilterAnchor, type PrefilterLiteral } from './prefilter/text-prefilter.js';
import { EVIDENCE_CHARS, confidenceRank, type MatchContext, type PatternDetector, type TextDetector, type TextReader } from './text-detector.js';

/** The first line is read as a table header when it has delimiters and no long numbers. */
const MAX_HEADER_CHARS = 4096;
const HEADER_DELIMITER = /[\t,;|]/;
const LONG_NUMBER = /\d{5}/;
const UNICODE_SPACES_ALL = /[\u00a0\u2000-\u200a\u202f\u205f\u3000]/g;
/** Characters that render as nothing (soft hyphen, zero-width space and joiners, word joiner, BOM). */
const INVISIBLE_ALL = /[\u00ad\u200b-\u200d\u2060\ufeff]/g;
/** Fullwidth forms of ASCII (CJK input methods type digits and letters this way): U+FF01-FF5E = U+0021-007E + 0xFEE0. */
const FULLWIDTH_ALL = /[\uff01-\uff5e]/g;
/** A percent-encoded printable ASCII character (RFC 3986 §2.1), as URLs, logs and form values carry them. */
const PERCENT_ALL = /%([2-7][0-9A-Fa-f])/g;
/** A character past Latin-1: V8 answers this at once for a one-byte string, which cannot hold one. */
const PAST_LATIN1 = /[^\u0000-\u00ff]/;
/** The characters past Latin-1 that write() folds (INVISIBLE_ALL and FULLWIDTH_ALL). */
const FOLDABLE_PAST_LATIN1 = /[\u200b-\u200d\u2060\ufeff\uff01-\uff5e]/;

/**
 * Whether `s` holds a character that write() folds: looked for past Latin-1 only in two-byte
 * strings, with a pattern (a loop over the characters took 1.5x as long on binary files read as
 * text, which are two-byte strings through their replacement characters).
 */
function hasFoldable(s: string): boolean {
  if (s.includes('\u00ad')) return true;
  return PAST_LATIN1.test(s) && FOLDABLE_PAST_LATIN1.test(s);
}

/**
 * Text as a reader sees it: no-break and other fixed-width spaces as spaces ("4111&nbsp;1111…" is
 * a card as printed), invisible characters removed and fullwidth forms as ASCII: a card number
 * with a zero-width space between its digits, or typed in fullwidth digits, reads as one. And
 * percent-encoded printable characters decoded: `4111%201111%201111%201111` in a URL or a log
 * line is the card a server decodes.
 */
function asRead(raw: string): string {
  // Looked for by the two that occur (no-break, narrow no-break): indexOf costs a tenth of a regex pass.
  let text = raw.includes('\u00a0') || raw.includes('\u202f') ? raw.replace(UNICODE_SPACES_ALL, ' ') : raw;
  if (hasFoldable(text)) text = text.replace(INVISIBLE_ALL, '').replace(FULLWIDTH_ALL, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0));
  if (text.includes('%')) text = text.replace(PERCENT_ALL, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
  return text;
}

export class TextScanner {
  private readonly windowChars: number;
  private readonly overlapChars: number;
  private readonly plan: Plan;
  private readonly readers: TextReader[];
  private readonly context: MatchContext = { header: undefined };
  private buffer = '';
  /** The end of the last write when it may be the start of a percent escape (`%` or `%4`). */
  private held = '';
  /** Absolute offset of buffer[0]. */
  private base = 0;
  /** Matches ending at or before this absolute offset are already decided. */
  private committed = 0;

  constructor(
    detectors: readonly TextDetector[],
    private readonly findings: FindingSink,
    options: { windowChars?: number } = {},
  ) {
    this.plan = planFor(detectors);
    this.readers = detectors.flatMap((d) => (d.type === 'stream' ? [d.open(findings)] : []));
    const longest = this.plan.longest;
    this.overlapChars = longest + 2 * EVIDENCE_CHARS;
    this.windowChars = Math.max(options.windowChars ?? 64 * 1024, 2 * this.overlapChars);
  }

  write(raw: string): void {
    let whole = this.held.length > 0 ? this.held + raw : raw;
    this.held = '';
    // A percent escape cut by the chunk waits for its digits (lastIndexOf would read the whole
    // chunk back when it holds no `%`: a sixth of a text scan).
    const n = whole.length;
    const percent = whole.charCodeAt(n - 1) === 0x25 ? n - 1 : whole.charCodeAt(n - 2) === 0x25 ? n - 2 : -1;
    if (percent >= 0) {
      this.held = whole.slice(percent);
      whole = whole.slice(0, percent);
    }
    this.feed(asRead(whole));
  }

  end(): void {
    if (this.held.length > 0) this.feed(this.held);
    this.held = '';
    for (const reader of this.readers) reader.end();
    if (this.plan.patterns.length === 0) return;
    this.scan(this.buffer, true);
    this.buffer = '';
  }

  private feed(text: string): void {
    for (const reader of this.readers) reader.write(text);
    if (this.plan.patterns.length === 0) return;
    if (text.length < this.windowChars) {
      // Small writes are gathered: one window never grows past windowChars plus one overlap.
      let rest = text;
      while (rest.length > 0) {
        const room = Math.max(this.windowChars - this.buffer.length, 0);
        this.buffer += rest.slice(0, room);
        rest = rest.slice(room);
        if (this.buffer.length >= this.windowChars) this.scan(this.buffer, false);
      }
      return;
    }
    // A write of a window or more is read in windows sliced from it, which share its characters:
    // a window joined from pieces is copied whole by the first pass that reads it (the
    // prefilter's), and the windows of a worksheet's writes were 8 MiB of an xlsx scan's copies.
    // Only what earlier writes left is joined, to the write's first overlap (a whole window at
    // the start, where the header is read from it), so that the next window starts inside it.
    const overlap = this.overlapChars;
    let at = 0;
    if (this.buffer.length > 0) {
      const head = this.base === 0 ? Math.max(overlap, this.windowChars - this.buffer.length) : overlap;
      this.scan(this.buffer + text.slice(0, head), false);
      at = head - overlap;
    }
    while (text.length - at >= this.windowChars) {
      this.scan(text.slice(at, at + this.windowChars), false);
      at += this.windowChars - overlap;
    }
    // The write's end is read now unless it is little more than the overlap the next write joins.
    if (text.length - at > 2 * overlap) {
      this.scan(text.slice(at), false);
      at = text.length - overlap;
    }
    // A slice: it keeps this write's string until the next write or the end.
    this.buffer = text.slice(at);
  }

  /** Scans `window`, the text from `base` on, and keeps its last overlap as the buffer (none when `final`). */
  private scan(window: string, final: boolean): void {
    if (this.base === 0) this.context.header = headerOf(window);
    const limit = final ? window.length : window.length - EVIDENCE_CHARS;
    // Each triggered detector, and where the first of its triggers in the window is.
    const triggered = new Map<PatternDetector, number>();
    const anchored = new Map<Anchor, ArrayLike<number>>();
    const found = this.plan.prefilter?.scan(window);
    if (found) {
      for (const literal of found.literals) {
        const at = found.firstAt[literal]!;
        for (const d of this.plan.byTrigger[literal]!) triggered.set(d, Math.min(at, triggered.get(d) ?? at));
      }
      for (const [anchor, positions] of Object.entries(found.positions)) anchored.set(anchor as PrefilterAnchor, positions);
    }
    // A one-byte string (Latin-1, most text) holds neither: includes answers without reading it.
    // A trigger spelt with one of them is not found by the prefilter, and may come first.
    if (this.plan.unicodeFolded.length > 0 && (window.includes('\u017f') || window.includes('\u212a'))) for (const d of this.plan.unicodeFolded) triggered.set(d, 0);
    for (const anchor of this.plan.anchors) {
      const positions: number[] = [];
      anchor.lastIndex = 0;
      for (let m = anchor.exec(window); m !== null; m = anchor.exec(window)) positions.push(m.index);
      anchored.set(anchor, positions);
    }
    for (const detector of this.plan.patterns) {
      let from = 0;
      if (this.plan.gated.has(detector)) {
        const first = triggered.get(detector);
        if (first === undefined) continue;
        // Every match holds a trigger and spans at most maxMatchChars (text-detector.ts): none
        // starts further back than that from the first trigger.
        from = Math.max(0, first - detector.maxMatchChars);
      }
      const min = confidenceRank(detector.rule.minConfidence);
      let found = 0;
      for (const m of matches(detector, window, limit, anchored, from)) {
        if (this.base + m.index + m[0].length <= this.committed) continue;
        const confidence = detector.check ? detector.check(m, this.context) : 'medium';
        if (confidence === undefined || confidenceRank(confidence) < min) continue;
        if (detector.distinctValue) this.findings.addDistinct(detector.name, 'data', detector.rule.minCount, detector.distinctValue(m));
        else found++;
      }
      if (found > 0) this.findings.add(detector.name, 'data', detector.rule.minCount, found);
    }
    this.committed = this.base + limit;
    const keep = final ? 0 : Math.min(window.length, this.overlapChars);
    this.base += window.length - keep;
    this.buffer = window.slice(window.length - keep);
  }
}

type Anchor = NonNullable<PatternDetector['anchor']>;

/**
 * The detector's matches in `window` that start at `from` or after and end by `limit`: a global
 * pass, or its sticky pattern at its anchor's positions.
 */
function* matches(detector: PatternDetector, window: string, limit: number, anchored: Map<Anchor, ArrayLike<number>>, from: number): Generator<RegExpExecArray> {
  const re = detector.pattern;
  const positions = detector.anchor === undefined ? undefined : anchored.get(detector.anchor);
  if (positions === undefined) {
    re.lastIndex = from;
    for (let m = re.exec(window); m !== null; m = re.exec(window)) {
      if (m.index + m[0].length > limit) return;
      if (m[0].length === 0) re.lastIndex++;
      yield m;
    }
    return;
  }
  let after = from;
  for (let i = 0; i < positions.length; i++) {
    const at = positions[i]!;
    if (at < after) continue;
    re.lastIndex = at;
    const m = re.exec(window);
    if (m === null || m.index + m[0].length > limit) continue;
    after = m.index + m[0].length;
    yield m;
  }
}

/** What a detector list needs per window, built once per list (a zip of 10,000 files opens 10,000 scanners). */
interface Plan {
  patterns: PatternDetector[];
  /**
   * One pass over a window finds the triggers of every detector (text-detector.ts) and the
   * positions of the named anchors; none when no detector has either.
   */
  prefilter: TextPrefilter | undefined;
  /** the detectors of each trigger literal, by its index among the prefilter's literals */
  byTrigger: PatternDetector[][];
  /** the detectors that run only on windows holding one of their triggers */
  gated: Set<PatternDetector>;
  /** the gated detectors whose triggers may also be spelt with U+017F or U+212A (`iu` patterns) */
  unicodeFolded: PatternDetector[];
  /** the pattern anchors the detectors share, each run once per window */
  anchors: RegExp[];
  longest: number;
}

const plans = new WeakMap<readonly TextDetector[], Plan>();

function planFor(detectors: readonly TextDetector[]): Plan {
  let plan = plans.get(detectors);
  if (plan !== undefined) return plan;
  const patterns = detectors.filter((d): d is PatternDetector => d.type === 'pattern');
  // The prefilter holds 64 literals: a detector whose triggers do not fit (or are not printable
  // ASCII) runs on every window, as one without triggers does.
  const byLiteral = new Map<string, { literal: PrefilterLiteral; detectors: PatternDetector[] }>();
  const gated = new Set<PatternDetector>();
  for (const d of patterns) {
    const foldCase = d.triggersIgnoreCase ?? d.pattern.flags.includes('i');
    const literals = (d.triggers ?? []).map((text) => ({ key: `${foldCase ? 'i' : 's'}:${foldCase ? text.toLowerCase() : text}`, literal: { text, foldCase } }));
    if (literals.length === 0 || !literals.every(({ literal }) => /^[\x20-\x7e]+$/.test(literal.text) && literal.text.length <= MAX_LITERAL_CHARS)) continue;
    if (new Set([...byLiteral.keys(), ...literals.map((l) => l.key)]).size > MAX_LITERALS) continue;
    for (const { key, literal } of literals) {
      const entry = byLiteral.get(key) ?? { literal, detectors: [] };
      if (!entry.detectors.includes(d)) entry.detectors.push(d);
      byLiteral.set(key, entry);
    }
    gated.add(d);
  }
  const anchors = [...new Set(patterns.flatMap((d) => (d.anchor instanceof RegExp ? [d.anchor] : [])))];
  const named = patterns.some((d) => typeof d.anchor === 'string');
  const entries = [...byLiteral.values()];
  const prefilter = entries.length > 0 || named ? new TextPrefilter(entries.map((e) => e.literal)) : undefined;
  const unicodeFolded = [...gated].filter((d) => d.pattern.flags.includes('i') && /[uv]/.test(d.pattern.flags));
  plan = { patterns, prefilter, byTrigger: entries.map((e) => e.detectors), gated, unicodeFolded, anchors, longest: Math.max(0, ...patterns.map((d) => d.maxMatchChars)) };
  plans.set(detectors, plan);
  return plan;
}

function headerOf(text: string): string | undefined {
  const nl = text.indexOf('\n');
  const line = (nl < 0 ? text : text.slice(0, nl)).slice(0, MAX_HEADER_CHARS).replace(/\r$/, '');
  return HEADER_DELIMITER.test(line) && !LONG_NUMBER.test(line) ? line : undefined;
}
