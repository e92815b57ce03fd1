// Document fingerprints (issue 13): confidential documents are registered, and a body that holds
// at least `minPercent` of a document's fingerprints is a violation naming it
// (`fingerprint:<name>`). Fingerprints are chosen by winnowing (Schleimer, Wilkerson, Aiken,
// SIGMOD 2003): over the text reduced to lower-case letters and digits (so layout, punctuation,
// run boundaries and line breaks do not matter), every K_GRAM characters hash to one value, and
// of every W consecutive hashes the smallest is kept. Any passage of W + K_GRAM - 1 characters
// that a body shares with a document yields at least one fingerprint in common.
import type { FindingSink } from './findings.js';
import type { StreamDetector, TextReader } from './text-detector.js';

export const K_GRAM = 32;
export const WINDOW = 16;
const BASE = 0x01000193;
/** BASE^K_GRAM mod 2^32: what the character leaving the k-gram contributed. */
const BASE_K = (() => {
  let p = 1;
  for (let i = 0; i < K_GRAM; i++) p = Math.imul(p, BASE);
  return p;
})();

/** Streaming winnowing: feed text, get the selected fingerprints through `emit`. */
export class Winnower {
  private readonly ring = new Int32Array(K_GRAM);
  private chars = 0;
  private hash = 0;
  /** Monotonic queue of [position, hash] whose front is the window minimum. */
  private readonly qPos: number[] = [];
  private readonly qHash: number[] = [];
  private lastEmitted = -1;
  private kgrams = 0;

  constructor(private readonly emit: (fingerprint: number) => void) {}

  write(text: string): void {
    for (let i = 0; i < text.length; i++) {
      let c = text.charCodeAt(i);
      // ASCII fast path; other letters and digits kept as their code units, lower-cased.
      if (c >= 65 && c <= 90) c += 32;
      else if (!((c >= 97 && c <= 122) || (c >= 48 && c <= 57))) {
        if (c < 128) continue;
        const ch = text[i] as string;
        if (!/[\p{L}\p{N}]/u.test(ch)) continue;
        c = ch.toLowerCase().charCodeAt(0);
      }
      const slot = this.chars % K_GRAM;
      const out = this.ring[slot] as number;
      this.ring[slot] = c;
      this.chars++;
      this.hash = (Math.imul(this.hash, BASE) + c - (this.chars > K_GRAM ? Math.imul(out, BASE_K) : 0)) | 0;
      if (this.chars >= K_GRAM) this.push(this.hash >>> 0);
    }
  }

  private push(h: number): void {
    const pos = this.kgrams++;
    // Rightmost minimum: drop every queued hash not smaller than the new one.
    while (this.qHash.length > 0 && (this.qHash[this.qHash.length - 1] as number) >= h) {
      this.qHash.pop();
      this.qPos.pop();
    }
    this.qHash.push(h);
    this.qPos.push(pos);
    while ((this.qPos[0] as number) <= pos - WINDOW) {
      this.qPos.shift();
      this.qHash.shift();
    }
    if (pos >= WINDOW - 1 && this.qPos[0] !== this.lastEmitted) {
      this.lastEmitted = this.qPos[0] as number;
      this.emit(this.qHash[0] as number);
    }
  }

  /** A text shorter than one window still gets its smallest hash. */
  end(): void {
    if (this.kgrams > 0 && this.kgrams < WINDOW && this.qHash.length > 0) this.emit(this.qHash[0] as number);
  }
}

export function fingerprintsOf(text: string): Set<number> {
  const set = new Set<number>();
  const w = new Winnower((f) => set.add(f));
  w.write(text);
  w.end();
  return set;
}

export interface RegisteredDocument {
  name: string;
  minPercent: number;
  fingerprints: ReadonlySet<number>;
}

/** One detector for every registered document: a shared fingerprint → documents index. */
export function fingerprintDetector(documents: readonly RegisteredDocument[]): StreamDetector {
  const index = new Map<number, number[]>();
  documents.forEach((doc, d) => {
    for (const f of doc.fingerprints) {
      const list = index.get(f);
      if (list) list.push(d);
      else index.set(f, [d]);
    }
  });
  return {
    type: 'stream',
    name: 'fingerprint',
    open(findings: FindingSink): TextReader {
      const shared = documents.map(() => new Set<number>());
      const winnower = new Winnower((f) => {
        const docs = index.get(f);
        if (docs) for (const d of docs) shared[d]?.add(f);
      });
      return {
        write: (text) => winnower.write(text),
        end() {
          winnower.end();
          documents.forEach((doc, d) => {
            const percent = doc.fingerprints.size === 0 ? 0 : (100 * (shared[d] as Set<number>).size) / doc.fingerprints.size;
            if (percent >= doc.minPercent) findings.add(`fingerprint:${doc.name}`, 'data', 1, 1);
          });
        },
      };
    },
  };
}
