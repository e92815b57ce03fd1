// What one scan found: a count per detector name. A detector counts as a violation once its
// count reaches its minimum (one card number in a page of text may be allowed, ten are not).
// Distinct counts (e-mail address bulk) keep the values seen, up to a bound.

/** data = DLP content; malware = AV (reported in X-Infection-Found); file-type; decode = limits hit. */
export type FindingKind = 'data' | 'malware' | 'file-type' | 'decode';

export interface Violation {
  /** The detector name, as written in X-Violations-Found and on the block page. */
  name: string;
  kind: FindingKind;
  count: number;
}

/** Where detectors record what they found (an archive may hold some of it back: decode/container-scope.ts). */
export type FindingSink = Pick<Findings, 'add' | 'addDistinct'>;

/** Distinct values kept per detector; past it every new value still counts, unchecked. */
const MAX_DISTINCT_VALUES = 10_000;

export class Findings {
  private readonly entries = new Map<string, { kind: FindingKind; count: number; minCount: number; seen?: Set<string> }>();

  add(name: string, kind: FindingKind, minCount = 1, count = 1): void {
    const entry = this.entries.get(name);
    if (entry) entry.count += count;
    else this.entries.set(name, { kind, count, minCount });
  }

  /** Counts `value` once per scan, however often it occurs. */
  addDistinct(name: string, kind: FindingKind, minCount: number, value: string): void {
    let entry = this.entries.get(name);
    if (entry === undefined) {
      entry = { kind, count: 0, minCount, seen: new Set() };
      this.entries.set(name, entry);
    }
    const seen = (entry.seen ??= new Set());
    if (seen.has(value)) return;
    if (seen.size < MAX_DISTINCT_VALUES) seen.add(value);
    entry.count++;
  }

  count(name: string): number {
    return this.entries.get(name)?.count ?? 0;
  }

  /** Detectors whose count reached their minimum, in the order first seen. */
  violations(): Violation[] {
    const out: Violation[] = [];
    for (const [name, e] of this.entries) if (e.count > 0 && e.count >= e.minCount) out.push({ name, kind: e.kind, count: e.count });
    return out;
  }
}
