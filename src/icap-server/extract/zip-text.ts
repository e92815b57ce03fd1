// What of a zip archive is scanned as text besides its files: the bytes its reader cannot account
// for (Extraction.leftover: junk, damage, a cut, the end of central directory record, its comment
// and whatever follows), and its records (PKWARE APPNOTE 6.3.10 §4.3): file names, extra fields
// that are not numbers and file comments are text anyone can write (a card number in a file name
// is as much a leak as one in a file), and the numbers are scanned with them because a record
// that a cut archive begins takes the text appended after the cut as its fields. All of it goes to
// one text view, in the order of the archive, created when the first byte of it comes; a record
// begins a line, so that it is not read together with what came before it.
import type { ByteSink } from '../decode/byte-sink.js';

/** An entry's last bytes, kept while it may still turn out broken or cut. */
const KEPT_BYTES = 64 * 1024;
/**
 * Local header texts remembered, so that the central directory's copy of each is not counted
 * twice; past these bounds a copy is scanned again (a finding counted twice beats memory that
 * grows with the number of entries).
 */
const REMEMBERED_BYTES = 1024 * 1024;
const REMEMBERED_TEXTS = 16 * 1024;
const NEWLINE = Buffer.from('\n');

export class ZipText {
  private sink: ByteSink | undefined;
  private kept: Buffer[] = [];
  private keptBytes = 0;
  private readonly remembered = new Map<string, number>();
  private rememberedBytes = 0;

  constructor(private readonly open: () => ByteSink) {}

  /** Bytes the reader cannot account for, in the order they came. */
  async unaccounted(bytes: Buffer): Promise<void> {
    if (bytes.length > 0) await this.out().write(bytes);
  }

  /** A local header: scanned, and its text remembered for its central directory record. */
  async local(record: Buffer, text: Buffer): Promise<void> {
    await this.record(record);
    if (this.rememberedBytes + text.length > REMEMBERED_BYTES || this.remembered.size >= REMEMBERED_TEXTS) return;
    const key = text.toString('latin1');
    this.remembered.set(key, (this.remembered.get(key) ?? 0) + 1);
    this.rememberedBytes += text.length;
  }

  /**
   * A central directory record, scanned unless a local header carried the same text (unzip tools
   * name files from the directory, so one that differs is read), and its file comment.
   */
  async central(record: Buffer, text: Buffer, comment: Buffer): Promise<void> {
    const key = text.toString('latin1');
    const count = this.remembered.get(key);
    if (count === undefined) await this.record(record);
    else if (count > 1) this.remembered.set(key, count - 1);
    else {
      this.remembered.delete(key);
      this.rememberedBytes -= text.length;
    }
    await this.record(comment);
  }

  /**
   * An entry's data as it is read. Text written after a cut goes into the entry as if it were its
   * data: into an inflater, which breaks on it or is cut by the end of the body, or into a stored
   * file, whose CRC-32 then differs. What the entry was given last is then leftover (lose), on
   * together with what follows; a whole entry forgets it.
   */
  keep(data: Buffer): void {
    this.kept.push(data);
    this.keptBytes += data.length;
    while (this.keptBytes - (this.kept[0] as Buffer).length >= KEPT_BYTES) this.keptBytes -= (this.kept.shift() as Buffer).length;
  }

  async lose(): Promise<void> {
    const kept = this.kept;
    this.forget();
    for (const data of kept) await this.unaccounted(data);
  }

  forget(): void {
    this.kept = [];
    this.keptBytes = 0;
  }

  async end(): Promise<void> {
    if (this.sink !== undefined) await this.sink.end();
  }

  /** A record's bytes after its signature, on a new line. */
  async record(bytes: Buffer): Promise<void> {
    if (bytes.length === 0) return;
    await this.out().write(NEWLINE);
    await this.out().write(bytes);
  }

  private out(): ByteSink {
    this.sink ??= this.open();
    return this.sink;
  }
}
