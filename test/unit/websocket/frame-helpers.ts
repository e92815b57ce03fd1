// Byte-script helpers for the WebSocket codec tests: feed input at any split, fold the pieces of
// streamed frames back together, and a permessage-deflate sender that keeps its context.
import zlib from 'node:zlib';
import { FrameDecoder, type FrameDecoderOptions, type WebSocketFrame, type WebSocketProtocolError } from '../../../src/pipeline/websocket/index.js';

export const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');

/** Splits worth trying on every script: whole, byte by byte, and a few odd sizes. */
export const SPLITS: number[][] = [[Number.MAX_SAFE_INTEGER], [1], [2], [3, 7], [13], [64, 1]];

export interface Fed {
  frames: WebSocketFrame[];
  error: WebSocketProtocolError | undefined;
  /** the largest bufferedBytes seen between pushes */
  maxBuffered: number;
}

/** Feed `input` cut at the given sizes (cycled). */
export function feed(decoder: FrameDecoder, input: Buffer, sizes: number[] = [input.length]): Fed {
  const frames: WebSocketFrame[] = [];
  let error: WebSocketProtocolError | undefined;
  let maxBuffered = 0;
  let i = 0;
  let k = 0;
  while (i < input.length) {
    const n = Math.max(1, sizes[k++ % sizes.length]!);
    const step = decoder.push(input.subarray(i, i + n));
    frames.push(...step.frames);
    error ??= step.error;
    maxBuffered = Math.max(maxBuffered, decoder.bufferedBytes);
    i += n;
  }
  return { frames, error, maxBuffered };
}

export function decoder(options: Partial<FrameDecoderOptions> = {}): FrameDecoder {
  return new FrameDecoder({ from: 'server', rsv1Allowed: false, maxFramePayloadBytes: 1 << 20, ...options });
}

export interface WholeFrame {
  fin: boolean;
  rsv1: boolean;
  opcode: number;
  masked: boolean;
  payload: string;
  raw: string;
}

/** Pieces of streamed frames joined into whole frames, as hex, so any split compares equal. */
export function whole(frames: WebSocketFrame[]): WholeFrame[] {
  const out: WholeFrame[] = [];
  let payload: Buffer[] = [];
  let raw: Buffer[] = [];
  for (const f of frames) {
    payload.push(f.payload);
    raw.push(f.raw);
    if (!f.last) continue;
    out.push({ fin: f.fin, rsv1: f.rsv1, opcode: f.opcode, masked: f.masked, payload: Buffer.concat(payload).toString('hex'), raw: Buffer.concat(raw).toString('hex') });
    payload = [];
    raw = [];
  }
  return out;
}

/**
 * A permessage-deflate sender (RFC 7692 §7.2.1): raw DEFLATE, a sync flush per message, the
 * 00 00 ff ff tail removed; the context is kept across messages unless `noContextTakeover`.
 */
export function deflateSender(noContextTakeover = false): { compress(data: Buffer): Promise<Buffer>; close(): void } {
  let stream: zlib.DeflateRaw | undefined;
  return {
    compress(data: Buffer): Promise<Buffer> {
      const z = (stream ??= zlib.createDeflateRaw({ windowBits: 15 }));
      const chunks: Buffer[] = [];
      const onData = (c: Buffer) => chunks.push(c);
      z.on('data', onData);
      z.write(data);
      return new Promise((resolve, reject) => {
        z.flush(zlib.constants.Z_SYNC_FLUSH, () => {
          z.off('data', onData);
          const out = Buffer.concat(chunks);
          if (!out.subarray(-4).equals(Buffer.from([0, 0, 0xff, 0xff]))) return reject(new Error('no sync flush tail'));
          if (noContextTakeover) {
            z.close();
            stream = undefined;
          }
          resolve(out.subarray(0, -4));
        });
      });
    },
    close(): void {
      stream?.close();
    },
  };
}
