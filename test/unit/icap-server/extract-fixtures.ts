// Small writers for the containers the extraction tests open, made at test time (no binary blobs
// in the repository): zip (stored, deflate, data descriptors, zip64 fields, the encrypted flag),
// OOXML and ODF packages, and chunking helpers.
import zlib from 'node:zlib';
import tar from 'tar-stream';

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

/** A tar of `files` as tar-stream packs it (ustar). */
export async function tarball(files: Array<{ name: string; data: Buffer | string }>): Promise<Buffer> {
  const pack = tar.pack();
  for (const f of files) pack.entry({ name: f.name }, Buffer.from(f.data));
  pack.finalize();
  const out: Buffer[] = [];
  for await (const chunk of pack) out.push(chunk);
  return Buffer.concat(out);
}

export const chunked = (buf: Buffer, size: number): Buffer[] => Array.from({ length: Math.ceil(buf.length / size) }, (_, i) => buf.subarray(i * size, (i + 1) * size));

export interface PdfOptions {
  /** Filters of the content streams. */
  filter?: 'flate' | 'a85-flate' | 'none';
  /** Show text in a Type0 font whose two-byte codes mean nothing without its ToUnicode CMap (written after the pages). */
  toUnicode?: boolean;
  /** Font dictionaries inside a compressed object stream (PDF 1.5). */
  objectStream?: boolean;
  /** /Length as an indirect object that comes after the stream. */
  indirectLength?: boolean;
  /** An embedded file (attachment). */
  attachment?: Buffer;
  /** An /Encrypt dictionary in the trailer. */
  encrypt?: boolean;
}

function ascii85(data: Buffer): string {
  let out = '';
  for (let i = 0; i < data.length; i += 4) {
    const chunk = Buffer.alloc(4);
    data.copy(chunk, 0, i, i + 4);
    const n = Math.min(4, data.length - i);
    let value = chunk.readUInt32BE(0);
    if (value === 0 && n === 4) {
      out += 'z';
      continue;
    }
    const digits: string[] = [];
    for (let k = 0; k < 5; k++) {
      digits.unshift(String.fromCharCode(33 + (value % 85)));
      value = Math.floor(value / 85);
    }
    out += digits.slice(0, n + 1).join('');
  }
  return `${out}~>`;
}

/** A PDF whose pages show `pages` (one array of lines per page), written the ways real writers do. */
export function pdf(pages: string[][], options: PdfOptions = {}): Buffer {
  const objects: Array<{ n: number; body: Buffer }> = [];
  const add = (n: number, body: string | Buffer) => objects.push({ n, body: Buffer.from(body as string, 'latin1') });
  const filter = options.filter ?? 'flate';
  const encodeText = (line: string) =>
    options.toUnicode ? `<${[...line].map((c) => (c.charCodeAt(0) + 0x100).toString(16).padStart(4, '0')).join('')}>` : `(${line.replace(/[()\\]/g, '\\$&')})`;
  const stream = (n: number, dict: string, data: Buffer, lengthRef?: number) => {
    let bytes = data;
    let filters = '';
    if (filter === 'flate') {
      bytes = zlib.deflateSync(data);
      filters = '/Filter /FlateDecode';
    } else if (filter === 'a85-flate') {
      bytes = Buffer.from(ascii85(zlib.deflateSync(data)), 'latin1');
      filters = '/Filter [/ASCII85Decode /FlateDecode]';
    }
    const length = lengthRef !== undefined ? `${lengthRef} 0 R` : String(bytes.length);
    add(n, Buffer.concat([Buffer.from(`<< ${dict} ${filters} /Length ${length} >>\nstream\n`, 'latin1'), bytes, Buffer.from('\nendstream', 'latin1')]));
    return bytes.length;
  };
  const pageIds = pages.map((_, i) => 10 + i * 2);
  add(1, '<< /Type /Catalog /Pages 2 0 R >>');
  add(2, `<< /Type /Pages /Kids [${pageIds.map((id) => `${id} 0 R`).join(' ')}] /Count ${pages.length} /Resources << /Font << /F1 3 0 R >> >> >>`);
  const font = options.toUnicode
    ? '<< /Type /Font /Subtype /Type0 /BaseFont /ABCDEF+Sans /Encoding /Identity-H /ToUnicode 5 0 R >>'
    : '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>';
  if (options.objectStream) {
    const body = `${font}\n`;
    const data = Buffer.from(`3 0 ${body}`, 'latin1');
    stream(4, `/Type /ObjStm /N 1 /First ${'3 0 '.length}`, data);
  } else add(3, font);
  pages.forEach((lines, i) => {
    const content = `BT /F1 12 Tf 72 720 Td ${lines.map((l, k) => `${k > 0 ? '0 -14 Td ' : ''}${encodeText(l)} Tj`).join(' ')} ET`;
    add(pageIds[i] as number, `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents ${(pageIds[i] as number) + 1} 0 R >>`);
    const length = stream((pageIds[i] as number) + 1, '', Buffer.from(content, 'latin1'), options.indirectLength ? 90 + i : undefined);
    if (options.indirectLength) add(90 + i, String(length));
  });
  if (options.toUnicode) {
    const cmap = '/CIDInit /ProcSet findresource begin 12 dict begin begincmap 1 begincodespacerange <0000> <FFFF> endcodespacerange 1 beginbfrange <0120> <017E> <0020> endbfrange endcmap CMapName currentdict /CMap defineresource pop end end';
    stream(5, '', Buffer.from(cmap, 'latin1'));
  }
  if (options.attachment) stream(7, '/Type /EmbeddedFile', options.attachment);
  if (options.encrypt) add(8, '<< /Filter /Standard /V 2 /R 3 /Length 128 /P -1028 /O <00> /U <00> >>');
  const parts: Buffer[] = [Buffer.from('%PDF-1.7\n%\u00e2\u00e3\u00cf\u00d3\n', 'latin1')];
  let offset = parts[0]!.length;
  const xref: string[] = [];
  for (const o of objects) {
    const bytes = Buffer.concat([Buffer.from(`${o.n} 0 obj\n`, 'latin1'), o.body, Buffer.from('\nendobj\n', 'latin1')]);
    xref.push(`${String(offset).padStart(10, '0')} 00000 n `);
    parts.push(bytes);
    offset += bytes.length;
  }
  const trailer = `xref\n0 ${xref.length}\n${xref.join('\n')}\ntrailer\n<< /Size 100 /Root 1 0 R${options.encrypt ? ' /Encrypt 8 0 R' : ''} >>\nstartxref\n${offset}\n%%EOF\n`;
  return Buffer.concat([...parts, Buffer.from(trailer, 'latin1')]);
}
