// Small writers for the containers the extraction tests open, made at test time (no binary blobs
// in the repository): zip (stored, deflate, data descriptors, zip64 fields, the encrypted flag),
// OOXML and ODF packages, and chunking helpers.
import zlib from 'node:zlib';

export interface ZipEntry {
  name: string;
  data: Buffer | string;
  method?: 0 | 8;
  /** Sizes after the data (flag bit 3) instead of in the local header. */
  descriptor?: boolean;
  /** Sizes as 0xFFFFFFFF with a zip64 extra field. */
  zip64?: boolean;
  /** Flag bit 0 set (the data is not really encrypted: readers must not try). */
  encrypted?: boolean;
}

export function zip(entries: ZipEntry[], options: { prefix?: Buffer } = {}): Buffer {
  const out: Buffer[] = options.prefix ? [options.prefix] : [];
  const central: Buffer[] = [];
  let offset = options.prefix?.length ?? 0;
  for (const e of entries) {
    const data = Buffer.from(e.data);
    const method = e.method ?? 8;
    const packed = method === 8 ? zlib.deflateRawSync(data) : data;
    const crc = zlib.crc32(data);
    const name = Buffer.from(e.name, 'utf8');
    const flags = 0x800 | (e.descriptor ? 0x08 : 0) | (e.encrypted ? 0x01 : 0);
    const extra = e.zip64 ? Buffer.alloc(20) : Buffer.alloc(0);
    if (e.zip64) {
      extra.writeUInt16LE(0x0001, 0);
      extra.writeUInt16LE(16, 2);
      extra.writeBigUInt64LE(BigInt(data.length), 4);
      extra.writeBigUInt64LE(BigInt(packed.length), 12);
    }
    const header = Buffer.alloc(30);
    header.writeUInt32LE(0x04034b50, 0);
    header.writeUInt16LE(e.zip64 ? 45 : 20, 4);
    header.writeUInt16LE(flags, 6);
    header.writeUInt16LE(method, 8);
    header.writeUInt32LE(e.descriptor ? 0 : crc, 14);
    header.writeUInt32LE(e.zip64 ? 0xffffffff : e.descriptor ? 0 : packed.length, 18);
    header.writeUInt32LE(e.zip64 ? 0xffffffff : e.descriptor ? 0 : data.length, 22);
    header.writeUInt16LE(name.length, 26);
    header.writeUInt16LE(extra.length, 28);
    out.push(header, name, extra, packed);
    let size = header.length + name.length + extra.length + packed.length;
    if (e.descriptor) {
      const dd = Buffer.alloc(e.zip64 ? 24 : 16);
      dd.writeUInt32LE(0x08074b50, 0);
      dd.writeUInt32LE(crc, 4);
      if (e.zip64) {
        dd.writeBigUInt64LE(BigInt(packed.length), 8);
        dd.writeBigUInt64LE(BigInt(data.length), 16);
      } else {
        dd.writeUInt32LE(packed.length, 8);
        dd.writeUInt32LE(data.length, 12);
      }
      out.push(dd);
      size += dd.length;
    }
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE(20, 4);
    cd.writeUInt16LE(20, 6);
    cd.writeUInt16LE(flags, 8);
    cd.writeUInt16LE(method, 10);
    cd.writeUInt32LE(crc, 16);
    cd.writeUInt32LE(packed.length, 20);
    cd.writeUInt32LE(data.length, 24);
    cd.writeUInt16LE(name.length, 28);
    cd.writeUInt32LE(offset, 42);
    central.push(cd, name);
    offset += size;
  }
  const cdBytes = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cdBytes.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...out, cdBytes, end]);
}

const W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"';

/** A docx whose paragraphs are cut into runs at `|` (as Word does where formatting changes). */
export function docx(paragraphs: string[], extra: ZipEntry[] = []): Buffer {
  const body = paragraphs
    .map((p) => `<w:p><w:pPr><w:jc w:val="left"/></w:pPr>${p.split('|').map((r, i) => `<w:r>${i % 2 ? '<w:rPr><w:b/></w:rPr>' : ''}<w:t xml:space="preserve">${r}</w:t></w:r>`).join('<w:proofErr w:type="spellStart"/>')}</w:p>`)
    .join('');
  return zip([
    { name: '[Content_Types].xml', data: '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>' },
    { name: 'word/document.xml', data: `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document ${W}><w:body>${body}</w:body></w:document>`, descriptor: true },
    ...extra,
  ]);
}

/** An xlsx: rows of cells, text cells through the shared string table, written after the sheet as Excel does. */
export function xlsx(rows: Array<Array<string | number>>, options: { stringsFirst?: boolean } = {}): Buffer {
  const strings: string[] = [];
  const sheetRows = rows
    .map((row, r) => {
      const cells = row
        .map((v, c) => {
          const ref = `${String.fromCharCode(65 + c)}${r + 1}`;
          if (typeof v === 'number') return `<c r="${ref}"><v>${v}</v></c>`;
          strings.push(v);
          return `<c r="${ref}" t="s"><v>${strings.length - 1}</v></c>`;
        })
        .join('');
      return `<row r="${r + 1}">${cells}</row>`;
    })
    .join('');
  const ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"';
  const sheet: ZipEntry = { name: 'xl/worksheets/sheet1.xml', data: `<worksheet ${ns}><sheetData>${sheetRows}</sheetData></worksheet>` };
  const shared: ZipEntry = {
    name: 'xl/sharedStrings.xml',
    data: `<sst ${ns} count="${strings.length}">${strings.map((s) => `<si><t>${s.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</t></si>`).join('')}</sst>`,
  };
  const types: ZipEntry = { name: '[Content_Types].xml', data: '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>' };
  return zip(options.stringsFirst ? [types, shared, sheet] : [types, sheet, { name: 'xl/styles.xml', data: `<styleSheet ${ns}/>` }, shared]);
}

export const chunked = (buf: Buffer, size: number): Buffer[] => Array.from({ length: Math.ceil(buf.length / size) }, (_, i) => buf.subarray(i * size, (i + 1) * size));
