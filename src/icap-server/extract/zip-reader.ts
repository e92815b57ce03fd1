// Zip archives (PKWARE APPNOTE 6.3.10) read as they stream, from their local file headers: stored
// and deflated entries, sizes from the header, from the zip64 extra field (§4.5.3) or, with a data
// descriptor (flag bit 3, §4.3.9), from where the deflate stream ends. Each entry is a file of its
// own (office parts get their own readers: office-parts.ts). Encrypted entries (flag bit 0, or
// WinZip AES, method 99) are `encrypted-content`; other methods are `decode-limit:method`.
// The central directory (§4.3.12) and the end records are parsed only to account for their bytes
// (their text is scanned, zip-text.ts): overlapping entries (a "zip bomb" built on the directory)
// therefore cost nothing. Bytes that are not where a record should be, or whose record does not
// parse (junk, a header that lies, a cut, the end of central directory record and what follows),
// are leftovers, scanned as text up to the next local header signature, where reading goes on: so
// a broken, doctored or concatenated archive still gets its entries read, and nothing in it goes
// unscanned.
//
//   signature ─┬─ local header ─► data ─┬─► signature
//              │                        └─ flag bit 3 ─► descriptor ─► signature
//              ├─ central record, zip64 end, locator, signature ─► signature
//              ├─ end of central directory ─► resync (its comment and after)
//              └─ anything else, or a record that does not parse ─► resync ─► signature
import zlib from 'node:zlib';
import type { ByteSink, RatioMeter } from '../decode/byte-sink.js';
import type { Extraction } from '../decode/extraction.js';
import { OfficeParts } from './office-parts.js';
import { RawInflater } from './raw-inflater.js';
import { CENTRAL_HEADER, centralRecord, descriptorLength, directoryEndRecord, END_OF_CENTRAL_DIRECTORY, LOCAL_HEADER, LOCAL_SIGNATURE, type LocalHeader, localHeader } from './zip-records.js';
import { ZipText } from './zip-text.js';

/**
 * A deflated entry of at most this many compressed bytes, whose header says it inflates to at most
 * WHOLE_OUTPUT_BYTES, is inflated at once when all of it is here (no thread-pool round trip per
 * 64 KiB); one whose header lies about it streams like any other. Larger limits made the
 * transient buffers of a 200 MiB zip cost more memory than the 64 MiB the issue allows.
 * An entry with a data descriptor (every entry of a jar) does not say its size: it is inflated at
 * once when the bytes here show a record after it (recordAhead), waiting for up to
 * WHOLE_ENTRY_BYTES for one, and streamed otherwise or when that inflate does not end there.
 */
const WHOLE_ENTRY_BYTES = 256 * 1024;
const WHOLE_OUTPUT_BYTES = 2 * 1024 * 1024;
const PK = Buffer.from('PK');

/**
 * Whether `data` holds the signature of a record that may follow an entry (a data descriptor, a
 * local header, a central directory record): an entry of unknown size is inflated at once only
 * then, so a large one is never inflated twice (once in vain, then as a stream).
 */
function recordAhead(data: Buffer): boolean {
  for (let at = data.indexOf(PK); at >= 0 && at + 3 < data.length; at = data.indexOf(PK, at + 2)) {
    const a = data[at + 2];
    const b = data[at + 3];
    if ((a === 7 && b === 8) || (a === 3 && b === 4) || (a === 1 && b === 2)) return true;
  }
  return false;
}

interface Entry {
  header: LocalHeader;
  /** Compressed bytes left, when known. */
  remaining: number | undefined;
  /** Compressed bytes read so far: a data descriptor repeats their count. */
  taken: number;
  /** The entry's file; undefined when its data is skipped. */
  out: ByteSink | undefined;
  /** Where the file's reader lends the memory it reads its next chunk from (OfficeParts.open). */
  room: ((bytes: number) => Buffer) | undefined;
  inflater: RawInflater | undefined;
  meter: RatioMeter | undefined;
  /** Bytes to wait for before it is inflated at once (all of a known size); 0 when it streams. */
  wholeAt: number;
  /** CRC-32 of a stored entry's data so far (§4.4.7). */
  crc: number;
}

type State = 'signature' | 'data' | 'descriptor' | 'resync' | 'done';

/**
 * `leftover` opens the text view of the archive's records and of what they do not account for
 * (Extraction.leftover by default); a caller whose own text view already reads every byte of the
 * archive gives one that discards, so that nothing is counted twice.
 */
export function zipReader(ctx: Extraction, depth: number, leftover: () => ByteSink = () => ctx.leftover(depth)): ByteSink {
  const office = new OfficeParts(ctx, depth + 1);
  const text = new ZipText(leftover);
  let state: State = 'signature';
  let pending: Buffer = Buffer.alloc(0);
  let entry: Entry | undefined;
  /** The entry just finished, whose data descriptor comes next. */
  let described: Entry | undefined;

  const begin = (header: LocalHeader) => {
    const e: Entry = { header, remaining: header.compressed, taken: 0, out: undefined, room: undefined, inflater: undefined, meter: undefined, wholeAt: 0, crc: 0 };
    entry = e;
    state = 'data';
    if ((header.flags & 0x01) !== 0 || header.method === 99) {
      ctx.encrypted();
      return;
    }
    if (header.method !== 0 && header.method !== 8) {
      ctx.budget.stop('method');
      return;
    }
    // A directory holds no data; one that does is read as a file.
    const directory = header.name.at(-1) === 0x2f && e.remaining === 0;
    if (directory || !ctx.budget.entry()) return;
    const file = office.open(header.name.toString(header.flags & 0x800 ? 'utf8' : 'latin1'));
    e.out = file.sink;
    e.room = file.room;
    if (header.method !== 8) return;
    if (e.remaining === undefined) e.wholeAt = 1;
    else if (e.remaining <= WHOLE_ENTRY_BYTES && header.size > 0 && header.size <= WHOLE_OUTPUT_BYTES) e.wholeAt = e.remaining;
    else stream(e);
  };

  const stream = (e: Entry) => {
    e.meter = ctx.budget.ratio();
    e.inflater = new RawInflater(e.out as ByteSink, e.meter, e.room);
  };

  /**
   * Inflates a whole entry at once: how many of its bytes the deflate stream took; 'wait' when an
   * entry of unknown size may end in the bytes still to come; undefined when it must stream
   * instead (too big once inflated, broken or cut: the stream finds where).
   */
  const inflateWhole = async (e: Entry, data: Buffer): Promise<number | 'wait' | undefined> => {
    if (e.remaining === undefined && !recordAhead(data)) {
      if (data.length >= WHOLE_ENTRY_BYTES) return undefined;
      e.wholeAt = Math.min(WHOLE_ENTRY_BYTES, 2 * data.length);
      return 'wait';
    }
    let inflated: { buffer: Buffer; engine: zlib.InflateRaw };
    try {
      inflated = zlib.inflateRawSync(data, { maxOutputLength: WHOLE_OUTPUT_BYTES, info: true }) as unknown as typeof inflated;
    } catch {
      return undefined;
    }
    const meter = ctx.budget.ratio();
    meter.input(data.length);
    if (meter.output(inflated.buffer.length)) await (e.out as ByteSink).write(inflated.buffer);
    return inflated.engine.bytesWritten;
  };

  /** A stream that broke (not one a limit stopped: that one is reported) leaves what it was given last. */
  const broken = (e: Entry) => e.inflater !== undefined && e.inflater.failed && e.meter?.stopped !== true;

  const finishEntry = async (e: Entry) => {
    entry = undefined;
    // Ending an incomplete deflate stream fails it: the entry was cut.
    if (e.inflater) await e.inflater.end();
    const stored = e.out !== undefined && e.header.method === 0;
    if (broken(e) || (stored && e.crc !== e.header.crc)) await text.lose();
    else text.forget();
    if (e.out) await e.out.end();
    described = e;
    state = (e.header.flags & 0x08) !== 0 ? 'descriptor' : 'signature';
  };

  /**
   * Deflated data. The entry ends at the size its header declares, or where its deflate stream
   * ends or breaks if that comes first: what follows is read as the next record (or is leftover),
   * so neither a header that claims too much nor bytes hidden after the stream escape.
   */
  const inflate = async (e: Entry, inflater: RawInflater): Promise<void> => {
    const chunk = e.remaining === undefined ? pending : pending.subarray(0, e.remaining);
    text.keep(chunk);
    const used = await inflater.write(chunk);
    e.taken += used;
    if (e.remaining !== undefined) e.remaining -= used;
    pending = pending.subarray(used);
    // A limit stopped it: its bytes are skipped (data() skips the rest of a known size).
    if (inflater.failed && !broken(e)) return;
    if (!inflater.done && e.remaining !== 0) return;
    if (broken(e)) {
      // The kept bytes hold the chunk: from the last of them on, the stream cannot be accounted for.
      await text.lose();
      pending = pending.subarray(chunk.length);
    }
    await finishEntry(e);
    if (inflater.failed) state = 'resync';
  };

  const data = async (e: Entry): Promise<void> => {
    if (e.wholeAt > 0) {
      const used = await inflateWhole(e, pending.subarray(0, e.remaining ?? WHOLE_ENTRY_BYTES));
      if (used === 'wait') return;
      e.wholeAt = 0;
      if (used !== undefined) {
        pending = pending.subarray(used);
        e.taken = used;
        await finishEntry(e);
        return;
      }
      stream(e);
    }
    const inflater = e.inflater;
    if (inflater !== undefined && e.meter?.stopped !== true) return inflate(e, inflater);
    if (e.remaining === undefined) {
      // Its end cannot be found: what follows is leftover up to the next local header.
      await finishEntry(e);
      state = 'resync';
      return;
    }
    const take = Math.min(e.remaining, pending.length);
    const chunk = pending.subarray(0, take);
    pending = pending.subarray(take);
    e.remaining -= take;
    e.taken += take;
    // Stored bytes count against the body's budget like decoded ones; the others (encrypted, of
    // another method, of a stream a limit stopped) are the entry's, unread.
    if (inflater === undefined && e.out !== undefined) {
      text.keep(chunk);
      e.crc = zlib.crc32(chunk, e.crc);
      if (ctx.budget.take(take)) await e.out.write(chunk);
    }
    if (e.remaining === 0) await finishEntry(e);
  };

  /** The record at the head of `pending`; false to wait for more bytes. */
  const record = async (): Promise<boolean> => {
    const signature = pending.readUInt32LE(0);
    if (signature === LOCAL_HEADER) {
      const header = localHeader(pending);
      if (header === 'wait') return false;
      if (header !== 'invalid') {
        await text.local(header.record, header.text);
        pending = pending.subarray(header.length);
        begin(header);
        return true;
      }
    } else if (signature === CENTRAL_HEADER) {
      const central = centralRecord(pending);
      if (central === 'wait') return false;
      if (central !== 'invalid') {
        await text.central(central.record, central.text, central.comment);
        pending = pending.subarray(central.length);
        return true;
      }
    } else if (signature === END_OF_CENTRAL_DIRECTORY) {
      // The archive ends: this record, its comment and what follows are text (another archive may follow).
      await text.unaccounted(pending.subarray(0, 4));
      pending = pending.subarray(4);
      state = 'resync';
      return true;
    } else {
      const length = directoryEndRecord(pending);
      if (length === 'wait') return false;
      if (length !== 'invalid') {
        await text.record(pending.subarray(4, length));
        pending = pending.subarray(length);
        return true;
      }
    }
    await text.unaccounted(pending.subarray(0, 1));
    pending = pending.subarray(1);
    state = 'resync';
    return true;
  };

  const consume = async (): Promise<void> => {
    for (;;) {
      if (ctx.budget.exceeded) state = 'done';
      if (state === 'done') {
        pending = Buffer.alloc(0);
        return;
      }
      if (state === 'signature') {
        if (pending.length < 4 || !(await record())) return;
      } else if (state === 'resync') {
        const at = pending.indexOf(LOCAL_SIGNATURE);
        // Up to three bytes may begin a signature the next chunk completes.
        const skip = at < 0 ? Math.max(0, pending.length - 3) : at;
        await text.unaccounted(pending.subarray(0, skip));
        pending = pending.subarray(skip);
        if (at < 0) return;
        state = 'signature';
      } else if (state === 'descriptor') {
        const e = described as Entry;
        const length = descriptorLength(pending, e.header.zip64, e.taken);
        if (length === 'wait') return;
        if (length === 'invalid') state = 'resync';
        else {
          await text.record(pending.subarray(0, length));
          pending = pending.subarray(length);
          state = 'signature';
        }
      } else {
        const e = entry as Entry;
        // An entry waiting for more bytes (to inflate at once) returns here until they came.
        if (pending.length === 0 || pending.length < e.wholeAt) return;
        await data(e);
      }
    }
  };

  return {
    async write(chunk) {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      await consume();
    },
    async end() {
      await consume();
      const e = entry;
      if (state === 'data' && e !== undefined) {
        // The body ends inside the entry: what is here of it is read, and it is finished as cut.
        if (e.wholeAt > 0) {
          e.wholeAt = 0;
          stream(e);
          await inflate(e, e.inflater as RawInflater);
        }
        if (entry === e) await finishEntry(e);
        await consume();
      }
      if (state !== 'done') await text.unaccounted(pending);
      pending = Buffer.alloc(0);
      await office.finish();
      await text.end();
    },
  };
}
