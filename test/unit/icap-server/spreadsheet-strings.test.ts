// SharedStrings: the kernel's strings in texts of its calls (one-byte ones joined), the tokenizer's after them.
import { describe, expect, it } from 'vitest';
import { SharedStrings } from '../../../src/icap-server/extract/spreadsheet-strings.js';
import { listOf } from './shared-strings-list.js';

/** `strings` as a kernel call hands them over: their UTF-8 bytes in one buffer, start and end of each in UTF-16 units. */
function call(strings: readonly string[]): { utf8: Buffer; records: Int32Array; chars: number } {
  const records = new Int32Array(2 * strings.length);
  let chars = 0;
  strings.forEach((s, k) => {
    records[2 * k] = chars;
    chars += s.length;
    records[2 * k + 1] = chars;
  });
  return { utf8: Buffer.from(strings.join('')), records, chars };
}

describe('SharedStrings', () => {
  it('the kernel strings of many calls (past the first bounds), then the tokenizer strings, by index', () => {
    const table = new SharedStrings();
    const want: string[] = [];
    for (let k = 0; k < 700; k++) {
      const strings = [`caf\u00e9 ${k}`, '', `\ud83d\ude00 4111 ${k}`];
      const { utf8, records, chars } = call(strings);
      table.addRead(utf8, records, strings.length, chars);
      // The kernel's memory is written again by its next call: nothing of it is kept.
      utf8.fill(0x41);
      want.push(...strings);
    }
    for (const s of ['after', '\u65e5\u672c']) {
      table.add(s);
      want.push(s);
    }
    expect(table.length).toBe(want.length);
    expect(listOf(table)).toEqual(want);
    expect(table.get(want.length)).toBeUndefined();
    expect(table.get(-1)).toBeUndefined();
  });

  it('one-byte calls joined past 256 Ki characters, a call with a character past Latin-1 on its own, in order', () => {
    const table = new SharedStrings();
    const want: string[] = [];
    for (let k = 0; k < 12; k++) {
      const strings = Array.from({ length: 900 }, (_, i) => `${k === 5 && i === 3 ? '\u65e5' : k === 8 ? '\u00e9' : ''}row ${k}.${i} ${'x'.repeat(i % 200)}`);
      const { utf8, records, chars } = call(strings);
      table.addRead(utf8, records, strings.length, chars);
      want.push(...strings);
    }
    expect(listOf(table)).toEqual(want);
  });

  it('kernel strings after tokenizer strings keep their order (decoded as they come)', () => {
    const table = new SharedStrings();
    table.add('first');
    const { utf8, records, chars } = call(['second', 'th\u00efrd']);
    table.addRead(utf8, records, 2, chars);
    expect(listOf(table)).toEqual(['first', 'second', 'th\u00efrd']);
  });

  it('an empty table, and strings asked for between two of the kernel\'s calls', () => {
    expect(listOf(new SharedStrings())).toEqual([]);
    expect(new SharedStrings().get(-1)).toBeUndefined();
    const table = new SharedStrings();
    const first = call(['a', 'b']);
    table.addRead(first.utf8, first.records, 2, first.chars);
    expect(table.get(1)).toBe('b');
    const second = call(['c']);
    table.addRead(second.utf8, second.records, 1, second.chars);
    expect(listOf(table)).toEqual(['a', 'b', 'c']);
  });
});
