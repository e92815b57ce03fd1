// Wide text without a byte-order mark (sniff.ts, wideTextLanes): UTF-16/32 of ASCII-range text
// leaves NULs in fixed lanes. The sniffer stops reading a head once no wide form can reach its
// NUL counts; that shortcut must answer exactly what counting the whole head answers.
import { describe, expect, it } from 'vitest';
import { SNIFF_BYTES, sniffFormat } from '../../../src/icap-server/extract/sniff.js';
import { seeded } from '../../corpus/secrets.js';

/** The rule counted over the whole head (4096 bytes at most), as it was written first. */
function wholeHead(head: Buffer): string | undefined {
  const n = Math.min(head.length, SNIFF_BYTES) & ~3;
  if (n < 8) return undefined;
  const zeros = [0, 0, 0, 0];
  for (let i = 0; i < n; i++) if (head[i] === 0) zeros[i & 3]!++;
  const lanes = n / 4;
  const mostly = (c: number) => c >= lanes * 0.9;
  const rarely = (c: number) => c <= lanes * 0.1;
  const [z0, z1, z2, z3] = zeros as [number, number, number, number];
  if (rarely(z0) && mostly(z1) && mostly(z2) && mostly(z3)) return 'utf-32le';
  if (mostly(z0) && mostly(z1) && mostly(z2) && rarely(z3)) return 'utf-32be';
  if (rarely(z0) && rarely(z2) && mostly(z1) && mostly(z3)) return 'utf-16le';
  if (mostly(z0) && mostly(z2) && rarely(z1) && rarely(z3)) return 'utf-16be';
  return undefined;
}

const WIDE = new Set(['utf-16le', 'utf-16be', 'utf-32le', 'utf-32be']);
const wideOrNot = (head: Buffer) => {
  const format = sniffFormat(head, {});
  return WIDE.has(format) ? format : undefined;
};

describe('wide text without a byte-order mark', () => {
  it('is recognised in each form, also with a few stray bytes', () => {
    const text = 'plain words of an ordinary memo, nothing else. '.repeat(40);
    for (const [encoding, bytes] of [
      ['utf-16le', Buffer.from(text, 'utf16le')],
      ['utf-16be', Buffer.from(text, 'utf16le').swap16()],
      ['utf-32le', Buffer.concat([...text].map((c) => Buffer.from([c.charCodeAt(0), 0, 0, 0])))],
      ['utf-32be', Buffer.concat([...text].map((c) => Buffer.from([0, 0, 0, c.charCodeAt(0)])))],
    ] as const) {
      expect(wideOrNot(bytes), encoding).toBe(encoding);
      const stray = Buffer.from(bytes);
      for (let i = 0; i < stray.length; i += 97) stray[i] = 0x41;
      expect(wideOrNot(stray), `${encoding} with stray bytes`).toBe(wholeHead(stray));
    }
  });

  it('answers what counting the whole head answers, on heads built to sit at the thresholds', () => {
    const rand = seeded(99);
    for (let round = 0; round < 4000; round++) {
      const length = 8 + Math.floor(rand() * (SNIFF_BYTES + 200));
      const head = Buffer.alloc(length);
      // each lane NUL with its own probability near 0, 0.1, 0.9 or 1, so every threshold is crossed
      const p = [0, 1, 2, 3].map(() => [0, 0.05, 0.1, 0.5, 0.88, 0.9, 0.92, 1][Math.floor(rand() * 8)]!);
      // some heads change character halfway, so an early part cannot decide alone
      const switchAt = rand() < 0.3 ? Math.floor(rand() * length) : length;
      for (let i = 0; i < length; i++) head[i] = rand() < (i < switchAt ? p[i & 3]! : 1 - p[i & 3]!) ? 0 : 1 + Math.floor(rand() * 126);
      head[0] ||= 1; // no magic number starts with a NUL at 0 here, but keep the first byte printable-ish
      expect(wideOrNot(head), `round ${round}`).toBe(wholeHead(head));
    }
  });
});
