// A node:zlib engine (inflate, gunzip, brotli) driven on the calling thread, a piece at a time, the
// way node:zlib's own synchronous functions drive it (processChunkSync: handle.writeSync, then the
// counts it leaves in _writeState). A zlib stream sends each piece through the thread pool and
// back, a round trip that cost more CPU than the decoding of a 64 KiB piece, with the main thread
// idle meanwhile. Gzip members after the first are read by the engine itself (node_zlib.cc resets
// it at a new member's magic), as in a stream.
import zlib from 'node:zlib';

/** The parts of a node:zlib object that processChunkSync uses; its typings leave them out. */
interface Engine {
  _handle: { writeSync(flush: number, input: Buffer, inOff: number, inLength: number, out: Buffer, outOff: number, outLength: number): void };
  /** What the last writeSync left: [output space, input bytes]. */
  _writeState: Uint32Array;
  /** The flush of a write, and of the last one (zlib and brotli number them differently). */
  _defaultFlushFlag: number;
  _finishFlushFlag: number;
}

export type ZlibObject = zlib.Gunzip | zlib.Inflate | zlib.InflateRaw | zlib.BrotliDecompress;

/** The data broke the stream (a zlib error destroys the object at once, node:zlib's handle.onerror). */
export const BROKEN = -1;
/** `onPiece` said stop. */
export const STOPPED = -2;

export class ZlibEngine {
  readonly #engine: Engine;

  constructor(
    readonly zlib: ZlibObject,
    /** Output piece size; 64 KiB keeps a 200 MiB zip's RSS growth near 20 MiB (256 KiB: 63-80). */
    private readonly pieceBytes = 64 * 1024,
  ) {
    this.#engine = zlib as unknown as Engine;
    // A broken stream is read from `destroyed`: its error event must not crash the worker.
    zlib.on('error', () => undefined);
  }

  get broken(): boolean {
    return this.zlib.destroyed;
  }

  /**
   * Decodes `input` (the last of it when `finish`), handing each piece to `onPiece` (false: stop);
   * answers how many input bytes the stream took (fewer than all: it ended inside `input`),
   * BROKEN or STOPPED. `room` lends the memory a piece is written into (else a new buffer each).
   */
  async run(input: Buffer, finish: boolean, onPiece: (piece: Buffer) => Promise<boolean> | boolean, room?: (bytes: number) => Buffer): Promise<number> {
    const { _handle: handle, _writeState: state } = this.#engine;
    const flush = finish ? this.#engine._finishFlushFlag : this.#engine._defaultFlushFlag;
    let taken = 0;
    for (;;) {
      const piece = room?.(this.pieceBytes) ?? Buffer.allocUnsafe(this.pieceBytes);
      handle.writeSync(flush, input, taken, input.length - taken, piece, 0, this.pieceBytes);
      if (this.zlib.destroyed) return BROKEN;
      const space = state[0] as number;
      taken = input.length - (state[1] as number);
      const made = this.pieceBytes - space;
      if (made > 0 && !(await onPiece(piece.subarray(0, made)))) return STOPPED;
      // Space left over: the engine wants more input, or its stream ended.
      if (space > 0) return taken;
    }
  }

  close(): void {
    this.zlib.close();
  }
}
