// One scan of one HTTP body: its Content-Encoding undone, multipart split, every file in it opened
// by format (archives, office documents, PDF, mail, compressed files, base64 in text), recursively
// up to maxDecodeDepth, each file's head to the head probes and its text to the text detectors,
// in a single streaming pass (decode/extraction.ts). The scope says which way the body goes.
import type { DetectorSet, ScanMethod, ServiceName } from '../detectors/detector-set.js';
import type { Violation } from '../detectors/findings.js';
import { ClamdClient, type ClamdOptions } from '../extract/clamd-client.js';
import type { ByteSink } from './byte-sink.js';
import { type ContentDescription, Extraction, type ScanLimits } from './extraction.js';

export type { ContentDescription } from './extraction.js';

/** The service and method of the ICAP transaction the body belongs to. */
export interface ScanScope {
  /** With `av`, and `icapServer.av.clamd` configured, every file of the body is also streamed to clamd. */
  service?: ServiceName;
  /** REQMOD bodies are uploads, RESPMOD bodies downloads (`extract.encryptedContent` per direction). */
  method?: ScanMethod;
}

export interface BodyScanLimits extends ScanLimits {
  av?: { clamd?: ClamdOptions | undefined };
}

/** One client per clamd configuration (the config object is frozen and lives as long as the server). */
const clamdClients = new WeakMap<ClamdOptions, ClamdClient>();

function clamdFor(options: ClamdOptions | undefined): ClamdClient | undefined {
  if (options === undefined) return undefined;
  let client = clamdClients.get(options);
  if (client === undefined) clamdClients.set(options, (client = new ClamdClient(options)));
  return client;
}

export class BodyScan {
  private readonly extraction: Extraction;
  private readonly root: ByteSink;

  constructor(detectors: DetectorSet, content: ContentDescription, limits: BodyScanLimits, scope: ScanScope = {}) {
    const clamd = scope.service === 'av' ? clamdFor(limits.av?.clamd) : undefined;
    this.extraction = new Extraction(detectors, limits, scope.method === 'RESPMOD' ? 'download' : 'upload', clamd);
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
