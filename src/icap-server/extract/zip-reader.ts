// Zip archives (PKWARE APPNOTE 6.3.10) read as they stream, from their local file headers: stored
// and deflated entries, sizes from the header, from the zip64 extra field (§4.5.3) or, with a data
// descriptor (flag bit 3, §4.3.9), from where the deflate stream ends. Each entry is a file of its
// own (office parts get their own readers: office-parts.ts). Encrypted entries (flag bit 0, or
// WinZip AES, method 99) are `encrypted-content`; other methods are `decode-limit:method`.
// Bytes that are not where a header should be (junk, a header that lies about its size) are
// skipped to the next local header signature, so a broken or doctored archive still gets read.
// The central directory is not needed and not read; overlapping entries (a "zip bomb" built on
// the directory) therefore cost nothing.
import zlib from 'node:zlib';
import type { ByteSink } from '../decode/byte-sink.js';
import type { Extraction } from '../decode/extraction.js';
import { OfficeParts } from './office-parts.js';
import { RawInflater } from './raw-inflater.js';

const LOCAL_HEADER = 0x04034b50;
const DATA_DESCRIPTOR = 0x08074b50;
/** Central directory, end records, digital signature, archive extra data: the entries are over. */
const TRAILERS = new Set([0x02014b50, 0x06054b50, 0x06064b50, 0x07064b50, 0x05054b50, 0x08064b50]);
const LOCAL_SIGNATURE = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
/** Methods of §4.4.5; a header naming another (or needing a version past 6.3) is not a header. */
const METHODS = new Set([0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 12, 14, 16, 18, 19, 93, 94, 95, 96, 97, 98, 99]);

/**
 * A deflated entry of at most this many compressed bytes, whose header says it inflates to at most
 * WHOLE_OUTPUT_BYTES, is inflated at once when all of it is here (no thread-pool round trip per
 * 64 KiB); one whose header lies about it streams like any other. Larger limits made the
 * transient buffers of a 200 MiB zip cost more memory than the 64 MiB the issue allows.
 */
const WHOLE_ENTRY_BYTES = 256 * 1024;
const WHOLE_OUTPUT_BYTES = 2 * 1024 * 1024;

interface Entry {
  name: string;
  flags: number;
  method: number;
  /** Compressed bytes left, when known. */
  remaining: number | undefined;
  /** The uncompressed size the header declares (0 with a data descriptor). */
  size: number;
  zip64: boolean;
  /** The entry's file; undefined when its data is skipped. */
  out: ByteSink | undefined;
  inflater: RawInflater | undefined;
  /** Waiting for all its compressed bytes, to inflate them at once. */
  whole: boolean;
}

type State = 'header' | 'data' | 'descriptor' | 'resync' | 'done';

export function zipReader(ctx: Extraction, depth: number): ByteSink {
  const office = new OfficeParts(ctx, depth + 1);
  let state: State = 'header';
  let pending: Buffer = Buffer.alloc(0);
  let entry: Entry | undefined;
  /** Whether the entry just finished had zip64 sizes: its data descriptor has 8-byte sizes then. */
  let lastZip64 = false;

  const parseHeader = (): Entry | 'wait' | 'invalid' => {
    if (pending.length < 30) return 'wait';
    if ((pending[4] as number) > 63 || pending[5] !== 0 || !METHODS.has(pending.readUInt16LE(8))) return 'invalid';
    const nameLength = pending.readUInt16LE(26);
    const extraLength = pending.readUInt16LE(28);
    if (pending.length < 30 + nameLength + extraLength) return 'wait';
    const flags = pending.readUInt16LE(6);
    const method = pending.readUInt16LE(8);
    let compressed: number = pending.readUInt32LE(18);
    let size: number = pending.readUInt32LE(22);
    const name = pending.toString(flags & 0x800 ? 'utf8' : 'latin1', 30, 30 + nameLength);
    const extra = pending.subarray(30 + nameLength, 30 + nameLength + extraLength);
    let zip64 = false;
    for (let at = 0; at + 4 <= extra.length; ) {
      const id = extra.readUInt16LE(at);
      const fieldSize = extra.readUInt16LE(at + 2);
      // §4.5.3: in a local header the zip64 field holds the original size, then the compressed size.
      if (id === 0x0001 && fieldSize >= 16 && at + 20 <= extra.length) {
        zip64 = true;
        if (compressed === 0xffffffff) compressed = Number(extra.readBigUInt64LE(at + 12));
        if (size === 0xffffffff) size = Number(extra.readBigUInt64LE(at + 4));
      }
      at += 4 + fieldSize;
    }
    pending = pending.subarray(30 + nameLength + extraLength);
    const known = (flags & 0x08) === 0 || compressed !== 0;
    return { name, flags, method, remaining: known ? compressed : undefined, size, zip64, out: undefined, inflater: undefined, whole: false };
  };

  const begin = (e: Entry) => {
    entry = e;
    state = 'data';
    if ((e.flags & 0x01) !== 0 || e.method === 99) {
      ctx.encrypted();
      return;
    }
    if (e.method !== 0 && e.method !== 8) {
      ctx.budget.stop('method');
      return;
    }
    if (e.name.endsWith('/') || !ctx.budget.entry()) return;
    e.out = office.open(e.name);
    if (e.method !== 8) return;
    if (e.remaining !== undefined && e.remaining <= WHOLE_ENTRY_BYTES && e.size > 0 && e.size <= WHOLE_OUTPUT_BYTES) e.whole = true;
    else e.inflater = new RawInflater(e.out, ctx.budget.ratio());
  };

  /** Inflates a whole entry at once; false when it must stream instead (too big once inflated, or broken). */
  const inflateWhole = async (e: Entry, data: Buffer): Promise<boolean> => {
    let out: Buffer;
    try {
      out = zlib.inflateRawSync(data, { maxOutputLength: WHOLE_OUTPUT_BYTES, finishFlush: zlib.constants.Z_SYNC_FLUSH });
    } catch {
      return false;
    }
    const meter = ctx.budget.ratio();
    meter.input(data.length);
    if (meter.output(out.length)) await (e.out as ByteSink).write(out);
    return true;
  };

  const finishEntry = async (e: Entry) => {
    entry = undefined;
    lastZip64 = e.zip64;
    if (e.inflater) await e.inflater.end();
    if (e.out) await e.out.end();
    state = (e.flags & 0x08) !== 0 ? 'descriptor' : 'header';
  };

  const feed = async (e: Entry, data: Buffer): Promise<void> => {
    if (e.inflater) await e.inflater.write(data);
    // Stored bytes count against the body's budget like decoded ones.
    else if (e.out && ctx.budget.take(data.length)) await e.out.write(data);
  };

  const consume = async (): Promise<void> => {
    for (;;) {
      if (ctx.budget.exceeded) state = 'done';
      if (state === 'done') {
        pending = Buffer.alloc(0);
        return;
      }
      if (state === 'header') {
        if (pending.length < 4) return;
        const signature = pending.readUInt32LE(0);
        if (TRAILERS.has(signature)) {
          state = 'done';
          continue;
        }
        if (signature !== LOCAL_HEADER) {
          state = 'resync';
          continue;
        }
        const parsed = parseHeader();
        if (parsed === 'wait') return;
        if (parsed === 'invalid') state = 'resync';
        else begin(parsed);
      } else if (state === 'resync') {
        const at = pending.indexOf(LOCAL_SIGNATURE, 1);
        if (at < 0) {
          pending = pending.subarray(Math.max(0, pending.length - 3));
          return;
        }
        pending = pending.subarray(at);
        state = 'header';
      } else if (state === 'descriptor') {
        const signed = pending.length >= 4 && pending.readUInt32LE(0) === DATA_DESCRIPTOR;
        const length = (signed ? 4 : 0) + 4 + (lastZip64 ? 16 : 8);
        if (pending.length < length) return;
        pending = pending.subarray(length);
        state = 'header';
      } else {
        const e = entry as Entry;
        if (pending.length === 0) return;
        if (e.whole && e.remaining !== undefined) {
          if (pending.length < e.remaining) return;
          e.whole = false;
          const data = pending.subarray(0, e.remaining);
          if (await inflateWhole(e, data)) {
            pending = pending.subarray(e.remaining);
            await finishEntry(e);
            continue;
          }
          e.inflater = new RawInflater(e.out as ByteSink, ctx.budget.ratio());
        }
        if (e.remaining !== undefined) {
          const take = Math.min(e.remaining, pending.length);
          const data = pending.subarray(0, take);
          pending = pending.subarray(take);
          e.remaining -= take;
          await feed(e, data);
          if (e.remaining === 0) await finishEntry(e);
          continue;
        }
        // Size unknown: only a deflate stream knows where it ends.
        if (!e.inflater || e.inflater.failed) {
          await finishEntry(e);
          state = 'resync';
          continue;
        }
        const data = pending;
        const used = await e.inflater.write(data);
        pending = data.subarray(used);
        if (e.inflater.done) {
          const failed = e.inflater.failed;
          await finishEntry(e);
          if (failed) state = 'resync';
        }
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
      if (entry !== undefined) await finishEntry(entry);
      await office.finish();
    },
  };
}
