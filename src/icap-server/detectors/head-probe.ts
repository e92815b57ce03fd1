// Detectors that judge a file by its first bytes (magic numbers, the EICAR test file). Each
// decoded file (a body, or one part of a multipart body) gets fresh probes.
import type { FindingSink } from './findings.js';

export interface HeadProbe {
  write(chunk: Buffer): void;
  /** Called once the file ended; records what it found. */
  end(findings: FindingSink): void;
}

export type HeadProbeFactory = () => HeadProbe;

/** Keeps the first `size` bytes of a file and counts the rest. */
export class HeadBuffer {
  private readonly bytes: Buffer;
  private filled = 0;
  totalBytes = 0;

  constructor(size: number) {
    this.bytes = Buffer.alloc(size);
  }

  write(chunk: Buffer): void {
    this.totalBytes += chunk.length;
    if (this.filled < this.bytes.length) this.filled += chunk.copy(this.bytes, this.filled, 0, this.bytes.length - this.filled);
  }

  get head(): Buffer {
    return this.bytes.subarray(0, this.filled);
  }
}
