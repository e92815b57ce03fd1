// Everything one body scan shares: its findings, its decode budget and limits, and the three ways
// content enters the detectors. transfer() undoes what the transport added (Content-Encoding,
// Content-Transfer-Encoding, multipart); file() gives each file fresh head probes (EICAR, file
// types: so they apply to every file taken out of a container) and hands it to the extractor its
// format calls for; text() feeds decoded text to the text detectors, through the base64 spotter.
//
//   body ─► transfer ─► file ─┬─ head probes
//                             └─ sniff ─► zip │ tar │ gzip │ pdf │ mail │ … ─► file (depth + 1) …
//                                       └─► html │ xml │ json │ rtf │ text ─► text ─► detectors
import type { DetectorSet } from '../detectors/detector-set.js';
import type { ClamdClient, ClamdScan } from '../extract/clamd-client.js';
import { Findings } from '../detectors/findings.js';
import { TextScanner } from '../detectors/text-scanner.js';
import { base64Spotter } from '../extract/base64-spotter.js';
import { openFormat } from '../extract/format-router.js';
import { SNIFF_BYTES, sniffFormat, type FileInfo } from '../extract/sniff.js';
import { type ByteSink, DecodeBudget } from './byte-sink.js';
import { ContainerScope } from './container-scope.js';
import { contentDecoder, type ContentCoding } from './content-decoder.js';
import { multipartBoundary, multipartDecoder, type PartHeaders } from './multipart.js';
import { charsetText, type TextSink } from './text-decoders.js';
import { base64Decoder, quotedPrintableDecoder } from './transfer-decoders.js';

export interface ContentDescription extends FileInfo {
  contentEncoding?: string | undefined;
  /** Content-Transfer-Encoding of a MIME part (RFC 2045 §6): base64 and quoted-printable change the bytes. */
  transferEncoding?: string | undefined;
}

export type EncryptedAction = 'block' | 'pass';

export interface ScanLimits {
  maxDecodedBytes: number;
  maxDecodeDepth: number;
  extract: {
    maxRatio: number;
    maxEntries: number;
    encryptedContent: { upload: EncryptedAction; download: EncryptedAction };
  };
}

/** Which way the body goes: REQMOD bodies are uploads, RESPMOD bodies downloads. */
export type ScanDirection = 'upload' | 'download';

export const ENCRYPTED_CONTENT = 'encrypted-content';

const CODINGS: Record<string, ContentCoding> = { gzip: 'gzip', 'x-gzip': 'gzip', deflate: 'deflate', br: 'br' };

export class Extraction {
  readonly findings = new Findings();
  readonly budget: DecodeBudget;
  private readonly avScans: ClamdScan[] = [];
  /** the archive being read, whose entries the files created now are */
  private scope: ContainerScope | undefined;

  constructor(
    readonly detectors: DetectorSet,
    readonly limits: ScanLimits,
    readonly direction: ScanDirection,
    /** The AV back-end that also reads every file as transferred (not those inside: clamd opens containers itself). */
    private readonly clamd?: ClamdClient,
  ) {
    this.budget = new DecodeBudget({ maxDecodedBytes: limits.maxDecodedBytes, maxRatio: limits.extract.maxRatio, maxEntries: limits.extract.maxEntries }, this.findings);
  }

  /** Whether a container at `depth` may be opened; past maxDecodeDepth it is reported and read as it is. */
  mayOpen(depth: number): boolean {
    if (depth < this.limits.maxDecodeDepth) return true;
    this.budget.stop('depth');
    return false;
  }

  /** Content that cannot be read without a key: a finding when the direction's policy blocks it. */
  encrypted(): void {
    if (this.limits.extract.encryptedContent[this.direction] === 'block' && this.findings.count(ENCRYPTED_CONTENT) === 0) {
      this.findings.add(ENCRYPTED_CONTENT, 'decode');
    }
  }

  /** The verdicts of the AV back-end, as malware findings (its failure is the scan's failure). */
  async avVerdicts(): Promise<void> {
    for (const scan of this.avScans) {
      const threat = await scan.verdict();
      if (threat !== undefined) this.findings.add(threat, 'malware');
    }
  }

  /**
   * A body or MIME part as transferred: its codings undone and multipart split, each file then to
   * file(); with `av`, each such file goes to the AV back-end too.
   */
  transfer(content: ContentDescription, depth: number, av = false): ByteSink {
    const codings = (content.contentEncoding ?? '')
      .split(',')
      .map((c) => c.trim().toLowerCase())
      .filter((c) => c !== '' && c !== 'identity');
    const transfer = content.transferEncoding?.trim().toLowerCase();
    const layers = codings.length + (transfer === 'base64' || transfer === 'quoted-printable' ? 1 : 0);
    // An unknown coding (compress, zstd) cannot be undone here: what it hides cannot be checked
    // (`decode-limit:method`, as a zip entry packed by an unknown method), and the bytes are
    // scanned as they are. The proxy offers origins only the codings read here.
    if (codings.some((c) => !Object.hasOwn(CODINGS, c))) {
      this.budget.stop('method');
      return this.transferred({}, depth, av);
    }
    if (layers > 0 && !this.mayOpen(depth + layers - 1)) return this.transferred({}, depth, av);
    let sink = this.parts(content, depth + layers, av);
    // The first coding listed was applied first (RFC 9110 §8.4), so it is undone last.
    for (const coding of codings) sink = contentDecoder(CODINGS[coding] as ContentCoding, sink, this.budget, { sink: this.leftover(depth), undecodedToDownstream: true });
    if (transfer === 'base64') sink = base64Decoder(sink, this.budget, this.leftover(depth));
    else if (transfer === 'quoted-printable') sink = quotedPrintableDecoder(sink, this.budget);
    return sink;
  }

  private parts(content: ContentDescription, depth: number, av: boolean): ByteSink {
    const type = (content.contentType ?? '').toLowerCase();
    const boundary = type.startsWith('multipart/') && content.contentType !== undefined ? multipartBoundary(content.contentType) : undefined;
    if (boundary === undefined || !this.mayOpen(depth)) return this.transferred(content, depth, av);
    const outside = this.transferred({}, depth, av);
    const openPart = (headers: PartHeaders) => {
      if (!this.budget.entry()) return this.transferred({}, depth + 1, av);
      const name = partName(headers);
      const part = this.transfer(
        {
          contentType: headers.get('content-type') ?? (type === 'multipart/digest' ? 'message/rfc822' : 'text/plain'),
          contentEncoding: headers.get('content-encoding'),
          transferEncoding: headers.get('content-transfer-encoding'),
          name,
        },
        depth + 1,
        av,
      );
      // What a person wrote to name the part (an attachment's file name, its description) is
      // text too: it is read with the bytes outside the parts, before the part's first byte.
      const label = [name, headers.get('content-description')].filter((v) => v !== undefined && v !== '').join('\n');
      if (label === '') return part;
      let said = false;
      const say = async () => {
        if (said) return;
        said = true;
        await outside.write(Buffer.from(`\n${label}\n`));
      };
      return {
        write: async (chunk: Buffer) => {
          await say();
          await part.write(chunk);
        },
        end: async () => {
          await say();
          await part.end();
        },
      };
    };
    return multipartDecoder(boundary, openPart, outside);
  }

  /** file(), and the AV back-end reading the same bytes when `av` asks for it. */
  private transferred(info: FileInfo, depth: number, av: boolean): ByteSink {
    const file = this.file(info, depth);
    if (!av || this.clamd === undefined) return file;
    const scan = this.clamd.scan();
    this.avScans.push(scan);
    return {
      async write(chunk) {
        await Promise.all([scan.write(chunk), file.write(chunk)]);
      },
      async end() {
        await scan.end();
        await file.end();
      },
    };
  }

  /**
   * One file: fresh head probes on every byte, and the extractor of its sniffed format. A tar or a
   * zip gets a scope of its own while it is read: the files created meanwhile are its entries (an
   * archive is read one entry after the other), and what their detectors find that does not count
   * inside software packages waits for the archive's end (container-scope.ts).
   */
  file(info: FileInfo, depth: number): ByteSink {
    const extraction = this;
    const scope = this.scope;
    scope?.entry(info.name);
    let target: ByteSink | undefined;
    let archive: ContainerScope | undefined;
    let head: Buffer[] = [];
    let headBytes = 0;
    const decide = async () => {
      const first = Buffer.concat(head);
      head = [];
      const format = sniffFormat(first, info);
      if (format === 'zip' || format === 'tar') extraction.scope = archive = new ContainerScope(scope, depth, extraction.detectors.notInPackages);
      target = openFormat(format, extraction, info, depth);
      if (first.length > 0) await target.write(first);
    };
    return this.probed(
      {
        async write(chunk) {
          if (target !== undefined) return target.write(chunk);
          head.push(chunk);
          headBytes += chunk.length;
          if (headBytes >= SNIFF_BYTES) await decide();
        },
        async end() {
          try {
            if (target === undefined) await decide();
            await (target as ByteSink).end();
          } finally {
            if (archive !== undefined) {
              extraction.scope = scope;
              archive.close(extraction.findings);
            }
          }
        },
      },
      scope,
    );
  }

  /** Fresh head probes around a sink that a container built itself (an OOXML worksheet). */
  probed(sink: ByteSink, scope = this.scope): ByteSink {
    const probes = this.detectors.head.map((factory) => factory());
    if (probes.length === 0) return sink;
    const findings = scope === undefined ? this.findings : scope.sink(this.findings);
    return {
      async write(chunk) {
        for (const probe of probes) probe.write(chunk);
        await sink.write(chunk);
      },
      async end() {
        await sink.end();
        for (const probe of probes) probe.end(findings);
      },
    };
  }

  /**
   * Bytes a reader could not account for: what follows a container's end, what follows damage, a
   * container that does not parse at all. They are scanned as UTF-8 text as they stand and never
   * opened as a format again (the same magic would open the same failing reader, depth after
   * depth): a card number behind `PK\x03\x04`, `BZh9` or `%PDF-` is still a card number. The
   * text view is made at the first byte, so a reader may ask for this sink before it knows.
   */
  leftover(depth: number): ByteSink {
    let view: ByteSink | undefined;
    return {
      write: (chunk) => (view ??= charsetText(this.text(depth), 'utf-8')).write(chunk),
      end: async () => view?.end(),
    };
  }

  /** A text stream to the text detectors; base64 in it that decodes to a file is opened at depth + 1. */
  text(depth: number): TextSink {
    if (this.detectors.text.length === 0) {
      // Only the spotter reads it (the AV service): its ASCII is all that must be right.
      const spotter = base64Spotter(undefined, this, depth);
      return { write: (text) => spotter.write(text), end: () => spotter.end(), asciiOnly: true };
    }
    return base64Spotter(new TextScanner(this.detectors.text, this.scopeAt(depth)?.sink(this.findings) ?? this.findings), this, depth);
  }

  /**
   * The scope of text at `depth`: the innermost archive it is an entry of. An archive's own bytes
   * at its depth (its records, what it cannot account for, what follows its end) are not entries.
   */
  private scopeAt(depth: number): ContainerScope | undefined {
    let scope = this.scope;
    while (scope !== undefined && scope.depth >= depth) scope = scope.parent;
    return scope;
  }
}

/** The file name of a MIME part: Content-Disposition filename (RFC 2183), else Content-Type name. */
function partName(headers: PartHeaders): string | undefined {
  const param = (value: string | undefined, key: string) => {
    const m = new RegExp(`;\\s*${key}\\*?\\s*=\\s*(?:"([^"]*)"|([^;\\s]+))`, 'i').exec(value ?? '');
    return m ? (m[1] ?? m[2]) : undefined;
  };
  return param(headers.get('content-disposition'), 'filename') ?? param(headers.get('content-type'), 'name');
}
