// The one interface of the decoding chain: each stage takes bytes and hands its output to the
// next, awaiting it, so memory stays bounded by a chunk per stage. DecodeBudget holds the limits
// all decoders of one body share against bombs, and names the one that stopped a body:
//   decode-limit:bytes    more decoded bytes than maxDecodedBytes, all decoders together
//   decode-limit:ratio    one decompression stream past extract.maxRatio (after a 1 MiB floor)
//   decode-limit:depth    a container nested deeper than maxDecodeDepth
//   decode-limit:entries  more files taken out of containers than extract.maxEntries
//   decode-limit:method   a zip entry or a Content-Encoding packed by a method we cannot undo
import type { Findings } from '../detectors/findings.js';

export interface ByteSink {
  write(chunk: Buffer): Promise<void>;
  end(): Promise<void>;
}

export const DECODE_LIMIT = 'decode-limit';
export type LimitReason = 'bytes' | 'ratio' | 'depth' | 'entries' | 'method';

/** Output below this never trips the ratio limit: small files compress far better than bombs do harm. */
export const RATIO_FLOOR_BYTES = 1024 * 1024;

export interface BudgetLimits {
  maxDecodedBytes: number;
  maxRatio: number;
  maxEntries: number;
}

export class DecodeBudget {
  private usedBytes = 0;
  private entries = 0;
  exceeded = false;

  constructor(
    private readonly limits: BudgetLimits,
    private readonly findings: Findings,
  ) {}

  /** Records that `reason` stopped some content (each reason is reported once). */
  stop(reason: LimitReason): void {
    const name = `${DECODE_LIMIT}:${reason}`;
    if (this.findings.count(name) === 0) this.findings.add(name, 'decode');
  }

  /** Account `bytes` of decoded output; false (and `decode-limit:bytes`, once) past the limit. */
  take(bytes: number): boolean {
    if (this.exceeded) return false;
    this.usedBytes += bytes;
    if (this.usedBytes <= this.limits.maxDecodedBytes) return true;
    this.exceeded = true;
    this.stop('bytes');
    return false;
  }

  /** One more file taken out of a container; false (and `decode-limit:entries`) past the limit. */
  entry(): boolean {
    this.entries++;
    if (this.entries <= this.limits.maxEntries) return true;
    this.stop('entries');
    return false;
  }

  /** A meter for one decompression stream: compressed bytes in, decoded bytes out. */
  ratio(): RatioMeter {
    return new RatioMeter(this.limits.maxRatio, this);
  }
}

export class RatioMeter {
  private inBytes = 0;
  private outBytes = 0;
  stopped = false;

  constructor(
    private readonly maxRatio: number,
    private readonly budget: DecodeBudget,
  ) {}

  input(bytes: number): void {
    this.inBytes += bytes;
  }

  /** Account decoded output against the ratio and the body's byte budget; false = stop this stream. */
  output(bytes: number): boolean {
    if (this.stopped) return false;
    this.outBytes += bytes;
    if (this.outBytes > RATIO_FLOOR_BYTES && this.outBytes > this.maxRatio * Math.max(this.inBytes, 1)) {
      this.stopped = true;
      this.budget.stop('ratio');
      return false;
    }
    if (!this.budget.take(bytes)) this.stopped = true;
    return !this.stopped;
  }
}
