// Scans streaming text in windows with an overlap, so a match that straddles two chunks is found
// once, with the context its lookarounds need, and memory stays bounded by the window size.
//
//   absolute text  ──────────────|=========== window ===========|
//                         base ─►|◄ overlap ►|          limit ─►|◄ guard ►|
//   A match is decided when it ends in (committed, limit]; one ending inside the guard waits for
//   the next window, which starts `overlap` characters back so it sees the whole match again.
import type { Findings } from './findings.js';
import type { TextDetector } from './text-detector.js';

/** Characters kept after the window's end for lookaheads, and before a match for lookbehinds. */
const CONTEXT_CHARS = 64;

export class TextScanner {
  private readonly windowChars: number;
  private readonly overlapChars: number;
  private buffer = '';
  /** Absolute offset of buffer[0]. */
  private base = 0;
  /** Matches ending at or before this absolute offset are already decided. */
  private committed = 0;

  constructor(
    private readonly detectors: readonly TextDetector[],
    private readonly findings: Findings,
    options: { windowChars?: number } = {},
  ) {
    const longest = Math.max(0, ...detectors.map((d) => d.maxMatchChars));
    this.overlapChars = longest + 2 * CONTEXT_CHARS;
    this.windowChars = Math.max(options.windowChars ?? 64 * 1024, 2 * this.overlapChars);
  }

  write(text: string): void {
    if (this.detectors.length === 0) return;
    let rest = text;
    // Large writes are cut so that one window never grows past windowChars plus one overlap.
    while (rest.length > 0) {
      const room = this.windowChars - this.buffer.length;
      this.buffer += rest.slice(0, Math.max(room, 0));
      rest = rest.slice(Math.max(room, 0));
      if (this.buffer.length >= this.windowChars) this.scan(false);
    }
  }

  end(): void {
    if (this.detectors.length === 0) return;
    this.scan(true);
    this.buffer = '';
  }

  private scan(final: boolean): void {
    const window = this.buffer;
    const limit = final ? window.length : window.length - CONTEXT_CHARS;
    for (const detector of this.detectors) {
      const re = detector.pattern;
      re.lastIndex = 0;
      let found = 0;
      for (let m = re.exec(window); m !== null; m = re.exec(window)) {
        const end = m.index + m[0].length;
        if (end > limit) break;
        if (m[0].length === 0) re.lastIndex++;
        if (this.base + end <= this.committed) continue;
        found += detector.check ? detector.check(m) : 1;
      }
      if (found > 0) this.findings.add(detector.name, 'data', detector.minCount, found);
    }
    this.committed = this.base + limit;
    const keep = final ? 0 : Math.min(window.length, this.overlapChars);
    this.base += window.length - keep;
    this.buffer = window.slice(window.length - keep);
  }
}
