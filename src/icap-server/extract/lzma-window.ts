// The LZMA dictionary (the "window" of LzmaDec.c): a buffer grown up to the declared dictionary
// size as output arrives, then used as a ring. Output is copied out of it in pieces as it is made
// (at each wrap and at the end of a chunk), so a dictionary smaller than a chunk is never overrun
// and memory stays bounded by the dictionary. lzma-decoder.ts keeps `pos` and `full` in locals
// while it decodes a chunk and hands them back through makeRoom() and finish().
export class LzmaWindow {
  dict = new Uint8Array(0);
  /** Where the next byte goes. */
  pos = 0;
  /** Bytes of history in the dictionary (the largest distance a match may reach). */
  full = 0;
  /** Bytes produced since the last dictionary reset (LZMA's position for pos and literal states). */
  total = 0;
  private outStart = 0;
  private out: Buffer[] = [];

  constructor(private readonly dictSize: number) {}

  reset(): void {
    this.pos = 0;
    this.full = 0;
    this.total = 0;
  }

  /** Starts a chunk's output. */
  begin(): void {
    this.out = [];
    this.outStart = this.pos;
  }

  /** Ends a chunk that produced `produced` bytes; its output, in pieces. */
  finish(pos: number, full: number, produced: number): Buffer[] {
    this.pos = pos;
    this.full = full;
    this.total += produced;
    this.flush();
    return this.out;
  }

  /** An LZMA2 uncompressed chunk: into the dictionary, and out. */
  copy(data: Buffer): Buffer[] {
    this.begin();
    for (let at = 0; at < data.length; ) {
      if (this.pos === this.dict.length) this.makeRoom();
      const span = Math.min(data.length - at, this.dict.length - this.pos);
      this.dict.set(data.subarray(at, at + span), this.pos);
      this.pos += span;
      this.full = Math.min(this.full + span, this.dict.length);
      at += span;
    }
    return this.finish(this.pos, this.full, data.length);
  }

  /** At the end of the buffer (pos === dict.length): grown while it is smaller than the dictionary, else wrapped. */
  makeRoom(): void {
    if (this.dict.length < this.dictSize) {
      // Not wrapped yet: the buffer holds [0, pos) in order, so it can grow.
      const grown = new Uint8Array(Math.min(this.dictSize, Math.max(64 * 1024, this.dict.length * 2)));
      grown.set(this.dict);
      this.dict = grown;
    } else {
      this.flush();
      this.pos = 0;
      this.outStart = 0;
    }
  }

  private flush(): void {
    if (this.pos > this.outStart) this.out.push(Buffer.from(this.dict.subarray(this.outStart, this.pos)));
    this.outStart = this.pos;
  }
}
