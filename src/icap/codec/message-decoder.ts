// The incremental decoder shared by both directions: ICAP head → encapsulated HTTP heads → chunked
// body, from input cut at any byte. The request and response decoders differ only in the start
// line they accept and in what a message without a body looks like.
//
//   head ──(Encapsulated heads)──► sections ──(req/res/opt-body)──► body ──► end ─┐
//    ▲  └──(null-body or none)──────────┴─────────────────────────────────────────┘
//    └──────────────────────────────────── next message on the same connection
import type { HeaderList, HttpHead, IcapHeaders } from '../../core/types.js';
import { ChunkedDecoder } from './chunked.js';
import { parseEncapsulated, type BodyName, type Encapsulated } from './encapsulated.js';
import { parseHeaderLines, splitLines } from './header-block.js';
import { parseHttpHead } from './http-head.js';
import { IcapParseError } from './parse-error.js';

export interface DecoderLimits {
  /** ICAP start line + headers (default 64 KiB) */
  maxHeadBytes: number;
  /** all encapsulated HTTP heads together (default 256 KiB) */
  maxHttpHeadBytes: number;
  /** one chunk-size line with its extensions (default 4 KiB) */
  maxChunkLineBytes: number;
  /** trailers after the last chunk (default 64 KiB) */
  maxTrailerBytes: number;
}

export const DEFAULT_LIMITS: DecoderLimits = {
  maxHeadBytes: 64 * 1024,
  maxHttpHeadBytes: 256 * 1024,
  maxChunkLineBytes: 4096,
  maxTrailerBytes: 64 * 1024,
};

/** What every ICAP head carries, request or response. */
export interface IcapHeadBase {
  version: string;
  headers: IcapHeaders;
  rawHeaders: HeaderList;
  /** null when the message had no Encapsulated header (204 and 100 from c-icap, for example) */
  encapsulated: Encapsulated | null;
}

export type BodyEvent =
  | { type: 'http-head'; section: 'req-hdr' | 'res-hdr'; head: HttpHead }
  | { type: 'body'; data: Uint8Array }
  | { type: 'end'; trailers: HeaderList };

type State = 'head' | 'sections' | 'body' | 'hold' | 'failed';

export abstract class MessageDecoder<Head extends IcapHeadBase, Event> {
  protected readonly limits: DecoderLimits;
  private state: State = 'head';
  private chunks: Buffer[] = [];
  private pendingBytes = 0;
  // head scanning: bytes in the current line, whether a start line was seen
  private lineBytes = 0;
  private lastByte = -1;
  private sawLine = false;
  private sectionsNeeded = 0;
  private encapsulated: Encapsulated | null = null;
  private chunked: ChunkedDecoder | null = null;
  /** the peer's IcapParseError, or the defect of ours that broke the decoder; it stays failed */
  private failure: Error | null = null;

  constructor(limits: Partial<DecoderLimits> = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  /** True between messages with nothing buffered: a connection in this state may be reused. */
  get idle(): boolean {
    return this.state === 'head' && this.pendingBytes === 0;
  }

  /** Bytes held between pushes (partial heads, lines); bounded by the limits. */
  get bufferedBytes(): number {
    return this.pendingBytes + (this.chunked?.bufferedBytes ?? 0);
  }

  /**
   * Feed bytes; returns the events they complete. Throws IcapParseError for the peer's bytes, then
   * stays failed. Anything else thrown is a defect of ours and escapes as it is: calling it a parse
   * error would blame the peer, and a fail-open protocolError mode would then pass the body.
   */
  push(input: Uint8Array): Event[] {
    if (this.failure) throw this.failure;
    const out: Event[] = [];
    try {
      this.run(Buffer.from(input.buffer, input.byteOffset, input.length), out);
    } catch (err) {
      this.state = 'failed';
      this.failure = err instanceof Error ? err : new Error(String(err), { cause: err });
      throw this.failure;
    }
    return out;
  }

  /** The peer closed: a message cut short is an IcapParseError('truncated'). */
  finish(): void {
    if (this.failure) throw this.failure;
    if (!this.idle) {
      this.failure = new IcapParseError('truncated', `connection closed inside a message (${this.state})`);
      this.state = 'failed';
      throw this.failure;
    }
  }

  protected abstract parseStartLine(line: string, headers: HeaderList): Head;
  /** Events for a parsed head; returns the body kind to expect, or 'none' when the message ends. */
  protected abstract onHead(head: Head, events: Event[]): BodyName | 'none' | 'interim';
  protected abstract onBodyEnd(ieof: boolean, trailers: HeaderList, events: Event[]): 'end' | 'hold';
  protected abstract wrap(event: BodyEvent): Event;

  /** Continue decoding after 'hold' (the request decoder's preview wait). */
  protected resume(next: 'body' | 'head'): Event[] {
    if (this.failure) throw this.failure;
    if (this.state !== 'hold') throw new IcapParseError('state', 'decoder is not waiting after a preview');
    this.state = next;
    if (next === 'body') this.chunked = new ChunkedDecoder(this.limits);
    const buffered = this.take(this.pendingBytes);
    return buffered.length > 0 ? this.push(buffered) : [];
  }

  private run(input: Buffer, out: Event[]): void {
    let i = 0;
    while (i < input.length) {
      switch (this.state) {
        case 'head':
          i = this.scanHead(input, i, out);
          break;
        case 'sections': {
          const n = Math.min(this.sectionsNeeded - this.pendingBytes, input.length - i);
          if (this.pendingBytes === 0 && n === this.sectionsNeeded) {
            // all of them in this input: read from it, nothing kept
            this.parseSections(input.subarray(i, i + n), out);
            i += n;
            break;
          }
          this.keep(input.subarray(i, i + n));
          i += n;
          if (this.pendingBytes === this.sectionsNeeded) this.parseSections(this.take(this.pendingBytes), out);
          break;
        }
        case 'body': {
          const step = this.chunked!.push(input, i);
          i += step.consumed;
          for (const data of step.data) if (data.length > 0) out.push(this.wrap({ type: 'body', data }));
          if (step.end) {
            this.chunked = null;
            this.state = this.onBodyEnd(step.end.ieof, step.end.trailers, out) === 'hold' ? 'hold' : 'head';
          }
          break;
        }
        case 'hold':
          if (this.pendingBytes + input.length - i > this.limits.maxHeadBytes) {
            throw new IcapParseError('state', 'peer sent more than a head of data while a preview awaited its answer');
          }
          this.keep(input.subarray(i));
          i = input.length;
          break;
        default:
          throw new IcapParseError('state', 'decoder used after a failure');
      }
    }
  }

  /** Scan for the blank line that ends the ICAP head; leading empty lines are skipped (RFC 7230 §3.5). */
  private scanHead(input: Buffer, start: number, out: Event[]): number {
    let i = start;
    let from = start;
    // Line by line with indexOf (native), not byte by byte: the head is most of what a 204 is.
    for (; i < input.length; i++) {
      const lf = input.indexOf(0x0a, i);
      const end = lf < 0 ? input.length : lf;
      if (end > i) {
        // The last byte of the run before the LF is the furthest from `from`: if it fits, all do.
        if (this.pendingBytes + (end - 1 - from) >= this.limits.maxHeadBytes) {
          throw new IcapParseError('head-too-large', `ICAP head exceeds ${this.limits.maxHeadBytes} bytes`);
        }
        this.lineBytes += end - i;
        this.lastByte = input[end - 1]!;
        i = end;
        if (lf < 0) break;
      }
      const empty = this.lineBytes - (this.lastByte === 0x0d ? 1 : 0) === 0;
      this.lineBytes = 0;
      this.lastByte = -1;
      if (!empty) {
        this.sawLine = true;
        continue;
      }
      if (!this.sawLine) {
        // An empty line before any start line: drop it along with whatever was kept.
        this.pendingBytes = 0;
        this.chunks = [];
        from = i + 1;
        continue;
      }
      this.sawLine = false;
      // A head that came whole in this input is read from it: nothing kept, nothing copied.
      if (this.pendingBytes === 0) this.completeHead(input.subarray(from, i + 1), out);
      else {
        this.keep(input.subarray(from, i + 1));
        this.completeHead(this.take(this.pendingBytes), out);
      }
      return i + 1;
    }
    this.keep(input.subarray(from, i));
    if (this.pendingBytes > this.limits.maxHeadBytes) {
      throw new IcapParseError('head-too-large', `ICAP head exceeds ${this.limits.maxHeadBytes} bytes`);
    }
    return i;
  }

  private completeHead(bytes: Buffer, out: Event[]): void {
    if (bytes.length > this.limits.maxHeadBytes) throw new IcapParseError('head-too-large', `ICAP head exceeds ${this.limits.maxHeadBytes} bytes`);
    const lines = splitLines(bytes.toString('latin1'));
    const raw = parseHeaderLines(lines, 'header', 1);
    const head = this.parseStartLine(lines[0]!, raw);
    const value = head.headers.get('encapsulated');
    head.encapsulated = value === undefined ? null : parseEncapsulated(value);
    const body = this.onHead(head, out);
    if (body === 'none' || body === 'interim') return;
    this.encapsulated = head.encapsulated;
    const needed = head.encapsulated?.body.offset ?? 0;
    if (needed > this.limits.maxHttpHeadBytes) {
      throw new IcapParseError('head-too-large', `encapsulated HTTP heads of ${needed} bytes exceed ${this.limits.maxHttpHeadBytes}`);
    }
    this.sectionsNeeded = needed;
    if (needed > 0) this.state = 'sections';
    else this.afterSections(out);
  }

  private parseSections(bytes: Buffer, out: Event[]): void {
    for (const section of this.encapsulated!.heads) {
      const text = bytes.subarray(section.offset, section.offset + section.length).toString('latin1');
      const end = text.endsWith('\r\n\r\n') ? text.length - 4 : text.endsWith('\n\n') ? text.length - 2 : -1;
      if (end < 0) throw new IcapParseError('encapsulated', `${section.name} section does not end with a blank line at its Encapsulated offset`);
      const body = text.slice(0, end);
      if (/\n\r?\n/.test(body)) throw new IcapParseError('encapsulated', `${section.name} section holds a blank line before its Encapsulated end`);
      out.push(this.wrap({ type: 'http-head', section: section.name, head: parseHttpHead(body) }));
    }
    this.afterSections(out);
  }

  private afterSections(out: Event[]): void {
    const body = this.encapsulated!.body.name;
    this.encapsulated = null;
    if (body === 'null-body') {
      out.push(this.wrap({ type: 'end', trailers: [] }));
      this.state = 'head';
    } else {
      this.chunked = new ChunkedDecoder(this.limits);
      this.state = 'body';
    }
  }

  private keep(bytes: Buffer): void {
    if (bytes.length === 0) return;
    // Copy: the caller may reuse its buffer once push() returns.
    this.chunks.push(Buffer.from(bytes));
    this.pendingBytes += bytes.length;
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.pendingBytes);
    this.chunks = [];
    this.pendingBytes = 0;
    return all.subarray(0, n);
  }
}
