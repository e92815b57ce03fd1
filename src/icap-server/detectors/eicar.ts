// The EICAR anti-virus test file: exactly the 68-byte standard string at the start of the file,
// optionally followed by whitespace (space, tab, CR, LF, Ctrl-Z) up to 128 bytes in all, as the
// EICAR standard allows. The string elsewhere in a file is not the test file.
import type { HeadProbeFactory } from './head-probe.js';
import { HeadBuffer } from './head-probe.js';

export const EICAR = Buffer.from('X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*', 'latin1');
export const EICAR_THREAT = 'EICAR-Test-File';
const MAX_FILE_BYTES = 128;
const TRAILING = new Set([0x20, 0x09, 0x0d, 0x0a, 0x1a]);

export function isEicar(file: Buffer): boolean {
  if (file.length < EICAR.length || file.length > MAX_FILE_BYTES) return false;
  if (!file.subarray(0, EICAR.length).equals(EICAR)) return false;
  for (let i = EICAR.length; i < file.length; i++) if (!TRAILING.has(file[i] as number)) return false;
  return true;
}

export const eicarProbe: HeadProbeFactory = () => {
  const buffer = new HeadBuffer(MAX_FILE_BYTES);
  return {
    write: (chunk) => buffer.write(chunk),
    end(findings) {
      if (buffer.totalBytes <= MAX_FILE_BYTES && isEicar(buffer.head)) findings.add(EICAR_THREAT, 'malware');
    },
  };
};
