// The one interface of the decoding chain: each stage takes bytes and hands its output to the
// next, awaiting it, so memory stays bounded by a chunk per stage. DecodeBudget caps the bytes
// all decoders of one body may produce (a decompression bomb stops there and is reported).
import type { Findings } from '../detectors/findings.js';

export interface ByteSink {
  write(chunk: Buffer): Promise<void>;
  end(): Promise<void>;
}

export const DECODE_LIMIT = 'decode-limit';

export class DecodeBudget {
  private usedBytes = 0;
  exceeded = false;

  constructor(
    private readonly maxDecodedBytes: number,
    private readonly findings: Findings,
  ) {}

  /** Account `bytes` of decoded output; false (and a `decode-limit` finding, once) past the limit. */
  take(bytes: number): boolean {
    if (this.exceeded) return false;
    this.usedBytes += bytes;
    if (this.usedBytes <= this.maxDecodedBytes) return true;
    this.exceeded = true;
    this.findings.add(DECODE_LIMIT, 'decode');
    return false;
  }
}
