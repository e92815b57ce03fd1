// A minimal PDF 1.7 writer (ISO 32000-1) laid out as word processors export: one page per list of
// lines, Flate-compressed content streams (§7.4.4), and two fonts. F1 is a Type0 font with
// Identity-H encoding whose glyph ids mean nothing without its ToUnicode CMap (§9.10.3): the text
// is only readable through that map. F2 is Helvetica with literal strings (escapes per §7.3.4.2).
// Lines are drawn with TJ arrays holding kerning adjustments between pieces of a word, and
// optionally the fonts live in a compressed object stream with an xref stream (§7.5.7, §7.5.8).
import zlib from 'node:zlib';

export interface PdfOptions {
  /** put the font objects in an object stream and write a cross-reference stream */
  objectStreams?: boolean;
}

const hex4 = (n: number) => n.toString(16).padStart(4, '0').toUpperCase();

export function pdf(pages: readonly (readonly string[])[], options: PdfOptions = {}): Buffer {
  // CIDs as a subsetting writer gives them: in order of first use, starting at 3.
  const cids = new Map<string, number>();
  const cidOf = (ch: string) => {
    let cid = cids.get(ch);
    if (cid === undefined) cids.set(ch, (cid = cids.size + 3));
    return cid;
  };
  const literal = (s: string) => `(${s.replace(/[\\()]/g, (c) => `\\${c}`)})`;
  const contents = pages.map((lines) => {
    const ops = ['BT', '56 760 Td', '12 TL'];
    lines.forEach((line, i) => {
      if (i % 2 === 0) {
        // Pieces of 2-9 characters with small kerning adjustments between them (never a word gap).
        const pieces: string[] = [];
        for (let at = 0, k = i; at < line.length; k++) {
          const len = 2 + (k * 7) % 8;
          pieces.push(`<${[...line.slice(at, at + len)].map((c) => hex4(cidOf(c))).join('')}>`);
          at += len;
        }
        ops.push('/F1 9 Tf', `[${pieces.join(' -12 ')}] TJ`, 'T*');
      } else {
        ops.push('/F2 9 Tf', `${literal(line)} Tj`, 'T*');
      }
    });
    ops.push('ET');
    return zlib.deflateSync(Buffer.from(ops.join('\n'), 'latin1'));
  });
  const cmap = [
    '/CIDInit /ProcSet findresource begin', '12 dict begin', 'begincmap', '/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def',
    '/CMapName /Adobe-Identity-UCS def', '/CMapType 2 def', '1 begincodespacerange', '<0000> <FFFF>', 'endcodespacerange',
  ];
  const pairs = [...cids].map(([ch, cid]) => `<${hex4(cid)}> <${[...Buffer.from(ch, 'utf16le').swap16()].map((b) => b.toString(16).padStart(2, '0')).join('').toUpperCase()}>`);
  for (let i = 0; i < pairs.length; i += 100) cmap.push(`${Math.min(100, pairs.length - i)} beginbfchar`, ...pairs.slice(i, i + 100), 'endbfchar');
  cmap.push('endcmap', 'CMapName currentdict /CMap defineresource pop', 'end', 'end');
  const toUnicode = zlib.deflateSync(Buffer.from(cmap.join('\n'), 'latin1'));

  // Objects: 1 catalog, 2 pages, 3 F1, 4 CIDFont, 5 descriptor, 6 ToUnicode, 7 F2, then page/content pairs.
  const n = pages.length;
  const pageIds = pages.map((_, i) => 8 + 2 * i);
  const objects = new Map<number, string | Buffer>();
  objects.set(1, '<< /Type /Catalog /Pages 2 0 R >>');
  objects.set(2, `<< /Type /Pages /Kids [${pageIds.map((id) => `${id} 0 R`).join(' ')}] /Count ${n} >>`);
  objects.set(3, '<< /Type /Font /Subtype /Type0 /BaseFont /ABCDEF+Calibri /Encoding /Identity-H /DescendantFonts [4 0 R] /ToUnicode 6 0 R >>');
  objects.set(4, '<< /Type /Font /Subtype /CIDFontType2 /BaseFont /ABCDEF+Calibri /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor 5 0 R /DW 500 >>');
  objects.set(5, '<< /Type /FontDescriptor /FontName /ABCDEF+Calibri /Flags 32 /FontBBox [0 -250 1000 750] /ItalicAngle 0 /Ascent 750 /Descent -250 /CapHeight 650 /StemV 80 >>');
  objects.set(6, Buffer.concat([Buffer.from(`<< /Length ${toUnicode.length} /Filter /FlateDecode >>\nstream\n`), toUnicode, Buffer.from('\nendstream')]));
  objects.set(7, '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>');
  pages.forEach((_, i) => {
    const content = contents[i] as Buffer;
    objects.set(pageIds[i] as number, `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R /F2 7 0 R >> >> /Contents ${(pageIds[i] as number) + 1} 0 R >>`);
    objects.set((pageIds[i] as number) + 1, Buffer.concat([Buffer.from(`<< /Length ${content.length} /Filter /FlateDecode >>\nstream\n`), content, Buffer.from('\nendstream')]));
  });
  const last = 7 + 2 * n;

  const chunks: Buffer[] = [Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1')];
  let size = chunks[0]!.length;
  const offsets = new Map<number, number>();
  const emit = (id: number, body: string | Buffer) => {
    offsets.set(id, size);
    const b = Buffer.concat([Buffer.from(`${id} 0 obj\n`), typeof body === 'string' ? Buffer.from(body, 'latin1') : body, Buffer.from('\nendobj\n')]);
    chunks.push(b);
    size += b.length;
  };
  const packed = options.objectStreams ? [3, 4, 5, 7] : [];
  for (let id = 1; id <= last; id++) if (!packed.includes(id)) emit(id, objects.get(id) as string | Buffer);
  if (!options.objectStreams) {
    const xref = [`xref\n0 ${last + 1}\n0000000000 65535 f \n`, ...Array.from({ length: last }, (_, i) => `${String(offsets.get(i + 1)).padStart(10, '0')} 00000 n \n`)].join('');
    chunks.push(Buffer.from(`${xref}trailer\n<< /Size ${last + 1} /Root 1 0 R >>\nstartxref\n${size}\n%%EOF\n`, 'latin1'));
    return Buffer.concat(chunks);
  }
  // Object stream (§7.5.7): "id offset" pairs, then the objects back to back.
  const stmId = last + 1;
  let header = '';
  let bodies = '';
  for (const id of packed) {
    header += `${id} ${bodies.length} `;
    bodies += `${objects.get(id) as string}\n`;
  }
  const stm = zlib.deflateSync(Buffer.from(header + bodies, 'latin1'));
  emit(stmId, Buffer.concat([Buffer.from(`<< /Type /ObjStm /N ${packed.length} /First ${header.length} /Length ${stm.length} /Filter /FlateDecode >>\nstream\n`), stm, Buffer.from('\nendstream')]));
  // Cross-reference stream (§7.5.8): W [1 4 2]; type 1 = offset, type 2 = in object stream.
  const xrefId = stmId + 1;
  const rows: Buffer[] = [];
  const row = (type: number, a: number, b: number) => {
    const r = Buffer.alloc(7);
    r[0] = type;
    r.writeUInt32BE(a, 1);
    r.writeUInt16BE(b, 5);
    rows.push(r);
  };
  row(0, 0, 0xffff);
  for (let id = 1; id <= stmId; id++) {
    const at = packed.indexOf(id);
    if (at >= 0) row(2, stmId, at);
    else row(1, offsets.get(id) as number, 0);
  }
  const xrefAt = size;
  row(1, xrefAt, 0);
  const xrefData = zlib.deflateSync(Buffer.concat(rows));
  emit(xrefId, Buffer.concat([Buffer.from(`<< /Type /XRef /Size ${xrefId + 1} /W [1 4 2] /Root 1 0 R /Length ${xrefData.length} /Filter /FlateDecode >>\nstream\n`), xrefData, Buffer.from('\nendstream')]));
  chunks.push(Buffer.from(`startxref\n${xrefAt}\n%%EOF\n`, 'latin1'));
  return Buffer.concat(chunks);
}
