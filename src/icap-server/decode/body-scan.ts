// One scan of one HTTP body: undo its Content-Encoding, split multipart bodies into parts (each
// with its own type and encodings), pick the text view by media type, and feed every decoded file
// to the head probes and the text detectors in a single pass. Nesting is followed up to
// maxDecodeDepth; deeper content is scanned as it is.
import type { DetectorSet } from '../detectors/detector-set.js';
import { Findings, type Violation } from '../detectors/findings.js';
import { TextScanner } from '../detectors/text-scanner.js';
import { type ByteSink, DecodeBudget } from './byte-sink.js';
import { contentDecoder, type ContentCoding } from './content-decoder.js';
import { multipartBoundary, multipartDecoder, type PartHeaders } from './multipart.js';
import { formUrlencodedText, jsonText, utf8Text } from './text-decoders.js';

export interface ContentDescription {
  contentType?: string | undefined;
  contentEncoding?: string | undefined;
  /** Content-Transfer-Encoding of a MIME part (RFC 2045 §6); only base64 changes the bytes. */
  transferEncoding?: string | undefined;
}

export interface ScanLimits {
  maxDecodedBytes: number;
  maxDecodeDepth: number;
}

const CODINGS: Record<string, ContentCoding> = { gzip: 'gzip', 'x-gzip': 'gzip', deflate: 'deflate', br: 'br' };

export class BodyScan {
  private readonly findings = new Findings();
  private readonly budget: DecodeBudget;
  private readonly root: ByteSink;

  constructor(
    private readonly detectors: DetectorSet,
    content: ContentDescription,
    private readonly limits: ScanLimits,
  ) {
    this.budget = new DecodeBudget(limits.maxDecodedBytes, this.findings);
    this.root = this.open(content, 0);
  }

  write(chunk: Buffer): Promise<void> {
    return this.root.write(chunk);
  }

  /** Ends the scan; the violations found, in the order first seen. */
  async end(): Promise<Violation[]> {
    await this.root.end();
    return this.findings.violations();
  }

  private open(content: ContentDescription, depth: number): ByteSink {
    const codings = (content.contentEncoding ?? '')
      .split(',')
      .map((c) => c.trim().toLowerCase())
      .filter((c) => c !== '' && c !== 'identity');
    // An unknown coding (compress, zstd) cannot be undone here: scan the bytes as they are.
    if (codings.some((c) => !(c in CODINGS)) || depth + codings.length > this.limits.maxDecodeDepth) return this.leaf(undefined);
    let sink = this.typed(content.contentType, depth + codings.length);
    // The first coding listed was applied first (RFC 9110 §8.4), so it is undone last.
    for (const coding of codings) sink = contentDecoder(CODINGS[coding] as ContentCoding, sink, this.budget);
    if (content.transferEncoding?.trim().toLowerCase() === 'base64') sink = base64Decoder(sink, this.budget);
    return sink;
  }

  private typed(contentType: string | undefined, depth: number): ByteSink {
    const type = (contentType ?? '').toLowerCase();
    const boundary = type.startsWith('multipart/') && contentType !== undefined ? multipartBoundary(contentType) : undefined;
    if (boundary === undefined || depth >= this.limits.maxDecodeDepth) return this.leaf(contentType);
    const openPart = (headers: PartHeaders) =>
      this.open({ contentType: headers.get('content-type') ?? 'text/plain', contentEncoding: headers.get('content-encoding'), transferEncoding: headers.get('content-transfer-encoding') }, depth + 1);
    return multipartDecoder(boundary, openPart, this.leaf(undefined));
  }

  /** One decoded file: its first bytes to the head probes, its text to the text detectors. */
  private leaf(contentType: string | undefined): ByteSink {
    const probes = this.detectors.head.map((factory) => factory());
    const findings = this.findings;
    let text: ByteSink | undefined;
    if (this.detectors.text.length > 0) {
      const scanner = new TextScanner(this.detectors.text, findings);
      const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
      if (type === 'application/x-www-form-urlencoded') text = formUrlencodedText(scanner);
      else if (type === 'application/json' || type.endsWith('+json')) text = jsonText(scanner);
      else text = utf8Text(scanner);
    }
    return {
      async write(chunk) {
        for (const probe of probes) probe.write(chunk);
        if (text) await text.write(chunk);
      },
      async end() {
        for (const probe of probes) probe.end(findings);
        if (text) await text.end();
      },
    };
  }
}

/** Base64 as MIME writes it (line breaks allowed), decoded in four-character groups. */
function base64Decoder(downstream: ByteSink, budget: DecodeBudget): ByteSink {
  let carry = '';
  const decode = async (text: string, final: boolean) => {
    const clean = carry + text.replace(/[^A-Za-z0-9+/=]/g, '');
    const usable = final ? clean.length : clean.length - (clean.length % 4);
    carry = clean.slice(usable);
    if (usable === 0) return;
    const bytes = Buffer.from(clean.slice(0, usable), 'base64');
    if (budget.take(bytes.length)) await downstream.write(bytes);
  };
  return {
    write: (chunk) => decode(chunk.toString('latin1'), false),
    async end() {
      await decode('', true);
      await downstream.end();
    },
  };
}
