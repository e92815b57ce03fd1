// One scan of one HTTP body: its Content-Encoding undone, multipart split, every file in it opened
// by format (archives, office documents, PDF, mail, compressed files, base64 in text), recursively
// up to maxDecodeDepth, each file's head to the head probes and its text to the text detectors,
// in a single streaming pass (decode/extraction.ts). The scope says which way the body goes.
import type { DetectorSet } from '../detectors/detector-set.js';
import type { Violation } from '../detectors/findings.js';
import type { ClamdClient } from '../extract/clamd-client.js';
import type { ByteSink } from './byte-sink.js';
import { type ContentDescription, Extraction, type ScanDirection, type ScanLimits } from './extraction.js';

export type { ContentDescription, ScanLimits } from './extraction.js';

export interface ScanScope {
  /** REQMOD bodies are uploads, RESPMOD bodies downloads (`extract.encryptedContent` per direction). */
  direction?: ScanDirection;
  /** clamd (`icapServer.av.clamd`) for the `av` service: every file of the body is also streamed to it. */
  clamd?: ClamdClient;
}

export class BodyScan {
  private readonly extraction: Extraction;
  private readonly root: ByteSink;

  constructor(detectors: DetectorSet, content: ContentDescription, limits: ScanLimits, scope: ScanScope = {}) {
    this.extraction = new Extraction(detectors, limits, scope.direction ?? 'upload', scope.clamd);
    this.root = this.extraction.transfer(content, 0, true);
  }

  write(chunk: Buffer): Promise<void> {
    return this.root.write(chunk);
  }

  /** Ends the scan; the violations found, in the order first seen. */
  async end(): Promise<Violation[]> {
    await this.root.end();
    await this.extraction.avVerdicts();
    return this.extraction.findings.violations();
  }
}
