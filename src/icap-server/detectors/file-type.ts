// File types by magic bytes, for blocking executables on download (or anything on upload). Only
// the first bytes are read; the PE check follows e_lfanew to the "PE\0\0" signature, so a text
// that happens to start with "MZ" is not an executable.
import type { HeadProbeFactory } from './head-probe.js';
import { HeadBuffer } from './head-probe.js';

export const FILE_TYPES = ['pe', 'elf', 'mach-o', 'java-class', 'script', 'msi', 'zip', 'rar', '7z', 'gzip', 'pdf', 'wasm', 'dex'] as const;
export type FileType = (typeof FILE_TYPES)[number];

const HEAD_BYTES = 1024;

const startsWith = (head: Buffer, ...bytes: number[]) => bytes.every((b, i) => head[i] === b);

export function sniffFileType(head: Buffer): FileType | undefined {
  if (startsWith(head, 0x4d, 0x5a) && head.length >= 0x40) {
    // DOS header: e_lfanew at 0x3c points at the PE signature (Microsoft PE format, "MS-DOS stub").
    const lfanew = head.readUInt32LE(0x3c);
    if (lfanew + 4 <= head.length) return head.readUInt32BE(lfanew) === 0x50450000 ? 'pe' : undefined;
    return lfanew >= 0x40 && lfanew < 0x10000 && lfanew % 4 === 0 ? 'pe' : undefined;
  }
  if (startsWith(head, 0x7f, 0x45, 0x4c, 0x46)) return 'elf';
  if (head.length >= 4) {
    const magic = head.readUInt32BE(0);
    if ([0xfeedface, 0xfeedfacf, 0xcefaedfe, 0xcffaedfe].includes(magic)) return 'mach-o';
    if (magic === 0xcafebabe && head.length >= 8) {
      // Fat Mach-O and Java class files share CAFEBABE: a fat header counts its architectures
      // (a handful), a class file holds its version there (major >= 45).
      return head.readUInt32BE(4) < 45 ? 'mach-o' : 'java-class';
    }
  }
  if (startsWith(head, 0x23, 0x21)) return 'script';
  if (startsWith(head, 0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1)) return 'msi';
  if (startsWith(head, 0x50, 0x4b, 0x03, 0x04) || startsWith(head, 0x50, 0x4b, 0x05, 0x06)) return 'zip';
  if (startsWith(head, 0x52, 0x61, 0x72, 0x21, 0x1a, 0x07)) return 'rar';
  if (startsWith(head, 0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c)) return '7z';
  if (startsWith(head, 0x1f, 0x8b)) return 'gzip';
  if (startsWith(head, 0x25, 0x50, 0x44, 0x46, 0x2d)) return 'pdf';
  if (startsWith(head, 0x00, 0x61, 0x73, 0x6d)) return 'wasm';
  if (startsWith(head, 0x64, 0x65, 0x78, 0x0a)) return 'dex';
  return undefined;
}

/** The finding of a blocked file type. */
export const fileTypeFinding = (type: FileType): string => `file-type:${type}`;

/** A probe that reports `file-type:<type>` when the file's type is in `blocked`. */
export function fileTypeProbe(blocked: ReadonlySet<FileType>): HeadProbeFactory {
  return () => {
    const buffer = new HeadBuffer(HEAD_BYTES);
    return {
      write: (chunk) => buffer.write(chunk),
      end(findings) {
        const type = sniffFileType(buffer.head);
        if (type !== undefined && blocked.has(type)) findings.add(fileTypeFinding(type), 'file-type');
      },
    };
  };
}
