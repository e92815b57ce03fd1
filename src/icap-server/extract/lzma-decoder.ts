// The LZMA decoder (range coder, literal and match models) as LZMA2 uses it (xz's format
// documentation, and the LZMA SDK's LzmaDec.c). decodeChunk() runs on one LZMA2 chunk whose packed
// bytes (≤ 64 KiB) are all here and produces its unpacked bytes (≤ 2 MiB) into the dictionary,
// copying them out as they are made, so a dictionary smaller than a chunk is never overrun.
//
// The decoding loop is a WebAssembly kernel (lzma-chunk.as.ts): the range coder's chain of bit
// after bit is what an xz file's decoding costs, and the kernel runs it ~1.5x faster than the same
// loop in JavaScript with its state in locals (which was itself ~1.8x faster than in fields). Each decoder has its own instance, since its memory holds the
// decoder's probabilities and dictionary between chunks (several streams are decoded at once,
// interleaved by the awaits of their sinks). This side owns the dictionary's growth and wrap:
// a buffer grown up to the declared dictionary size as output arrives, then used as a ring.
import { Kernel, type KernelMemory } from '../wasm/kernel.js';
import { LZMA_CHUNK_WASM } from './lzma-chunk-wasm.js';

/** The kernel's memory: probabilities from 0, the chunk's packed bytes at INPUT, the dictionary at DICT. */
const INPUT = 32768;
const DICT = 98304;
const MAX_PACKED = DICT - INPUT;
const DONE = 0;
const ENDED = -1;
const DISTANCE = -2;

interface Exports extends KernelMemory {
  setProperties(lc: number, lp: number, pb: number): void;
  resetState(): void;
  setWindow(length: number, pos: number, full: number): void;
  windowPos(): number;
  windowFull(): number;
  begin(packed: number, unpacked: number, position: number): number;
  run(): number;
}

export class LzmaDecoder {
  private readonly kernel = new Kernel<Exports>(LZMA_CHUNK_WASM);
  /** The dictionary's buffer so far (≤ dictSize). */
  private length = 0;
  /** Where the next byte goes. */
  private pos = 0;
  /** Bytes of history in the dictionary (the largest distance a match may reach). */
  private full = 0;
  /** Bytes produced since the last dictionary reset (LZMA's position for pos and literal states). */
  private total = 0;
  private outStart = 0;
  private out: Buffer[] = [];

  constructor(private readonly dictSize: number) {
    this.kernel.reserve(DICT);
  }

  resetDictionary(): void {
    this.pos = 0;
    this.full = 0;
    this.total = 0;
  }

  /** lc/lp/pb from an LZMA2 properties byte; false when they are out of range. */
  setProperties(props: number): boolean {
    if (props > (4 * 5 + 4) * 9 + 8) return false;
    const lc = props % 9;
    const lp = Math.floor(props / 9) % 5;
    if (lc + lp > 4) return false;
    this.kernel.exports.setProperties(lc, lp, Math.floor(props / 45));
    return true;
  }

  resetState(): void {
    this.kernel.exports.resetState();
  }

  /** An LZMA2 uncompressed chunk: into the dictionary, and out. */
  copy(data: Buffer): Buffer[] {
    this.begin();
    for (let at = 0; at < data.length; ) {
      if (this.pos === this.length) this.makeRoom();
      const span = Math.min(data.length - at, this.length - this.pos);
      this.kernel.reserve(0).set(data.subarray(at, at + span), DICT + this.pos);
      this.pos += span;
      this.full = Math.min(this.full + span, this.length);
      at += span;
    }
    this.total += data.length;
    return this.finish();
  }

  /** Decodes one LZMA chunk; the unpacked bytes, in pieces. Throws on corrupt input. */
  decodeChunk(input: Buffer, unpacked: number): Buffer[] {
    if (input.length > MAX_PACKED) throw new Error('lzma: chunk too large');
    const k = this.kernel.exports;
    this.kernel.reserve(0).set(input, INPUT);
    if (!k.begin(input.length, unpacked, this.total)) throw new Error('lzma: bad range coder start');
    this.begin();
    for (;;) {
      k.setWindow(this.length, this.pos, this.full);
      const result = k.run();
      this.pos = k.windowPos();
      this.full = k.windowFull();
      if (result === DONE) break;
      if (result === ENDED) throw new Error('lzma: chunk ended early');
      if (result === DISTANCE) throw new Error('lzma: distance past the dictionary');
      this.makeRoom();
    }
    this.total += unpacked;
    return this.finish();
  }

  private begin(): void {
    this.out = [];
    this.outStart = this.pos;
  }

  private finish(): Buffer[] {
    this.flush();
    return this.out;
  }

  /** At the end of the buffer (pos === length): grown while it is smaller than the dictionary, else wrapped. */
  private makeRoom(): void {
    if (this.length < this.dictSize) {
      // Not wrapped yet: the buffer holds [0, pos) in order, so it can grow (a grown memory keeps its bytes).
      this.length = Math.min(this.dictSize, Math.max(64 * 1024, this.length * 2));
      this.kernel.reserve(DICT + this.length);
    } else {
      this.flush();
      this.pos = 0;
      this.outStart = 0;
    }
  }

  private flush(): void {
    if (this.pos > this.outStart) this.out.push(Buffer.from(this.kernel.reserve(0).subarray(DICT + this.outStart, DICT + this.pos)));
    this.outStart = this.pos;
  }
}
