import { describe, expect, it } from 'vitest';
import { EICAR, isEicar } from '../../../src/icap-server/detectors/eicar.js';
import { sniffFileType } from '../../../src/icap-server/detectors/file-type.js';
import { scan } from './helpers.js';

function peHeader(): Buffer {
  const file = Buffer.alloc(512);
  file.write('MZ', 0, 'latin1');
  file.writeUInt32LE(0x80, 0x3c);
  file.write('PE\0\0', 0x80, 'latin1');
  return file;
}

describe('EICAR', () => {
  it('is the exact 68-byte string at the start, optionally followed by whitespace up to 128 bytes', () => {
    expect(EICAR.length).toBe(68);
    expect(isEicar(EICAR)).toBe(true);
    expect(isEicar(Buffer.concat([EICAR, Buffer.from('\r\n \t\x1a')]))).toBe(true);
    expect(isEicar(Buffer.concat([EICAR, Buffer.alloc(60, 0x20)]))).toBe(true);
    expect(isEicar(Buffer.concat([EICAR, Buffer.alloc(61, 0x20)]))).toBe(false); // 129 bytes
    expect(isEicar(Buffer.concat([EICAR, Buffer.from('x')]))).toBe(false);
    expect(isEicar(Buffer.concat([Buffer.from(' '), EICAR]))).toBe(false);
    expect(isEicar(EICAR.subarray(0, 67))).toBe(false);
  });

  it('is reported by the av service, also when split into one-byte chunks', async () => {
    const chunks = [...EICAR].map((b) => Buffer.from([b]));
    expect(await scan(chunks, { service: 'av', method: 'RESPMOD' })).toEqual(['EICAR-Test-File']);
    expect(await scan(Buffer.concat([Buffer.from('see: '), EICAR]), { service: 'av', method: 'RESPMOD' })).toEqual([]);
  });

  it('is not a DLP finding', async () => {
    expect(await scan(EICAR, { service: 'dlp' })).toEqual([]);
  });
});

describe('file types by magic bytes', () => {
  it('recognises executables and archives', () => {
    expect(sniffFileType(peHeader())).toBe('pe');
    expect(sniffFileType(Buffer.from('\x7fELF\x02\x01\x01', 'latin1'))).toBe('elf');
    expect(sniffFileType(Buffer.from([0xcf, 0xfa, 0xed, 0xfe, 7, 0, 0, 1]))).toBe('mach-o');
    expect(sniffFileType(Buffer.from([0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 2]))).toBe('mach-o');
    expect(sniffFileType(Buffer.from([0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 52]))).toBe('java-class');
    expect(sniffFileType(Buffer.from('#!/bin/sh\necho hi\n'))).toBe('script');
    expect(sniffFileType(Buffer.from('PK\x03\x04', 'latin1'))).toBe('zip');
    expect(sniffFileType(Buffer.from('%PDF-1.7'))).toBe('pdf');
  });

  it('does not call a text starting with MZ an executable', () => {
    expect(sniffFileType(Buffer.from('MZ is the postcode of a place; here is a long line of text that goes on and on and on.'))).toBeUndefined();
    expect(sniffFileType(Buffer.from('hello'))).toBeUndefined();
  });

  it('blocks the configured types by direction: executables on download only by default', async () => {
    expect(await scan(peHeader(), { service: 'av', method: 'RESPMOD' })).toEqual(['file-type:pe']);
    expect(await scan(peHeader(), { service: 'dlp', method: 'RESPMOD' })).toEqual(['file-type:pe']);
    expect(await scan(peHeader(), { service: 'av', method: 'REQMOD' })).toEqual([]);
    expect(await scan(Buffer.from('%PDF-1.7'), { service: 'av', method: 'RESPMOD' })).toEqual([]);
    const icapServer = { detectors: { blockedFileTypes: { upload: ['pdf'], download: [] } } };
    expect(await scan(Buffer.from('%PDF-1.7'), { service: 'dlp', method: 'REQMOD', icapServer })).toEqual(['file-type:pdf']);
    expect(await scan(peHeader(), { service: 'av', method: 'RESPMOD', icapServer })).toEqual([]);
  });
});
