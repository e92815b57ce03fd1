// A small ZIP writer (APPNOTE.TXT 6.3.10): stored and deflated entries, local headers with sizes
// up front or, as streaming writers (jar, java.util.zip) do, in a data descriptor after the data
// (flag bit 3, §4.3.9), a central directory, and optionally the ZIP64 records (§4.3.14,
// §4.5.3) that writers add when sizes or counts pass 32/16 bits or when asked to. Enough for
// OOXML, ODF and plain archives in the corpus; X's extraction tests may reuse it.
import zlib from 'node:zlib';

export interface ZipEntry {
  name: string;
  data: Buffer | string;
  /** deflate (8) unless stored (0) is asked */
  method?: 'store' | 'deflate';
  /** a deflated entry's CRC and sizes in a data descriptor, zero in its local header */
  descriptor?: boolean;
}

export interface ZipOptions {
  /** write ZIP64 extra fields and end records even for small archives */
  zip64?: boolean;
}

const DOS_TIME = 0x6000; // 12:00:00
const DOS_DATE = ((2024 - 1980) << 9) | (5 << 5) | 17; // 2024-05-17

export function zip(entries: readonly ZipEntry[], options: ZipOptions = {}): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const raw = typeof entry.data === 'string' ? Buffer.from(entry.data, 'utf8') : entry.data;
    const method = entry.method === 'store' ? 0 : 8;
    const body = method === 8 ? zlib.deflateRawSync(raw) : raw;
    const name = Buffer.from(entry.name, 'utf8');
    const crc = zlib.crc32(raw);
    const z64 = options.zip64 === true;
    // ZIP64 extra field (header 0x0001): original size, compressed size, then the local header offset (central only).
    const extra = (withOffset: boolean) => {
      if (!z64) return Buffer.alloc(0);
      const b = Buffer.alloc(4 + 16 + (withOffset ? 8 : 0));
      b.writeUInt16LE(0x0001, 0);
      b.writeUInt16LE(b.length - 4, 2);
      b.writeBigUInt64LE(BigInt(raw.length), 4);
      b.writeBigUInt64LE(BigInt(body.length), 12);
      if (withOffset) b.writeBigUInt64LE(BigInt(offset), 20);
      return b;
    };
    const described = entry.descriptor === true && method === 8 && !z64;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(z64 ? 45 : 20, 4);
    local.writeUInt16LE(described ? 0x0808 : 0x0800, 6); // UTF-8 names, and bit 3: a data descriptor
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(DOS_TIME, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(described ? 0 : crc, 14);
    local.writeUInt32LE(described ? 0 : z64 ? 0xffffffff : body.length, 18);
    local.writeUInt32LE(described ? 0 : z64 ? 0xffffffff : raw.length, 22);
    local.writeUInt16LE(name.length, 26);
    const localExtra = extra(false);
    local.writeUInt16LE(localExtra.length, 28);
    parts.push(local, name, localExtra, body);
    let descriptor = Buffer.alloc(0);
    if (described) {
      descriptor = Buffer.alloc(16);
      descriptor.writeUInt32LE(0x08074b50, 0);
      descriptor.writeUInt32LE(crc, 4);
      descriptor.writeUInt32LE(body.length, 8);
      descriptor.writeUInt32LE(raw.length, 12);
      parts.push(descriptor);
    }

    const dir = Buffer.alloc(46);
    dir.writeUInt32LE(0x02014b50, 0);
    dir.writeUInt16LE(0x031e, 4); // made by: Unix, 3.0
    dir.writeUInt16LE(z64 ? 45 : 20, 6);
    dir.writeUInt16LE(described ? 0x0808 : 0x0800, 8);
    dir.writeUInt16LE(method, 10);
    dir.writeUInt16LE(DOS_TIME, 12);
    dir.writeUInt16LE(DOS_DATE, 14);
    dir.writeUInt32LE(crc, 16);
    dir.writeUInt32LE(z64 ? 0xffffffff : body.length, 20);
    dir.writeUInt32LE(z64 ? 0xffffffff : raw.length, 24);
    dir.writeUInt16LE(name.length, 28);
    const dirExtra = extra(true);
    dir.writeUInt16LE(dirExtra.length, 30);
    dir.writeUInt32LE(0o100644 * 0x10000, 38); // external attributes: a regular file, 0644
    dir.writeUInt32LE(z64 ? 0xffffffff : offset, 42);
    central.push(dir, name, dirExtra);
    offset += local.length + name.length + localExtra.length + body.length + descriptor.length;
  }
  const dirBytes = Buffer.concat(central);
  const tail: Buffer[] = [];
  if (options.zip64) {
    const end64 = Buffer.alloc(56);
    end64.writeUInt32LE(0x06064b50, 0);
    end64.writeBigUInt64LE(44n, 4);
    end64.writeUInt16LE(45, 12);
    end64.writeUInt16LE(45, 14);
    end64.writeBigUInt64LE(BigInt(entries.length), 24);
    end64.writeBigUInt64LE(BigInt(entries.length), 32);
    end64.writeBigUInt64LE(BigInt(dirBytes.length), 40);
    end64.writeBigUInt64LE(BigInt(offset), 48);
    const locator = Buffer.alloc(20);
    locator.writeUInt32LE(0x07064b50, 0);
    locator.writeBigUInt64LE(BigInt(offset + dirBytes.length), 8);
    locator.writeUInt32LE(1, 16);
    tail.push(end64, locator);
  }
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(options.zip64 ? 0xffff : entries.length, 8);
  end.writeUInt16LE(options.zip64 ? 0xffff : entries.length, 10);
  end.writeUInt32LE(options.zip64 ? 0xffffffff : dirBytes.length, 12);
  end.writeUInt32LE(options.zip64 ? 0xffffffff : offset, 16);
  return Buffer.concat([...parts, dirBytes, ...tail, end]);
}
