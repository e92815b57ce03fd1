// Chunked transfer coding as ICAP uses it for every encapsulated body (RFC 3507 §4.4.1, RFC 2616
// §3.6.1), with the `ieof` chunk extension that ends a preview holding the whole body (§4.5).
// The decoder is incremental and bounded: a chunk-size line or trailer block past its limit is an
// IcapParseError; chunk data is handed out as views of the input, never buffered.
import type { HeaderList } from '../../core/types.js';
import { parseHeaderLines } from './header-block.js';
import { IcapParseError } from './parse-error.js';

const CRLF = Buffer.from('\r\n');
const LAST = Buffer.from('0\r\n\r\n');
const LAST_IEOF = Buffer.from('0; ieof\r\n\r\n');
const SIZE_LINE = /^([0-9A-Fa-f]{1,12})[ \t]*(;.*)?$/;
const EXTENSION = /^[ \t]*([!#$%&'*+\-.^_`|~0-9A-Za-z]+)[ \t]*(?:=[ \t]*("(?:[^"\\]|\\.)*"|[!#$%&'*+\-.^_`|~0-9A-Za-z]+))?[ \t]*$/;

/** One data chunk as wire buffers (size line, data, CRLF); an empty chunk would end the body. */
export function encodeChunk(data: Uint8Array): Buffer[] {
  if (data.length === 0) return [];
  return [Buffer.from(`${data.length.toString(16)}\r\n`, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.length), CRLF];
}

/** The last chunk; `ieof` says the preview already held the whole body (RFC 3507 §4.5). */
export function encodeLastChunk(ieof = false): Buffer {
  return ieof ? LAST_IEOF : LAST;
}

export interface ChunkedLimits {
  maxChunkLineBytes: number;
  maxTrailerBytes: number;
}

export interface ChunkedStep {
  /** bytes of the input used; the rest belongs to whatever follows the body */
  consumed: number;
  data: Uint8Array[];
  /** set once the last chunk and its trailers were read */
  end?: { ieof: boolean; trailers: HeaderList };
}

type State = 'size' | 'data' | 'data-end' | 'trailer' | 'done';

export class ChunkedDecoder {
  private state: State = 'size';
  private line = '';
  private remaining = 0;
  private ieof = false;
  private trailerLines: string[] = [];
  private trailerBytes = 0;

  constructor(private readonly limits: ChunkedLimits) {}

  /** Characters of a partial chunk-size or trailer line held between pushes. */
  get bufferedBytes(): number {
    return this.line.length + this.trailerBytes;
  }

  get done(): boolean {
    return this.state === 'done';
  }

  push(input: Uint8Array, start = 0): ChunkedStep {
    const data: Uint8Array[] = [];
    let i = start;
    while (i < input.length && this.state !== 'done') {
      if (this.state === 'data') {
        const n = Math.min(this.remaining, input.length - i);
        data.push(input.subarray(i, i + n));
        i += n;
        this.remaining -= n;
        if (this.remaining === 0) this.state = 'data-end';
        continue;
      }
      // The lines almost every chunk has, read from the bytes when they are whole in this input:
      // a bare hex size and CRLF, and the CRLF after the data. Anything else takes the general path.
      if (this.line.length === 0) {
        const next = this.state === 'size' ? this.bareSizeLine(input, i) : this.state === 'data-end' ? this.dataEnd(input, i) : i;
        if (next > i) {
          i = next;
          continue;
        }
      }
      // Line-oriented states: collect up to LF, bounded.
      const lf = input.indexOf(0x0a, i);
      const stop = lf < 0 ? input.length : lf;
      this.line += Buffer.from(input.buffer, input.byteOffset + i, stop - i).toString('latin1');
      const limit = this.state === 'trailer' ? this.limits.maxTrailerBytes - this.trailerBytes : this.limits.maxChunkLineBytes;
      if (this.line.length > limit) {
        throw this.state === 'trailer'
          ? new IcapParseError('head-too-large', `chunked trailers exceed ${this.limits.maxTrailerBytes} bytes`)
          : new IcapParseError('chunk-line-too-long', `chunk-size line exceeds ${this.limits.maxChunkLineBytes} bytes`);
      }
      if (lf < 0) {
        i = input.length;
        break;
      }
      i = lf + 1;
      const line = this.line.endsWith('\r') ? this.line.slice(0, -1) : this.line;
      this.line = '';
      const result = this.onLine(line);
      if (result) return { consumed: i - start, data, end: result };
    }
    return { consumed: i - start, data };
  }

  /** After a chunk-size line of hex digits and CRLF alone at `i`; `i` when it is not one (or not whole here). */
  private bareSizeLine(input: Uint8Array, i: number): number {
    let size = 0;
    let j = i;
    for (; j < input.length && j - i < 12; j++) {
      const c = input[j]!;
      const digit = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;
      if (digit < 0) break;
      size = size * 16 + digit;
    }
    if (j === i || j + 1 >= input.length || input[j] !== 0x0d || input[j + 1] !== 0x0a) return i;
    this.sizeRead(size, false);
    return j + 2;
  }

  /** A chunk of `size` bytes follows, or (0) the last chunk's trailers. */
  private sizeRead(size: number, ieof: boolean): void {
    if (size === 0) {
      this.ieof = ieof;
      this.state = 'trailer';
    } else {
      this.remaining = size;
      this.state = 'data';
    }
  }

  /** After the CRLF that ends a chunk's data at `i`; `i` when it is not there whole. */
  private dataEnd(input: Uint8Array, i: number): number {
    if (i + 1 >= input.length || input[i] !== 0x0d || input[i + 1] !== 0x0a) return i;
    this.state = 'size';
    return i + 2;
  }

  private onLine(line: string): ChunkedStep['end'] | undefined {
    if (this.state === 'data-end') {
      if (line.length !== 0) throw new IcapParseError('chunk-data', 'chunk data longer than its declared size');
      this.state = 'size';
      return undefined;
    }
    if (this.state === 'trailer') {
      if (line.length > 0) {
        this.trailerLines.push(line);
        this.trailerBytes += line.length + 2;
        return undefined;
      }
      this.state = 'done';
      return { ieof: this.ieof, trailers: parseHeaderLines(this.trailerLines, 'trailer') };
    }
    const m = SIZE_LINE.exec(line);
    if (!m) throw new IcapParseError('chunk-size', `invalid chunk-size line ${JSON.stringify(line.slice(0, 40))}`);
    const size = parseInt(m[1]!, 16);
    this.sizeRead(size, m[2] !== undefined && parseExtensions(m[2]).includes('ieof'));
    return undefined;
  }
}

/** Extension names of a chunk-size line (`; ieof`, `;name=value`), lower-cased. */
function parseExtensions(text: string): string[] {
  const names: string[] = [];
  // Split on ';' outside quoted strings.
  const parts = text.slice(1).match(/(?:[^;"]|"(?:[^"\\]|\\.)*")+/g) ?? [];
  if (text.slice(1).trim().length > 0 && parts.length === 0) throw new IcapParseError('chunk-size', 'invalid chunk extension');
  for (const part of parts) {
    const m = EXTENSION.exec(part);
    if (!m) throw new IcapParseError('chunk-size', `invalid chunk extension ${JSON.stringify(part.slice(0, 40))}`);
    names.push(m[1]!.toLowerCase());
  }
  return names;
}
