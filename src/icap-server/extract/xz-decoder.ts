// xz files (the .xz file format 1.1.0 of the XZ Utils project): stream header, blocks whose
// filter chain is LZMA2 alone (what `xz` writes for anything but executables), each block's
// padding and check skipped, the index ending the stream. LZMA2 chunks (≤ 64 KiB packed) are
// buffered whole and decoded by lzma-decoder.ts; their output (≤ 2 MiB) goes out under the body's
// ratio and byte limits. A filter other than LZMA2 (BCJ, delta) is `decode-limit:method`, a
// dictionary past MAX_DICT_BYTES too; checks are not verified. Concatenated streams (with stream
// padding between them) are read one after another.
import type { ByteSink, DecodeBudget } from '../decode/byte-sink.js';
import { LzmaDecoder } from './lzma-decoder.js';

const MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
/** xz -9 and --extreme use 64 MiB; a larger declared dictionary is refused. */
const MAX_DICT_BYTES = 64 * 1024 * 1024;
const CHECK_BYTES = [0, 4, 4, 4, 8, 8, 8, 16, 16, 16, 32, 32, 32, 64, 64, 64];

/** A variable-length integer (7 bits a byte, little end first): [value, bytes] or undefined. */
function vli(data: Buffer, at: number): [number, number] | undefined {
  let value = 0;
  for (let i = 0; i < 9 && at + i < data.length; i++) {
    const byte = data[at + i] as number;
    value += (byte & 0x7f) * 2 ** (7 * i);
    if ((byte & 0x80) === 0) return [value, i + 1];
  }
  return undefined;
}

/**
 * `leftover` takes what is not xz: bytes after the last stream, and from damage or a cut on (with
 * the last LZMA2 chunk before it, which may have swallowed what follows as packed data).
 */
export function xzDecoder(downstream: ByteSink, budget: DecodeBudget, leftover: ByteSink): ByteSink {
  const meter = budget.ratio();
  let pending: Buffer = Buffer.alloc(0);
  // Chunks that came while a step waited for `want` bytes, joined once there are enough: joined at
  // every write, a 64 KiB LZMA2 chunk arriving a few bytes at a time cost a copy of it per write.
  let queued: Buffer[] = [];
  let queuedBytes = 0;
  let want = 0;
  let failed = false;
  /** The last LZMA2 chunk read (header and data). */
  let lastChunk: Buffer = Buffer.alloc(0);
  let state: 'stream-header' | 'block-header' | 'chunk' | 'block-end' | 'index' | 'stream-padding' | 'done' = 'stream-header';
  let checkBytes = 0;
  let lzma: LzmaDecoder | undefined;
  /** Bytes of the current block so far (header and compressed data), for its padding. */
  let blockBytes = 0;

  const emit = async (pieces: Buffer[]): Promise<boolean> => {
    for (const piece of pieces) {
      if (!meter.output(piece.length)) return false;
      await downstream.write(piece);
    }
    return true;
  };

  /** More bytes are needed: `bytes` in all. */
  const need = (bytes: number): false => {
    want = bytes;
    return false;
  };
  const join = () => {
    if (queued.length > 0) pending = Buffer.concat([pending, ...queued]);
    queued = [];
    queuedBytes = 0;
  };

  /** One step on the buffered bytes; false when more are needed (need()). */
  const step = async (): Promise<boolean> => {
    if (state === 'stream-header') {
      if (pending.length < 12) return need(12);
      if (!pending.subarray(0, 6).equals(MAGIC)) throw new Error('xz: no stream header');
      checkBytes = CHECK_BYTES[(pending[7] as number) & 0x0f] as number;
      pending = pending.subarray(12);
      state = 'block-header';
      return true;
    }
    if (state === 'block-header') {
      if (pending.length < 1) return need(1);
      if (pending[0] === 0) {
        // The index: every block of this stream has been read.
        state = 'index';
        return true;
      }
      const size = ((pending[0] as number) + 1) * 4;
      if (pending.length < size) return need(size);
      const flags = pending[1] as number;
      let at = 2;
      for (const present of [flags & 0x40, flags & 0x80]) {
        if (!present) continue;
        const v = vli(pending, at);
        if (v === undefined) throw new Error('xz: bad block header');
        at += v[1];
      }
      const id = vli(pending, at);
      const propsSize = id && vli(pending, at + id[1]);
      if ((flags & 0x03) !== 0 || !id || !propsSize || id[0] !== 0x21 || propsSize[0] !== 1) {
        budget.stop('method');
        state = 'done';
        return true;
      }
      const dictByte = pending[at + id[1] + propsSize[1]] as number;
      const dictSize = dictByte === 40 ? 0xffffffff : (2 | (dictByte & 1)) * 2 ** (Math.floor(dictByte / 2) + 11);
      if (dictByte > 40 || dictSize > MAX_DICT_BYTES) {
        budget.stop('method');
        state = 'done';
        return true;
      }
      lzma = new LzmaDecoder(dictSize);
      pending = pending.subarray(size);
      blockBytes = size;
      state = 'chunk';
      return true;
    }
    if (state === 'chunk') {
      const decoder = lzma as LzmaDecoder;
      if (pending.length < 1) return need(1);
      const control = pending[0] as number;
      if (control === 0) {
        pending = pending.subarray(1);
        blockBytes += 1;
        state = 'block-end';
        return true;
      }
      if (control === 1 || control === 2) {
        if (pending.length < 3) return need(3);
        const size = pending.readUInt16BE(1) + 1;
        if (pending.length < 3 + size) return need(3 + size);
        if (control === 1) decoder.resetDictionary();
        const ok = await emit(decoder.copy(pending.subarray(3, 3 + size)));
        lastChunk = pending.subarray(0, 3 + size);
        pending = pending.subarray(3 + size);
        blockBytes += 3 + size;
        if (!ok) state = 'done';
        return true;
      }
      if (control < 0x80) throw new Error('xz: bad LZMA2 control');
      const reset = (control >>> 5) & 3;
      const header = reset >= 2 ? 6 : 5;
      if (pending.length < header) return need(header);
      const unpacked = (control & 0x1f) * 65_536 + pending.readUInt16BE(1) + 1;
      const packed = pending.readUInt16BE(3) + 1;
      if (pending.length < header + packed) return need(header + packed);
      if (reset === 3) decoder.resetDictionary();
      if (reset >= 2 && !decoder.setProperties(pending[5] as number)) throw new Error('xz: bad LZMA properties');
      if (reset >= 1) decoder.resetState();
      const ok = await emit(decoder.decodeChunk(pending.subarray(header, header + packed), unpacked));
      lastChunk = pending.subarray(0, header + packed);
      pending = pending.subarray(header + packed);
      blockBytes += header + packed;
      if (!ok) state = 'done';
      return true;
    }
    if (state === 'index') {
      // Indicator, record count, records (two numbers each), padding to 4, CRC32; then the 12-byte footer.
      const count = vli(pending, 1);
      if (count === undefined) return pending.length < 10 ? need(pending.length + 1) : Promise.reject(new Error('xz: bad index'));
      let at = 1 + count[1];
      for (let i = 0; i < count[0] * 2; i++) {
        const v = vli(pending, at);
        if (v === undefined) return need(pending.length + 1);
        at += v[1];
      }
      const end = at + ((4 - (at % 4)) % 4) + 4 + 12;
      if (pending.length < end) return need(end);
      pending = pending.subarray(end);
      state = 'stream-padding';
      return true;
    }
    if (state === 'stream-padding') {
      let zeros = 0;
      while (zeros < pending.length && pending[zeros] === 0) zeros++;
      pending = pending.subarray(zeros);
      if (pending.length < MAGIC.length) return need(MAGIC.length);
      if (pending.subarray(0, MAGIC.length).equals(MAGIC)) state = 'stream-header';
      else {
        // Bytes after the last stream.
        lastChunk = Buffer.alloc(0);
        throw new Error('xz: trailing bytes');
      }
      return true;
    }
    if (state === 'block-end') {
      const padding = (4 - (blockBytes % 4)) % 4;
      if (pending.length < padding + checkBytes) return need(padding + checkBytes);
      pending = pending.subarray(padding + checkBytes);
      state = 'block-header';
      return true;
    }
    return false;
  };

  /** Damage, a cut or bytes after the end: what was decoded stands, the rest is scanned as it is. */
  const fail = async () => {
    state = 'done';
    failed = true;
    await leftover.write(Buffer.concat([lastChunk, pending]));
  };

  const consume = async () => {
    try {
      while (state !== 'done' && (await step()));
    } catch {
      await fail();
    }
    if (state === 'done') pending = Buffer.alloc(0);
  };

  return {
    async write(chunk) {
      if (failed) return leftover.write(chunk);
      if (state === 'done') return;
      meter.input(chunk.length);
      if (pending.length === 0 && queued.length === 0) pending = chunk;
      else {
        queued.push(chunk);
        queuedBytes += chunk.length;
        if (pending.length + queuedBytes < want) return;
        join();
      }
      await consume();
    },
    async end() {
      join();
      await consume();
      // Cut: the stream never reached its end.
      if (state !== 'done' && (state !== 'stream-padding' || pending.length > 0)) await fail();
      await downstream.end();
      await leftover.end();
    },
  };
}
