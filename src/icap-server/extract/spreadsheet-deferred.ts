// A worksheet's XML bytes kept as they were inflated, until the shared string table is known
// (Excel writes it after the sheets, ECMA-376 Part 1 §18.4): then the sheet is read once, its
// cells resolved as they come. Reading it at once and holding its rows (spreadsheet-rows.ts) made
// strings of every row, kept them past young-generation collections, and joined and flattened
// them again when the table came: the bench's workbook allocated 53 MB per scan. Bytes sit in a
// few slabs outside V8's heap, and the inflater writes into them (room(), as LendingSink.room).

/** Slabs are this big (or as big as one lent room); a room that no longer fits starts the next. */
const SLAB_BYTES = 1024 * 1024;
/**
 * What the sheet's reader is handed at a time. The text of a piece is one write to the scanner,
 * which flattens it into one string: past 128 KiB, V8 allocates that in large-object space, on
 * fresh pages each time (256 KiB of the bench's sheet made 150k characters: 2,800 page faults a
 * scan). A cell's markup (`<c r="B3" s="1" t="s"><v>7</v></c>`) takes more bytes than the text
 * it stands for, short of shared strings longer than it.
 */
export const REPLAY_BYTES = 128 * 1024;

export class DeferredBytes {
  /** Bytes kept so far. */
  bytes = 0;
  private readonly full: Buffer[] = [];
  private slab: Buffer | undefined;
  private used = 0;

  /** Memory for the next `bytes` bytes (an inflater writes a piece there, then add()s it). */
  room(bytes: number): Buffer {
    if (this.slab === undefined || this.slab.length - this.used < bytes) this.next(bytes);
    const slab = this.slab as Buffer;
    return slab.subarray(this.used, this.used + bytes);
  }

  /** Keeps `chunk`: in place when it is what room() lent last, else copied. */
  add(chunk: Buffer): void {
    const slab = this.slab;
    this.bytes += chunk.length;
    if (slab !== undefined && chunk.buffer === slab.buffer && chunk.byteOffset === slab.byteOffset + this.used && chunk.length <= slab.length - this.used) {
      this.used += chunk.length;
      return;
    }
    for (let at = 0; at < chunk.length; ) {
      if (this.slab === undefined || this.used === this.slab.length) this.next(1);
      const n = chunk.copy(this.slab as Buffer, this.used, at);
      this.used += n;
      at += n;
    }
  }

  /** The bytes kept, in order, in pieces of at most REPLAY_BYTES; nothing is kept after. */
  *take(): Generator<Buffer> {
    if (this.slab !== undefined) this.full.push(this.slab.subarray(0, this.used));
    const slabs = this.full.splice(0);
    this.slab = undefined;
    this.used = 0;
    this.bytes = 0;
    for (const slab of slabs) for (let at = 0; at < slab.length; at += REPLAY_BYTES) yield slab.subarray(at, at + REPLAY_BYTES);
  }

  private next(atLeast: number): void {
    if (this.slab !== undefined && this.used > 0) this.full.push(this.slab.subarray(0, this.used));
    this.slab = Buffer.allocUnsafe(Math.max(atLeast, SLAB_BYTES));
    this.used = 0;
  }
}
