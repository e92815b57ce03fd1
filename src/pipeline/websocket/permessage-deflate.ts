// permessage-deflate (RFC 7692) as the relay needs it: read what the 101 response negotiated, and
// inflate a copy of each compressed message to inspect it. The relay forwards the original
// compressed frames, so the endpoints' contexts stay theirs; ours only has to follow them.
import zlib from 'node:zlib';
import { CloseCode, WebSocketProtocolError } from './protocol-error.js';

export interface DeflateParams {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number;
  clientMaxWindowBits: number;
}

export interface NegotiatedExtensions {
  /** permessage-deflate, when the response accepted it with valid parameters */
  deflate: DeflateParams | undefined;
  /** extensions the relay cannot read (unknown, or permessage-deflate with invalid parameters) */
  unsupported: string[];
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const WINDOW_BITS = /^(8|9|1[0-5])$/;

/** Split on `sep` outside quoted strings (RFC 6455 §9.1 extension-list grammar). */
function splitOutsideQuotes(text: string, sep: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted && c === '\\') {
      current += c + (text[++i] ?? '');
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === sep && !quoted) {
      parts.push(current.trim());
      current = '';
    } else current += c;
  }
  parts.push(current.trim());
  return parts;
}

function unquote(value: string): string {
  return value.startsWith('"') && value.endsWith('"') && value.length >= 2 ? value.slice(1, -1).replace(/\\(.)/g, '$1') : value;
}

/** RFC 7692 §7.1: each parameter at most once, the no_context_takeover ones without a value. */
function parseDeflateParams(params: string[]): DeflateParams | undefined {
  const seen = new Map<string, string | undefined>();
  for (const param of params) {
    const eq = param.indexOf('=');
    const name = (eq < 0 ? param : param.slice(0, eq)).trim().toLowerCase();
    // RFC 6455 §9.1: a quoted value must still be a token once unquoted
    const value = eq < 0 ? undefined : unquote(param.slice(eq + 1).trim());
    if (seen.has(name) || (value !== undefined && !TOKEN.test(value))) return undefined;
    seen.set(name, value);
  }
  for (const [name, value] of seen) {
    if (name === 'server_no_context_takeover' || name === 'client_no_context_takeover') {
      if (value !== undefined) return undefined;
    } else if (name === 'server_max_window_bits' || name === 'client_max_window_bits') {
      // in a response both carry a value (§7.1.2.1, §7.1.2.2)
      if (value === undefined || !WINDOW_BITS.test(value)) return undefined;
    } else return undefined;
  }
  return {
    serverNoContextTakeover: seen.has('server_no_context_takeover'),
    clientNoContextTakeover: seen.has('client_no_context_takeover'),
    serverMaxWindowBits: Number(seen.get('server_max_window_bits') ?? 15),
    clientMaxWindowBits: Number(seen.get('client_max_window_bits') ?? 15),
  };
}

/** The Sec-WebSocket-Extensions of a 101 response (RFC 6455 §9.1). */
export function parseNegotiatedExtensions(header: string | undefined): NegotiatedExtensions {
  const result: NegotiatedExtensions = { deflate: undefined, unsupported: [] };
  if (header === undefined || header.trim() === '') return result;
  for (const extension of splitOutsideQuotes(header, ',')) {
    if (extension === '') continue;
    const [rawName = '', ...params] = splitOutsideQuotes(extension, ';');
    const name = rawName.toLowerCase();
    if (!TOKEN.test(name)) result.unsupported.push(extension.slice(0, 64));
    else if (name !== 'permessage-deflate') result.unsupported.push(name);
    else {
      const deflate = result.deflate ? undefined : parseDeflateParams(params);
      if (deflate) result.deflate = deflate;
      else result.unsupported.push('permessage-deflate (invalid or repeated)');
    }
  }
  return result;
}

/** RFC 7692 §7.2.2: the tail the sender removed from every message. */
const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

export interface MessageInflaterOptions {
  /** RFC 7692 §7.1.1: the sender resets its context after each message */
  noContextTakeover: boolean;
  /** decompressed bytes collected per message; past it nothing more is kept */
  maxMessageBytes: number;
  /**
   * past maxMessageBytes: 'stop' inflating at once (the caller refuses the message), or 'discard'
   * the output but go on inflating, so the window stays in sync for the messages after it
   */
  overflow: 'stop' | 'discard';
}

export interface InflatedMessage {
  /** the decompressed message; undefined when it went past maxMessageBytes */
  payload: Buffer | undefined;
  /** decompressed bytes counted (when stopped early, as far as it got) */
  sizeBytes: number;
}

/**
 * RFC 7692 §7.2.3.4: after a DEFLATE block with BFINAL set, one byte of an empty block's header
 * may follow, then the tail we append. Anything more is data after the end of the stream, which
 * endpoints read differently (one starts a new stream, another drops it): refused, never unseen.
 */
const MAX_BYTES_AFTER_FINAL_BLOCK = 1 + TAIL.length;

/**
 * One direction's decompression context. Messages go in one after the other: write() each piece of
 * the compressed payload, then end(). Errors are WebSocketProtocolError 1007 (RFC 6455 §7.4.1:
 * data inconsistent with the type of the message), after which the inflater stays failed.
 */
export class MessageInflater {
  private stream: zlib.InflateRaw | undefined;
  /** input bytes given to the current stream */
  private written = 0;
  private inMessage = false;
  private chunks: Buffer[] = [];
  private size = 0;
  private stopped = false;
  private failure: WebSocketProtocolError | undefined;
  /** settles the write or end in progress when inflating stops or fails under it */
  private interrupt: (() => void) | undefined;

  constructor(private readonly options: MessageInflaterOptions) {}

  /** The message being inflated went past maxMessageBytes. */
  get overflowed(): boolean {
    return this.size > this.options.maxMessageBytes;
  }

  get sizeBytes(): number {
    return this.size;
  }

  write(compressed: Buffer): Promise<void> {
    if (compressed.length === 0) return this.failure ? Promise.reject(this.failure) : Promise.resolve();
    return this.run((z, done) => {
      this.written += compressed.length;
      z.write(compressed, done);
    });
  }

  async end(): Promise<InflatedMessage> {
    // RFC 7692 §7.2.2: the tail, then Z_SYNC_FLUSH: every byte of the message comes out, the window is kept
    await this.run((z, done) => {
      this.written += TAIL.length;
      z.write(TAIL);
      z.flush(zlib.constants.Z_SYNC_FLUSH, done);
    });
    this.inMessage = false;
    const stream = this.stream;
    if (stream?.readableEnded && this.written - stream.bytesWritten > MAX_BYTES_AFTER_FINAL_BLOCK) {
      this.fail(new WebSocketProtocolError(CloseCode.invalidData, 'data after the end of the DEFLATE stream'));
      throw this.failure;
    }
    const result = { payload: this.overflowed || this.stopped ? undefined : Buffer.concat(this.chunks), sizeBytes: this.size };
    this.chunks = [];
    this.size = 0;
    // a stream ended by a BFINAL block is not continued: the next message starts a new one
    if (stream && (this.options.noContextTakeover || stream.readableEnded)) this.dispose();
    return result;
  }

  close(): void {
    this.stopped = true;
    this.dispose();
    this.interrupt?.();
  }

  private run(step: (z: zlib.InflateRaw, done: () => void) => void): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.stopped) return Promise.resolve();
    const z = this.streamForMessage();
    return new Promise<void>((resolve, reject) => {
      const settle = () => {
        this.interrupt = undefined;
        if (this.failure) reject(this.failure);
        else resolve();
      };
      this.interrupt = settle;
      step(z, () => {
        if (this.interrupt === settle) settle();
      });
    });
  }

  /** The stream of the current message: a new one only when a message starts without a live stream. */
  private streamForMessage(): zlib.InflateRaw {
    if (this.stream && (this.inMessage || !this.stream.readableEnded)) {
      this.inMessage = true;
      return this.stream;
    }
    this.dispose();
    this.inMessage = true;
    this.written = 0;
    // A window of 15 bits decodes every stream a sender may produce under the negotiated
    // *_max_window_bits (zlib itself widens a raw window of 8 to 9 when compressing).
    const z = zlib.createInflateRaw({ windowBits: 15 });
    z.on('data', (chunk: Buffer) => this.onData(chunk));
    z.on('error', (err) => {
      if (this.stream === z) this.fail(new WebSocketProtocolError(CloseCode.invalidData, `compressed message does not inflate: ${err.message}`));
    });
    this.stream = z;
    return z;
  }

  private fail(error: WebSocketProtocolError): void {
    this.failure ??= error;
    this.dispose();
    this.interrupt?.();
  }

  private onData(chunk: Buffer): void {
    this.size += chunk.length;
    if (!this.overflowed) {
      this.chunks.push(chunk);
      return;
    }
    this.chunks = [];
    if (this.options.overflow === 'stop') {
      this.stopped = true;
      this.dispose();
      this.interrupt?.();
    }
  }

  private dispose(): void {
    const z = this.stream;
    this.stream = undefined;
    if (!z) return;
    z.removeAllListeners('data');
    // a late error of a discarded stream has nobody to tell
    z.on('error', () => undefined);
    z.close();
  }
}
