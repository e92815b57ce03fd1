// The LZMA decoder (range coder, literal and match models) as LZMA2 uses it (xz's format
// documentation, and the LZMA SDK's LzmaDec.c, whose structure this follows). decodeChunk() runs
// on one LZMA2 chunk whose packed bytes (≤ 64 KiB) are all here and produces its unpacked bytes
// (≤ 2 MiB) into the dictionary, copying them out as they are made, so a dictionary smaller than
// a chunk is never overrun. The dictionary grows as output arrives, up to its declared size.

const PROB_INIT = 1024;
const STATES = 12;
const POS_STATES_MAX = 16;
const END_POS_MODEL = 14;
const FULL_DISTANCES = 128;
const ALIGN_BITS = 4;

class LengthModel {
  readonly choice = new Uint16Array(2);
  readonly low = new Uint16Array(POS_STATES_MAX << 3);
  readonly mid = new Uint16Array(POS_STATES_MAX << 3);
  readonly high = new Uint16Array(256);

  reset(): void {
    this.choice.fill(PROB_INIT);
    this.low.fill(PROB_INIT);
    this.mid.fill(PROB_INIT);
    this.high.fill(PROB_INIT);
  }
}

export class LzmaDecoder {
  // Range decoder over the current chunk.
  private input: Buffer = Buffer.alloc(0);
  private at = 0;
  private range = 0;
  private code = 0;

  private lc = 3;
  private lp = 0;
  private pb = 2;
  private literal = new Uint16Array(0x300 << 3);
  private readonly isMatch = new Uint16Array(STATES << 4);
  private readonly isRep = new Uint16Array(STATES);
  private readonly isRepG0 = new Uint16Array(STATES);
  private readonly isRepG1 = new Uint16Array(STATES);
  private readonly isRepG2 = new Uint16Array(STATES);
  private readonly isRep0Long = new Uint16Array(STATES << 4);
  private readonly posSlot = new Uint16Array(4 << 6);
  private readonly specPos = new Uint16Array(FULL_DISTANCES - END_POS_MODEL);
  private readonly align = new Uint16Array(1 << ALIGN_BITS);
  private readonly lengths = new LengthModel();
  private readonly repLengths = new LengthModel();
  private state = 0;
  private reps = [0, 0, 0, 0];

  // Dictionary: a buffer grown up to dictSize, then used as a ring.
  private dict = new Uint8Array(0);
  private pos = 0;
  private full = 0;
  /** Bytes produced since the last dictionary reset (LZMA's position for pos/lit states). */
  private total = 0;
  private outStart = 0;
  private out: Buffer[] = [];

  constructor(private readonly dictSize: number) {}

  resetDictionary(): void {
    this.pos = 0;
    this.full = 0;
    this.total = 0;
  }

  /** lc/lp/pb from an LZMA2 properties byte; false when they are out of range. */
  setProperties(props: number): boolean {
    if (props > (4 * 5 + 4) * 9 + 8) return false;
    this.lc = props % 9;
    this.lp = Math.floor(props / 9) % 5;
    this.pb = Math.floor(props / 45);
    if (this.lc + this.lp > 4) return false;
    this.literal = new Uint16Array(0x300 << (this.lc + this.lp));
    return true;
  }

  resetState(): void {
    this.state = 0;
    this.reps = [0, 0, 0, 0];
    for (const probs of [this.literal, this.isMatch, this.isRep, this.isRepG0, this.isRepG1, this.isRepG2, this.isRep0Long, this.posSlot, this.specPos, this.align]) probs.fill(PROB_INIT);
    this.lengths.reset();
    this.repLengths.reset();
  }

  /** An LZMA2 uncompressed chunk: into the dictionary, and out. */
  copy(data: Buffer): Buffer[] {
    this.out = [];
    this.outStart = this.pos;
    for (const byte of data) this.put(byte);
    this.flush();
    return this.out;
  }

  /** Decodes one LZMA chunk; the unpacked bytes, in pieces. Throws on corrupt input. */
  decodeChunk(input: Buffer, unpacked: number): Buffer[] {
    this.input = input;
    this.at = 0;
    if (input[0] !== 0) throw new Error('lzma: bad range coder start');
    this.range = 0xffffffff;
    this.code = input.readUInt32BE(1);
    this.at = 5;
    this.out = [];
    this.outStart = this.pos;
    const end = this.total + unpacked;
    const pbMask = (1 << this.pb) - 1;
    const lpMask = (1 << this.lp) - 1;
    while (this.total < end) {
      const posState = this.total & pbMask;
      const state = this.state;
      if (this.bit(this.isMatch, (state << 4) + posState) === 0) {
        const prev = this.full > 0 ? this.byteAt(1) : 0;
        const base = 0x300 * (((this.total & lpMask) << this.lc) + (prev >>> (8 - this.lc)));
        let symbol = 1;
        if (state < 7) {
          while (symbol < 0x100) symbol = (symbol << 1) | this.bit(this.literal, base + symbol);
        } else {
          let match = this.byteAt(this.reps[0]! + 1);
          while (symbol < 0x100) {
            const matchBit = (match >>> 7) & 1;
            match <<= 1;
            const bit = this.bit(this.literal, base + ((1 + matchBit) << 8) + symbol);
            symbol = (symbol << 1) | bit;
            if (matchBit !== bit) {
              while (symbol < 0x100) symbol = (symbol << 1) | this.bit(this.literal, base + symbol);
              break;
            }
          }
        }
        this.put(symbol & 0xff);
        this.state = state < 4 ? 0 : state < 10 ? state - 3 : state - 6;
        continue;
      }
      let length: number;
      if (this.bit(this.isRep, state) === 0) {
        length = this.length(this.lengths, posState);
        this.state = state < 7 ? 7 : 10;
        const reps = this.reps;
        const distance = this.distance(length);
        reps[3] = reps[2]!;
        reps[2] = reps[1]!;
        reps[1] = reps[0]!;
        reps[0] = distance;
      } else {
        if (this.bit(this.isRepG0, state) === 0) {
          if (this.bit(this.isRep0Long, (state << 4) + posState) === 0) {
            this.state = state < 7 ? 9 : 11;
            this.put(this.byteAt(this.reps[0]! + 1));
            continue;
          }
        } else {
          let distance: number;
          if (this.bit(this.isRepG1, state) === 0) {
            distance = this.reps[1]!;
          } else if (this.bit(this.isRepG2, state) === 0) {
            distance = this.reps[2]!;
            this.reps[2] = this.reps[1]!;
          } else {
            distance = this.reps[3]!;
            this.reps[3] = this.reps[2]!;
            this.reps[2] = this.reps[1]!;
          }
          this.reps[1] = this.reps[0]!;
          this.reps[0] = distance;
        }
        length = this.length(this.repLengths, posState);
        this.state = state < 7 ? 8 : 11;
      }
      const distance = this.reps[0]! + 1;
      if (distance > this.full || distance > this.dictSize) throw new Error('lzma: distance past the dictionary');
      this.repeat(distance, Math.min(length + 2, end - this.total));
    }
    this.flush();
    return this.out;
  }

  private byteAt(distance: number): number {
    let i = this.pos - distance;
    if (i < 0) i += this.dict.length;
    return this.dict[i] as number;
  }

  private put(byte: number): void {
    if (this.pos === this.dict.length) this.makeRoom();
    this.dict[this.pos++] = byte;
    if (this.full < this.dict.length) this.full++;
    this.total++;
  }

  /**
   * A match: `count` bytes from `distance` back, copied a span at a time (a call per byte was most
   * of an xz file's decoding). Forward byte by byte within a span, so a match that overlaps what
   * it writes (distance < count) repeats its bytes as LZ77 means.
   */
  private repeat(distance: number, count: number): void {
    while (count > 0) {
      if (this.pos === this.dict.length) this.makeRoom();
      const dict = this.dict;
      let from = this.pos - distance;
      if (from < 0) from += dict.length;
      const span = Math.min(count, dict.length - this.pos, dict.length - from);
      let to = this.pos;
      for (let k = 0; k < span; k++) dict[to++] = dict[from++] as number;
      this.pos = to;
      this.full = Math.min(this.full + span, dict.length);
      this.total += span;
      count -= span;
    }
  }

  /** At the end of the buffer: grown while it is smaller than the dictionary, else wrapped. */
  private makeRoom(): void {
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

  private normalize(): void {
    if (this.range < 0x1000000) {
      const next = this.input[this.at++];
      if (next === undefined) throw new Error('lzma: chunk ended early');
      this.range = (this.range << 8) >>> 0;
      this.code = ((this.code << 8) | next) >>> 0;
    }
  }

  // Normalized before each decision, as LzmaDec.c does: a chunk's packed size counts exactly the
  // bytes read that way, so normalizing after the last bit would read past the chunk.
  private bit(probs: Uint16Array, i: number): number {
    this.normalize();
    const p = probs[i] as number;
    const bound = (this.range >>> 11) * p;
    let bit: number;
    if (this.code < bound) {
      this.range = bound;
      probs[i] = p + ((2048 - p) >>> 5);
      bit = 0;
    } else {
      this.range -= bound;
      this.code -= bound;
      probs[i] = p - (p >>> 5);
      bit = 1;
    }
    return bit;
  }

  private tree(probs: Uint16Array, base: number, bits: number): number {
    let m = 1;
    for (let i = 0; i < bits; i++) m = (m << 1) | this.bit(probs, base + m);
    return m - (1 << bits);
  }

  private reverseTree(probs: Uint16Array, base: number, bits: number): number {
    let m = 1;
    let result = 0;
    for (let i = 0; i < bits; i++) {
      const bit = this.bit(probs, base + m);
      m = (m << 1) | bit;
      result |= bit << i;
    }
    return result;
  }

  private length(model: LengthModel, posState: number): number {
    if (this.bit(model.choice, 0) === 0) return this.tree(model.low, posState << 3, 3);
    if (this.bit(model.choice, 1) === 0) return 8 + this.tree(model.mid, posState << 3, 3);
    return 16 + this.tree(model.high, 0, 8);
  }

  private distance(length: number): number {
    const slot = this.tree(this.posSlot, (length < 3 ? length : 3) << 6, 6);
    if (slot < 4) return slot;
    const direct = (slot >>> 1) - 1;
    // Distances reach 2^32: multiplied, not shifted, past 31 bits.
    let distance = (2 | (slot & 1)) * 2 ** direct;
    if (slot < END_POS_MODEL) return distance + this.reverseTree(this.specPos, distance - slot - 1, direct);
    for (let i = direct - ALIGN_BITS; i > 0; i--) {
      this.normalize();
      this.range >>>= 1;
      const bit = this.code >= this.range ? 1 : 0;
      if (bit) this.code -= this.range;
      distance = distance + ((bit << (i - 1 + ALIGN_BITS)) >>> 0);
    }
    return distance + this.reverseTree(this.align, 0, ALIGN_BITS);
  }
}
