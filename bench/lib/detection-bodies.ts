// Large bodies for the detection benchmark: what uploads hold (prose, numbers, ids, hex and base64,
// logs, a few secrets), as plain text, as JSON, and as the office formats of the corpus writers.
import zlib from 'node:zlib';
import { seeded } from '../../test/corpus/secrets.js';
import { tar } from '../../test/corpus/writers/archive-writers.js';
import { docx, xlsx } from '../../test/corpus/writers/office-writers.js';
import { pdf } from '../../test/corpus/writers/pdf-writer.js';
import { zip } from '../../test/corpus/writers/zip-writer.js';

export interface LargeBody {
  name: string;
  contentType: string;
  bytes: Buffer;
}

const WORDS = 'the quarterly report shows revenue growth of 12 percent across all regions while costs remained stable at 4500 units per'.split(' ');

/** Mixed text of about `bytes` characters, the same every run. */
export function mixedText(bytes: number): string {
  const rand = seeded(7);
  const parts: string[] = [];
  let size = 0;
  while (size < bytes) {
    const r = rand();
    let piece: string;
    if (r < 0.6) piece = `${Array.from({ length: 12 }, () => WORDS[Math.floor(rand() * WORDS.length)]).join(' ')}. `;
    else if (r < 0.75) piece = `id ${Math.floor(rand() * 1e15)} ref ${Math.floor(rand() * 1e9)}-${Math.floor(rand() * 1e4)} phone +1 555 ${Math.floor(rand() * 1e7)}\n`;
    else if (r < 0.85) piece = `${Buffer.from(Array.from({ length: 48 }, () => Math.floor(rand() * 256))).toString('base64')}\n`;
    else if (r < 0.95) piece = `${Buffer.from(Array.from({ length: 20 }, () => Math.floor(rand() * 256))).toString('hex')} sha1\n`;
    else if (r < 0.999) piece = '2024-05-17T10:22:31Z INFO request served in 12 ms status=200 bytes=5120\n';
    else piece = ['card 4111 1111 1111 1111 ', 'iban DE89370400440532013000 ', 'ssn 536-22-1234 ', 'TOP-SECRET '][Math.floor(rand() * 4)] as string;
    parts.push(piece);
    size += piece.length;
  }
  return parts.join('').slice(0, bytes);
}

const OOXML = 'application/vnd.openxmlformats-officedocument';

/** `text` cut into files of 200 B to 24 KiB, the sizes the files of a package or a jar have. */
function smallFiles(text: string, seed: number): string[] {
  const rand = seeded(seed);
  const files: string[] = [];
  for (let at = 0; at < text.length; ) {
    const size = Math.floor(200 + rand() * rand() * 24 * 1024);
    files.push(text.slice(at, at + size));
    at += size;
  }
  return files;
}

/**
 * A class file's bytes: its magic, then constant-pool strings (the text) between short runs of
 * binary (tags, lengths, indices, code), as javac writes them.
 */
function classFile(text: string, rand: () => number): Buffer {
  const parts = [Buffer.from([0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 61])];
  for (let at = 0; at < text.length; ) {
    const size = 8 + Math.floor(rand() * 120);
    parts.push(Buffer.from(Array.from({ length: 4 + Math.floor(rand() * 40) }, () => Math.floor(rand() * 256))), Buffer.from(text.slice(at, at + size)));
    at += size;
  }
  return Buffer.concat(parts);
}

export function largeBodies(bytes: number): LargeBody[] {
  const text = mixedText(bytes);
  const paragraphs = text.split('\n');
  const rows = paragraphs.slice(0, Math.floor(paragraphs.length / 2)).map((p, i) => [i, p.slice(0, 80), Math.round(i * 3.7)]);
  const pages: string[][] = [];
  const lines = text.match(/.{1,100}/g) ?? [];
  for (let k = 0; k < lines.length; k += 45) pages.push(lines.slice(k, k + 45));
  return [
    { name: 'plain text', contentType: 'text/plain', bytes: Buffer.from(text) },
    { name: 'JSON', contentType: 'application/json', bytes: Buffer.from(JSON.stringify({ lines: paragraphs })) },
    { name: 'docx', contentType: `${OOXML}.wordprocessingml.document`, bytes: docx(paragraphs) },
    { name: 'xlsx', contentType: `${OOXML}.spreadsheetml.sheet`, bytes: xlsx(rows) },
    { name: 'pdf', contentType: 'application/pdf', bytes: pdf(pages) },
  ];
}

/**
 * Archives of many small files, as software is shipped: a jar (class files, data descriptors as
 * the jar tool writes them) and an npm package (.tgz), each from `bytes` characters of text.
 */
export function packageBodies(bytes: number): LargeBody[] {
  const rand = seeded(11);
  const classes = smallFiles(mixedText(bytes), 12).map((text, i) => ({ name: `com/example/app/C${i}.class`, data: classFile(text, rand), descriptor: true }));
  const sources = smallFiles(mixedText(bytes), 13).map((text, i) => ({ name: `package/lib/m${i}.js`, data: text }));
  return [
    { name: 'jar (class files)', contentType: 'application/java-archive', bytes: zip(classes) },
    { name: 'npm package (.tgz)', contentType: 'application/gzip', bytes: zlib.gzipSync(tar(sources)) },
  ];
}
